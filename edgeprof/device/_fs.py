"""The one filesystem-root helper: replayable ``/sys``, ``/proc`` and ``/etc`` roots and small
tolerant readers for the files hardware code reads (meminfo, thermal zones).

Every hardware module reads through these roots, so a fixture tree laid out like a real
board (``EDGEPROF_SYSFS_ROOT``, ``EDGEPROF_PROCFS_ROOT``, ``EDGEPROF_ETC_ROOT``) replays it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def _root(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default)


def sysfs_root() -> Path:
    """``EDGEPROF_SYSFS_ROOT`` (default ``/sys``): point it at a fixture tree to replay a board."""
    return _root("EDGEPROF_SYSFS_ROOT", "/sys")


def procfs_root() -> Path:
    """``EDGEPROF_PROCFS_ROOT`` (default ``/proc``)."""
    return _root("EDGEPROF_PROCFS_ROOT", "/proc")


def etc_root() -> Path:
    """``EDGEPROF_ETC_ROOT`` (default ``/etc``): ``nv_tegra_release``, ``nvpmodel.conf``."""
    return _root("EDGEPROF_ETC_ROOT", "/etc")


def read_raw(path: Path) -> str | None:
    """The unstripped content of a file (device-tree strings keep their NULs), or ``None``."""
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def read_text(path: Path) -> str | None:
    """The stripped content of a file, or ``None`` when it is missing or unreadable."""
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return None


def read_int(path: Path) -> int | None:
    """The first integer in a file (``"32760 ma"`` reads 32760), or ``None``."""
    text = read_text(path)
    if not text:
        return None
    try:
        return int(text.split()[0])
    except ValueError:
        return None


def read_meminfo(root: Path | None = None) -> dict[str, int]:
    """``/proc/meminfo`` as bytes per key (``MemTotal``, ``MemAvailable``, ``NvMapMemUsed``…)."""
    text = read_text((root or procfs_root()) / "meminfo") or ""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts:
            continue
        try:
            value = int(parts[0])
        except ValueError:
            continue
        out[key.strip()] = value * 1024 if len(parts) > 1 and parts[1].lower() == "kb" else value
    return out


def thermal_zones(root: Path | None = None) -> dict[str, float]:
    """Temperature per thermal-zone type in °C, from ``/sys/class/thermal/thermal_zoneN``.

    Zones that fail to read, and sensors reporting nonsense (Jetson reports -256 °C for zones
    that are off), are left out; of two zones with one type the lower-numbered one is kept.
    """
    out: dict[str, float] = {}
    for zone in sorted((root or sysfs_root()).glob("class/thermal/thermal_zone*"),
                       key=lambda p: int(re.sub(r"\D", "", p.name) or 0)):
        kind = read_text(zone / "type") or zone.name
        milli = read_int(zone / "temp")
        if milli is not None and -40_000 < milli < 150_000:
            out.setdefault(kind, milli / 1e3)
    return out
