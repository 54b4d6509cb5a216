"""Replayable filesystem roots and small tolerant readers for sysfs/procfs files."""

from __future__ import annotations

import os
from pathlib import Path


def sysfs_root() -> Path:
    """``EDGEPROF_SYSFS_ROOT`` (default ``/sys``): point it at a fixture tree to replay a board."""
    return Path(os.environ.get("EDGEPROF_SYSFS_ROOT", "/sys"))


def procfs_root() -> Path:
    """``EDGEPROF_PROCFS_ROOT`` (default ``/proc``)."""
    return Path(os.environ.get("EDGEPROF_PROCFS_ROOT", "/proc"))


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
