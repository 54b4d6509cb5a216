"""Memory figures: process RSS (psutil), CUDA allocator peaks (torch, only if already loaded),
and unified memory on a Jetson (``/proc/meminfo``)."""

from __future__ import annotations

import sys
from typing import Any

import psutil

from edgeprof.telemetry.host import unified_memory


def process_rss_bytes(proc: psutil.Process | None = None) -> int | None:
    try:
        return int((proc or psutil.Process()).memory_info().rss)
    except (psutil.Error, OSError):
        return None


def cuda_peaks() -> dict[str, int]:
    """``torch.cuda.max_memory_allocated/reserved`` — read only when the engine has already
    imported torch and initialised CUDA (never imports torch itself)."""
    torch: Any = sys.modules.get("torch")
    if torch is None:
        return {}
    try:
        if not torch.cuda.is_available() or not torch.cuda.is_initialized():
            return {}
        return {"cuda_max_allocated_bytes": int(torch.cuda.max_memory_allocated()),
                "cuda_max_reserved_bytes": int(torch.cuda.max_memory_reserved())}
    except Exception:
        return {}


def memory_snapshot() -> dict[str, int]:
    """Process RSS, CUDA peaks and system/unified memory now (bytes)."""
    out: dict[str, int] = {}
    rss = process_rss_bytes()
    if rss is not None:
        out["rss_bytes"] = rss
    out.update(cuda_peaks())
    out.update(unified_memory())
    return out
