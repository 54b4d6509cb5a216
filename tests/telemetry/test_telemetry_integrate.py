"""Energy integration against analytic signals, counters and wrap-around."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.telemetry._integrate import counter_energy, integrate_power, unwrap_delta

S = 1_000_000_000  # ns per second


def test_constant_power_is_exact():
    ts = [k * 50_000_000 for k in range(21)]  # 0..1 s every 50 ms
    e, n, flags = integrate_power(ts, [7.5] * len(ts), 120_000_000, 870_000_000)
    assert e == pytest.approx(7.5 * 0.75, rel=1e-12)
    assert n == 15 and flags == []


def test_ramp_is_exact_with_linear_edges():
    ts = [k * 100_000_000 for k in range(11)]
    p = [2.0 + 3.0 * t / S for t in ts]  # P(t) = 2 + 3t W
    t0, t1 = 130_000_000, 910_000_000
    expected = 2.0 * (0.91 - 0.13) + 1.5 * (0.91**2 - 0.13**2)
    e, _, _ = integrate_power(ts, p, t0, t1)
    assert e == pytest.approx(expected, rel=1e-12)


def test_step_inside_a_short_window_is_the_interpolated_area():
    # Samples 100 ms apart; power steps 2 W → 10 W between the samples at 0.2 s and 0.3 s.
    ts = [k * 100_000_000 for k in range(6)]
    p = [2.0, 2.0, 2.0, 10.0, 10.0, 10.0]
    t0, t1 = 220_000_000, 260_000_000  # 40 ms window between two samples
    e, n, _ = integrate_power(ts, p, t0, t1)
    # On the line from (0.2 s, 2 W) to (0.3 s, 10 W): P(0.22)=3.6, P(0.26)=6.8.
    assert e == pytest.approx(0.5 * (3.6 + 6.8) * 0.04, rel=1e-12)
    assert n == 0
    assert 2.0 * 0.04 < e < 10.0 * 0.04


def test_window_beyond_samples_is_held_and_flagged():
    e, _, flags = integrate_power([S, 2 * S], [4.0, 4.0], 0, 3 * S)
    assert e == pytest.approx(12.0)
    assert flags == ["extrapolated"]


def test_bad_windows_raise():
    with pytest.raises(ValueError, match="no samples"):
        integrate_power([], [], 0, 1)
    with pytest.raises(ValueError, match="ends before it starts"):
        integrate_power([0, 1], [1.0, 1.0], 5, 1)
    with pytest.raises(ValueError, match="ends before it starts"):
        integrate_power([0, 10], [1.0, 1.0], 5, 4)  # one nanosecond backwards
    assert integrate_power([0, 10], [1.0, 1.0], 5, 5)[0] == 0.0  # empty window, no energy


def test_counter_energy_interpolates_the_edges():
    ts = [0, S, 2 * S]
    ej = [100.0, 110.0, 130.0]
    assert counter_energy(ts, ej, S // 2, 3 * S // 2) == pytest.approx(15.0)


def test_rapl_wrap_around():
    max_range = 262_143_328_850
    assert unwrap_delta(max_range - 1_000, 4_000, max_range) == 5_000
    assert unwrap_delta(1_000, 4_000, max_range) == 3_000


@given(
    st.lists(st.integers(1, 10_000_000), min_size=2, max_size=40),
    st.floats(0.1, 500.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 1.0),
)
def test_constant_power_any_spacing(gaps, watts, a, b):
    ts = [0]
    for g in gaps:
        ts.append(ts[-1] + g)
    lo, hi = sorted((a, b))
    t0, t1 = int(lo * ts[-1]), int(hi * ts[-1])
    e, _, _ = integrate_power(ts, [watts] * len(ts), t0, t1)
    assert e == pytest.approx(watts * (t1 - t0) / S, rel=1e-9, abs=1e-12)


def test_samples_on_the_window_edges_are_counted():
    """The count is of samples in the closed window [t0, t1], as the counter path counts them
    (sampler._energy: ``t0 <= t <= t1``); edges on samples add no area."""
    ts = [0, S, 2 * S, 3 * S]
    e, n, flags = integrate_power(ts, [1.0, 3.0, 5.0, 7.0], S, 3 * S)
    assert n == 3 and flags == []
    assert e == pytest.approx(0.5 * (3 + 5) + 0.5 * (5 + 7))  # two trapezoids
    _, n_inner, _ = integrate_power(ts, [1.0] * 4, S // 2, 5 * S // 2)
    assert n_inner == 2  # the samples at 1 s and 2 s


def test_either_edge_alone_beyond_the_samples_is_flagged():
    ts, p = [S, 2 * S], [2.0, 4.0]
    e_late, _, late = integrate_power(ts, p, S, 3 * S)
    e_early, _, early = integrate_power(ts, p, 0, 2 * S)
    assert late == ["extrapolated"] and early == ["extrapolated"]
    assert e_late == pytest.approx(3.0 + 4.0)  # ramp 2→4 W over 1 s, then 4 W held 1 s
    assert e_early == pytest.approx(2.0 + 3.0)  # 2 W held 1 s, then the ramp
    assert integrate_power(ts, p, S, 2 * S)[2] == []  # exactly the sampled span


def test_unwrap_without_change_is_zero():
    max_range = 262_143_328_850
    assert unwrap_delta(12_345, 12_345, max_range) == 0  # no energy, not one full wrap
    assert unwrap_delta(max_range - 1, 0, max_range) == 1
