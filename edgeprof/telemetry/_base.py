"""The telemetry contract the sweep relies on (the full samplers live beside this file).

A sampler runs on a background thread while a workload runs. The sweep asks it for the
energy of each phase by the phase's own ``perf_counter_ns`` stamps. A source that cannot
measure power gives ``None`` values, never zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class PhaseEnergy:
    """Power and energy over one window. Watts and joules; ``None`` when not measurable."""

    avg_power_w: float | None
    energy_j: float | None
    n_samples: int = 0
    flags: list[str] = field(default_factory=list)
    # Added by the samplers (defaults keep older callers working):
    duration_s: float | None = None
    rails_j: dict[str, float] = field(default_factory=dict)  # per-rail joules, when known
    above_idle_j: float | None = None  # energy minus idle power × duration (after idle_baseline)
    method: str | None = None  # "counter" (hardware energy counter) or "integrated" (samples)
    peak_rss_bytes: int | None = None  # process RSS peak seen by the sampler in the window


class PowerSampler(Protocol):
    """What the sweep needs from a sampler."""

    source: str  # e.g. "nvml", "jetson-hwmon", "rapl", "none"

    @property
    def available(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def window(self, t0_ns: int, t1_ns: int) -> PhaseEnergy: ...

    def idle_baseline(self, duration_s: float = 2.0) -> PhaseEnergy:
        """Sample with nothing running for ``duration_s``; the sweep calls it once first."""
        ...

    def conditions(self) -> dict:
        """A snapshot of clocks, temperatures and power mode (recorded per point)."""
        ...

    def throttle_flags(self, t0_ns: int, t1_ns: int) -> list[str]:
        """Flags such as ``throttled:thermal`` for the window (empty when none seen)."""
        ...


class NullSampler:
    """Stand-in when no power source exists: every window reports power as unavailable."""

    source = "none"

    @property
    def available(self) -> bool:
        return False

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def window(self, t0_ns: int, t1_ns: int) -> PhaseEnergy:
        return PhaseEnergy(None, None, 0, ["power-unavailable"])

    def idle_baseline(self, duration_s: float = 2.0) -> PhaseEnergy:
        return PhaseEnergy(None, None, 0, ["power-unavailable"])

    def conditions(self) -> dict:
        return {}

    def throttle_flags(self, t0_ns: int, t1_ns: int) -> list[str]:
        return []

    def __enter__(self) -> NullSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
