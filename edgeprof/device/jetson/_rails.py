"""Jetson power rails in sysfs: INA3221 (hwmon on JetPack 5+, iio on JetPack 4) and INA238.

Discovery follows jetson-stats (``jtop/core/power.py``): every I2C device whose ``name``
contains ``ina3221`` (or is ``ina238``) is a power monitor; its rails are ``inN_label`` (hwmon,
power = ``inN_input`` mV × ``currN_input`` mA) or ``rail_name_N`` (iio, ``in_powerN_input``
mW). Channels labelled ``NC`` and the INA3221 "sum of shunt voltages" channel are skipped.
The board total is the ``VDD_IN`` / ``POM_5V_IN`` / ``VIN`` rail where one exists, else the sum
of the rails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgeprof.device._fs import read_int, read_text, sysfs_root
from edgeprof.device._power_source import PowerSource, Reading

TOTAL_RAILS = ("VDD_IN", "POM_5V_IN", "VIN")
INA3221_PERIOD_S = 0.01  # hwmon ``update_interval`` is read when present (ms)


@dataclass(frozen=True)
class Rail:
    """One monitored rail: where its numbers live and how to turn them into watts."""

    name: str
    kind: str  # "hwmon-ina3221" | "iio" | "hwmon-ina238"
    volt: Path | None = None  # mV
    curr: Path | None = None  # mA
    power: Path | None = None  # mW (iio) or µW (ina238)

    def read_w(self) -> float | None:
        if self.kind == "iio" and self.power is not None:
            mw = read_int(self.power)
            return None if mw is None else mw / 1e3
        if self.kind == "hwmon-ina238" and self.power is not None:
            uw = read_int(self.power)
            if uw is not None:
                return uw / 1e6
        if self.volt is None or self.curr is None:
            return None
        mv, ma = read_int(self.volt), read_int(self.curr)
        if mv is None or ma is None:
            return None
        return mv * ma / 1e6


def _monitor_dirs(root: Path) -> list[tuple[str, Path]]:
    """(chip name, device folder) for each power monitor, deduplicated by real path."""
    seen: set[Path] = set()
    found: list[tuple[str, Path]] = []
    candidates = sorted((root / "bus/i2c/devices").glob("*"))
    for drv in ("ina3221", "ina3221x", "ina238"):
        candidates += sorted((root / "bus/i2c/drivers" / drv).glob("*-*"))
    for dev in candidates:
        name = read_text(dev / "name") or ""
        if "ina3221" not in name and name != "ina238":
            continue
        real = dev.resolve()
        if real in seen:
            continue
        seen.add(real)
        found.append((name, dev))
    return found


def _hwmon_ina3221(folder: Path) -> list[Rail]:
    rails = []
    for label_file in sorted(folder.glob("in*_label")):
        num = int(re.sub(r"\D", "", label_file.name.split("_")[0]) or 0)
        label = read_text(label_file) or ""
        if num == 7 or "NC" in label.split("_") or label == "NC" or "sum of shunt" in label:
            continue
        rails.append(Rail(label, "hwmon-ina3221", folder / f"in{num}_input",
                          folder / f"curr{num}_input"))
    return rails


def _iio(folder: Path) -> list[Rail]:
    rails = []
    for name_file in sorted(folder.glob("rail_name_*")):
        num = name_file.name.rsplit("_", 1)[1]
        label = read_text(name_file) or f"rail{num}"
        rails.append(Rail(label, "iio", folder / f"in_voltage{num}_input",
                          folder / f"in_current{num}_input", folder / f"in_power{num}_input"))
    return rails


def _ina238(folder: Path) -> list[Rail]:
    # Mainline ina238 hwmon: in1_input bus mV, curr1_input mA, power1_input µW; no labels.
    # jetson-stats (PR #900) reports the Thor carrier board's INA238 as the VIN rail.
    label = read_text(folder / "in1_label") or "VIN"
    return [Rail(label, "hwmon-ina238", folder / "in1_input", folder / "curr1_input",
                 folder / "power1_input")]


def find_rails(root: Path | None = None) -> tuple[list[Rail], float]:
    """All rails on the board and the sensors' update period in seconds."""
    root = root or sysfs_root()
    rails: list[Rail] = []
    period = 0.0
    for chip, dev in _monitor_dirs(root):
        for hw in sorted(dev.glob("hwmon/hwmon*")):
            if chip == "ina238":
                rails += _ina238(hw)
            else:
                rails += _hwmon_ina3221(hw)
            interval_ms = read_int(hw / "update_interval")
            period = max(period, interval_ms / 1e3 if interval_ms else INA3221_PERIOD_S)
        for iio in sorted(dev.glob("iio:device*")):
            rails += _iio(iio)
            period = max(period, INA3221_PERIOD_S)
    unique: dict[str, Rail] = {}
    for rail in rails:
        unique.setdefault(rail.name, rail)
    return list(unique.values()), period


def board_total(rails_w: dict[str, float]) -> tuple[float | None, str]:
    """The board total and the rule used: a total rail where one exists, else the sum."""
    for name in TOTAL_RAILS:
        if name in rails_w:
            return rails_w[name], name
    if not rails_w:
        return None, "none"
    return sum(rails_w.values()), "sum of rails"


class JetsonRailsSource(PowerSource):
    """Rails read straight from sysfs on the sampler thread."""

    def __init__(self, rails: list[Rail], period_s: float) -> None:
        self.rails = rails
        self.update_period_s = period_s
        kinds = {r.kind for r in rails}
        self.name = "jetson-iio" if kinds == {"iio"} else "jetson-hwmon"
        names = {r.name for r in rails}
        self.total_rule = next((n for n in TOTAL_RAILS if n in names), "sum of rails")

    @classmethod
    def detect(cls, root: Path | None = None) -> JetsonRailsSource | None:
        rails, period = find_rails(root)
        readable = [r for r in rails if r.read_w() is not None]
        return cls(readable, period) if readable else None

    def read(self) -> Reading:
        rails_w = {}
        for rail in self.rails:
            w = rail.read_w()
            if w is not None:
                rails_w[rail.name] = w
        total, _ = board_total(rails_w)
        return Reading(total_w=total, rails_w=rails_w)

    def describe(self) -> dict:
        return {
            "source": self.name,
            "total": self.total_rule,
            "rails": {r.name: str(r.power or r.curr) for r in self.rails},
            "sensor_period_s": self.update_period_s,
        }
