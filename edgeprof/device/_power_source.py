"""What a hardware power source reads, in SI units: the base class each hardware family's
source implements (NVML, Jetson rails, tegrastats, RAPL), and counter wrap-around, handled
where a counter is read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass
class Reading:
    """One read of a source. Watts, joules, MHz, °C; ``None`` when not measurable.

    ``energy_j`` is a cumulative hardware counter (already unwrapped), or ``None`` where the
    hardware has none; ``throttle`` lists reasons the hardware reports (``thermal``,
    ``power-cap``).
    """

    total_w: float | None
    rails_w: dict[str, float] = field(default_factory=dict)
    energy_j: float | None = None
    clocks_mhz: dict[str, float] = field(default_factory=dict)
    temps_c: dict[str, float] = field(default_factory=dict)
    throttle: list[str] = field(default_factory=list)
    mem_used_bytes: int | None = None


class PowerSource(ABC):
    """A power source. Subclasses set ``name`` and ``update_period_s`` (how often the sensor's
    value changes; windows shorter than that are flagged ``short-window``)."""

    name: str = "none"
    update_period_s: float = 0.0
    total_rule: str = ""  # how the total is formed, e.g. "VDD_IN" or "sum of rails"

    @abstractmethod
    def read(self) -> Reading:
        """Read the sensor now (called from the sampler thread)."""

    def describe(self) -> dict:
        """Static facts recorded with the run (device name, rails, paths)."""
        return {"source": self.name, "total": self.total_rule}

    def close(self) -> None:
        """Release handles (NVML, subprocesses). Optional."""
        return None


class NoSource(PowerSource):
    """Stand-in when no power sensor exists: power is ``None``, never zero."""

    name = "none"

    def read(self) -> Reading:
        return Reading(total_w=None)

    def describe(self) -> dict:
        return {"source": "none", "total": "power unavailable"}


def unwrap_delta(previous: int, current: int, max_range: int) -> int:
    """Counter increase from ``previous`` to ``current`` for a counter that wraps at
    ``max_range`` (RAPL ``max_energy_range_uj``); assumes at most one wrap between reads."""
    delta = current - previous
    if delta < 0:
        delta += max_range
    return delta
