"""Clocks, temperatures, memory and the Jetson power mode, read from sysfs/procfs and tools.

Paths follow the kernel's ABI and jetson-stats: thermal zones
``/sys/class/thermal/thermal_zoneN/{type,temp}`` (m°C); CPU clocks
``/sys/devices/system/cpu/cpuN/cpufreq/scaling_cur_freq`` (kHz); the integrated GPU's devfreq
node ``/sys/class/devfreq/<node>`` (``17000000.ga10b`` on Orin, ``17000000.gv11b`` on Xavier,
``gpu-gpc-0`` on Thor; ``cur_freq`` in Hz).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from edgeprof.telemetry._fs import read_int, read_meminfo, read_text, sysfs_root

GPU_DEVFREQ_NAMES = ("gv11b", "gp10b", "ga10b", "gb10b", "gpu")


def thermal_zones(root: Path | None = None) -> dict[str, float]:
    """Temperature per zone type in °C (zones that fail to read are left out)."""
    out: dict[str, float] = {}
    for zone in sorted((root or sysfs_root()).glob("class/thermal/thermal_zone*"),
                       key=lambda p: int(re.sub(r"\D", "", p.name) or 0)):
        kind = read_text(zone / "type") or zone.name
        milli = read_int(zone / "temp")
        if milli is not None and milli > -40000:  # Jetson reports -256 °C for off zones
            out.setdefault(kind, milli / 1e3)
    return out


def cpu_freqs_mhz(root: Path | None = None) -> dict[str, float]:
    out = {}
    base = (root or sysfs_root()) / "devices/system/cpu"
    for cpu in sorted(base.glob("cpu[0-9]*"), key=lambda p: int(p.name[3:])):
        khz = read_int(cpu / "cpufreq/scaling_cur_freq")
        if khz is not None:
            out[cpu.name] = khz / 1e3
    return out


def gpu_devfreq(root: Path | None = None) -> Path | None:
    """The integrated GPU's devfreq folder, or ``None`` (not a Jetson)."""
    base = (root or sysfs_root()) / "class/devfreq"
    for node in sorted(base.glob("*")):
        of_name = read_text(node / "device/of_node/name")
        tail = node.name.split(".")[-1]
        is_gpu = of_name in GPU_DEVFREQ_NAMES or tail in GPU_DEVFREQ_NAMES
        if (is_gpu or node.name == "gpu-gpc-0") and (node / "cur_freq").exists():
            return node
    return None


def gpu_clock_mhz(node: Path | None) -> dict[str, float]:
    """``{"gpu": MHz, "gpu_max": MHz}`` from a devfreq node."""
    if node is None:
        return {}
    out = {}
    cur, top = read_int(node / "cur_freq"), read_int(node / "max_freq")
    if cur is not None:
        out["gpu"] = cur / 1e6
    if top is not None:
        out["gpu_max"] = top / 1e6
    return out


def unified_memory() -> dict[str, int]:
    """Jetson/host memory from ``/proc/meminfo``: total, available and, on nvgpu kernels
    (Orin/Xavier), ``NvMapMemUsed`` — the system RAM mapped by the GPU."""
    info = read_meminfo()
    keys = {"MemTotal": "mem_total_bytes", "MemAvailable": "mem_available_bytes",
            "NvMapMemUsed": "nvmap_used_bytes"}
    return {out: info[k] for k, out in keys.items() if k in info}


# ---- tool output (recorded with the run) ----------------------------------------------

def parse_nvpmodel(text: str) -> dict[str, Any] | None:
    """``nvpmodel -q`` output (``NV Power Mode: MAXN`` then the mode id) → name and id."""
    m = re.search(r"NV Power Mode:\s*(\S+)", text)
    if not m:
        return None
    after = text[m.end():].split()
    mode_id = int(after[0]) if after and after[0].isdigit() else None
    return {"name": m.group(1), "id": mode_id}


def parse_jetson_clocks(text: str) -> dict[str, Any] | None:
    """``jetson_clocks --show`` → CPU/GPU/EMC min/max/current (Hz or kHz as printed), the
    power mode, and ``pinned``: True when every listed clock sits at min == max."""
    out: dict[str, Any] = {"cpus": {}}
    for m in re.finditer(r"^(cpu\d+): Online=(\d) .*?MinFreq=(\d+) MaxFreq=(\d+) "
                         r"CurrentFreq=(\d+)", text, re.M):
        out["cpus"][m.group(1)] = {"online": m.group(2) == "1", "min": int(m.group(3)),
                                   "max": int(m.group(4)), "cur": int(m.group(5))}
    for unit in ("GPU", "EMC"):
        m = re.search(rf"^{unit} MinFreq=(\d+) MaxFreq=(\d+) CurrentFreq=(\d+)", text, re.M)
        if m:
            out[unit.lower()] = {"min": int(m.group(1)), "max": int(m.group(2)),
                                 "cur": int(m.group(3))}
    if m := re.search(r"NV Power Mode:\s*(\S+)", text):
        out["power_mode"] = m.group(1)
    clocks = [*out["cpus"].values(), *(out[k] for k in ("gpu",) if k in out)]
    if not clocks:
        return None
    out["pinned"] = all(c["min"] == c["max"] for c in clocks if c.get("online", True))
    return out


def run_tool(args: list[str], timeout: float = 5.0) -> str | None:
    """Output of a board tool when it is installed and succeeds, else ``None``."""
    if shutil.which(args[0]) is None:
        return None
    try:
        res = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout if res.returncode == 0 else None


def jetson_power_state() -> dict[str, Any]:
    """Power mode (``nvpmodel -q``) and ``jetson_clocks --show`` state, where the tools exist
    (``jetson_clocks --show`` needs root; it is skipped quietly when it fails)."""
    out: dict[str, Any] = {}
    text = run_tool(["nvpmodel", "-q"])
    if text and (mode := parse_nvpmodel(text)):
        out["power_mode"] = mode
    text = run_tool(["jetson_clocks", "--show"])
    if text and (state := parse_jetson_clocks(text)):
        out["jetson_clocks"] = state
    return out
