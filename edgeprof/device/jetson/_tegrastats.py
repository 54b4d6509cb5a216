"""``tegrastats`` output: a parser and a fallback source that runs the tool in the background.

Lines look like (JetPack 5/6)::

    RAM 4722/7844MB (lfb 1x512kB) ... GR3D_FREQ 0%@[305] cpu@47.5C ... VDD_GPU_SOC 3066mW/3066mW

and (JetPack 4) ``... GPU@51C ... VDD_IN 14025/14416 VDD_CPU 2209/2538``: each rail is
``NAME current/average`` in mW.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from typing import Any

from edgeprof.device._power_source import PowerSource, Reading
from edgeprof.device.jetson._rails import TOTAL_RAILS, board_total

_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]+)\s+(\d+)(?:mW)?/(\d+)(?:mW)?(?=\s|$)")
_RAM = re.compile(r"\bRAM\s+(\d+)/(\d+)MB")
_GR3D = re.compile(r"\bGR3D_FREQ\s+(\d+)%(?:@\[?(\d+)(?:,\d+)*\]?)?")
_TEMP = re.compile(r"\b([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C\b")
_NOT_RAILS = {"RAM", "SWAP", "IRAM"}


def parse_line(line: str) -> dict[str, Any]:
    """One tegrastats line → ``rails_mw`` (current), ``ram_used_bytes``, ``ram_total_bytes``,
    ``gpu_load_pct``, ``gpu_mhz``, ``temps_c``. Missing fields are left out."""
    out: dict[str, Any] = {"rails_mw": {}, "temps_c": {}}
    for name, cur, _avg in _RAIL.findall(line):
        if name not in _NOT_RAILS:
            out["rails_mw"][name] = int(cur)
    if m := _RAM.search(line):
        out["ram_used_bytes"] = int(m.group(1)) * 2**20
        out["ram_total_bytes"] = int(m.group(2)) * 2**20
    if m := _GR3D.search(line):
        out["gpu_load_pct"] = int(m.group(1))
        if m.group(2):
            out["gpu_mhz"] = int(m.group(2))
    for name, value in _TEMP.findall(line):
        if float(value) > -40:  # -256 °C marks a powered-off zone
            out["temps_c"][name] = float(value)
    return out


def reading_from_line(line: str) -> Reading:
    parsed = parse_line(line)
    rails_w = {k: v / 1e3 for k, v in parsed["rails_mw"].items()}
    total, _ = board_total(rails_w)
    clocks = {"gpu": float(parsed["gpu_mhz"])} if "gpu_mhz" in parsed else {}
    return Reading(total_w=total, rails_w=rails_w, clocks_mhz=clocks, temps_c=parsed["temps_c"],
                   mem_used_bytes=parsed.get("ram_used_bytes"))


class TegrastatsSource(PowerSource):
    """Runs ``tegrastats --interval MS`` and keeps its latest line (used when sysfs rails are
    not readable). The value only changes once per interval."""

    name = "tegrastats"

    def __init__(self, interval_ms: int = 100, command: str = "tegrastats") -> None:
        self.update_period_s = interval_ms / 1e3
        self.total_rule = "VDD_IN/POM_5V_IN where present, else sum of rails"
        self._latest = Reading(total_w=None)
        self._lock = threading.Lock()
        self._first = threading.Event()
        self._proc = subprocess.Popen(
            [command, "--interval", str(interval_ms)], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )
        self._thread = threading.Thread(target=self._pump, name="edgeprof-tegrastats",
                                        daemon=True)
        self._thread.start()
        self._first.wait(timeout=max(2.0, 3 * self.update_period_s))

    @classmethod
    def detect(cls, interval_ms: int = 100) -> TegrastatsSource | None:
        exe = shutil.which("tegrastats")
        if exe is None:
            return None
        src = cls(interval_ms, exe)
        if src.read().total_w is None:
            src.close()
            return None
        return src

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            reading = reading_from_line(line)
            if reading.rails_w:
                with self._lock:
                    self._latest = reading
                self._first.set()

    def read(self) -> Reading:
        with self._lock:
            return self._latest

    def describe(self) -> dict:
        rails = list(self.read().rails_w)
        total = next((n for n in TOTAL_RAILS if n in rails), "sum of rails")
        return {"source": self.name, "total": total, "rails": rails,
                "sensor_period_s": self.update_period_s}

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._thread.join(timeout=2)
