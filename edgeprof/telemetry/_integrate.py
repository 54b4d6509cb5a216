"""Energy over a window from timestamped samples: trapezoid with linear edges, counters.

Power between two samples is taken as the straight line joining them; the window's edges are
interpolated on that line. Outside the sampled span the nearest sample is held (and flagged).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from edgeprof.device._power_source import unwrap_delta

NS = 1e-9

__all__ = ["counter_energy", "integrate_power", "unwrap_delta"]


def _interp(ts: Sequence[int], vs: Sequence[float], t: int) -> float:
    """The value at ``t`` on the piecewise-linear curve (held flat beyond the ends)."""
    i = bisect.bisect_right(ts, t)
    if i == 0:
        return vs[0]
    if i >= len(ts):
        return vs[-1]
    t0, t1 = ts[i - 1], ts[i]
    if t1 == t0:
        return vs[i]
    return vs[i - 1] + (vs[i] - vs[i - 1]) * (t - t0) / (t1 - t0)


def integrate_power(
    ts_ns: Sequence[int], power_w: Sequence[float], t0_ns: int, t1_ns: int
) -> tuple[float, int, list[str]]:
    """Joules over ``[t0_ns, t1_ns]``, the number of samples inside it (edges included), and
    flags.

    ``ts_ns`` must be increasing. Flags: ``extrapolated`` when the window reaches past the
    samples (the nearest sample is held there).
    """
    if not ts_ns:
        raise ValueError("no samples")
    if t1_ns < t0_ns:
        raise ValueError("window ends before it starts")
    flags: list[str] = []
    if t0_ns < ts_ns[0] or t1_ns > ts_ns[-1]:
        flags.append("extrapolated")
    lo = bisect.bisect_right(ts_ns, t0_ns)
    hi = bisect.bisect_left(ts_ns, t1_ns)
    pts_t = [t0_ns, *ts_ns[lo:hi], t1_ns]
    pts_v = [_interp(ts_ns, power_w, t0_ns), *power_w[lo:hi], _interp(ts_ns, power_w, t1_ns)]
    energy = 0.0
    for k in range(1, len(pts_t)):
        energy += 0.5 * (pts_v[k] + pts_v[k - 1]) * (pts_t[k] - pts_t[k - 1]) * NS
    inside = bisect.bisect_right(ts_ns, t1_ns) - bisect.bisect_left(ts_ns, t0_ns)  # [t0, t1]
    return energy, inside, flags


def counter_energy(
    ts_ns: Sequence[int], energy_j: Sequence[float], t0_ns: int, t1_ns: int
) -> float:
    """Joules over the window from a cumulative (already unwrapped) energy counter."""
    return _interp(ts_ns, energy_j, t1_ns) - _interp(ts_ns, energy_j, t0_ns)
