"""Intel (and, on recent kernels, AMD) CPUs through the powercap RAPL interface.

Each top-level zone ``/sys/class/powercap/intel-rapl:N`` (one per package) has ``energy_uj``
that wraps at ``max_energy_range_uj``; subzones (``intel-rapl:N:M``) are parts of the package
and are not added to the total. ``energy_uj`` is often readable by root only.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edgeprof.device._fs import read_int, read_text, sysfs_root
from edgeprof.device._power_source import PowerSource, Reading, unwrap_delta

RAPL_PERIOD_S = 0.001


@dataclass
class _Zone:
    name: str
    energy: Path
    max_range: int
    last_raw: int
    total_uj: int = 0


class RaplSource(PowerSource):
    """Package energy counters; power is the counter's slope between two reads."""

    name = "rapl"
    update_period_s = RAPL_PERIOD_S
    total_rule = "sum of packages"

    def __init__(self, zones: list[_Zone]) -> None:
        self.zones = zones
        self._lock = threading.Lock()
        self._last_t: int | None = None
        self._last_total: float | None = None

    @classmethod
    def detect(cls, root: Path | None = None) -> RaplSource | None:
        base = (root or sysfs_root()) / "class/powercap"
        zones = []
        for zone in sorted(base.glob("*-rapl:*")):
            if not re.fullmatch(r"[a-z]+-rapl:\d+", zone.name):
                continue
            raw, max_range = read_int(zone / "energy_uj"), read_int(zone / "max_energy_range_uj")
            if raw is None or not max_range:
                continue
            name = read_text(zone / "name") or zone.name
            zones.append(_Zone(f"{name}@{zone.name}", zone / "energy_uj", max_range, raw))
        return cls(zones) if zones else None

    def read(self) -> Reading:
        with self._lock:
            now = time.perf_counter_ns()
            for z in self.zones:
                raw = read_int(z.energy)
                if raw is None:
                    continue
                z.total_uj += unwrap_delta(z.last_raw, raw, z.max_range)
                z.last_raw = raw
            total_j = sum(z.total_uj for z in self.zones) / 1e6
            power = None
            if self._last_t is not None and now > self._last_t and self._last_total is not None:
                power = (total_j - self._last_total) / ((now - self._last_t) * 1e-9)
            self._last_t, self._last_total = now, total_j
        return Reading(total_w=power, energy_j=total_j)

    def describe(self) -> dict:
        return {"source": self.name, "total": self.total_rule,
                "zones": [z.name for z in self.zones]}
