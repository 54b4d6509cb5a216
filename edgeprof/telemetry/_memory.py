"""Memory figures: process RSS (psutil), the peak RSS of a window (``PeakRSS``), CUDA
allocator peaks (torch, only if already loaded), and unified memory on a Jetson
(``/proc/meminfo``).

Method ``vmhwm-reset`` (Linux): write ``5`` to ``/proc/self/clear_refs``, which resets the
kernel's high-water mark ``VmHWM``, then read ``VmHWM`` at the end — the exact peak RSS of
the window, with no sampling. Elsewhere, method ``rss-sampled``: a daemon thread samples RSS
with psutil every ``period_s`` (a lower bound of the true peak). ``ru_maxrss`` is not used:
it is a process-lifetime maximum and cannot be reset.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import psutil

from edgeprof.device._fs import read_meminfo


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


def unified_memory() -> dict[str, int]:
    """Jetson/host memory from ``/proc/meminfo``: total, available and, on nvgpu kernels
    (Orin/Xavier), ``NvMapMemUsed`` — the system RAM mapped by the GPU."""
    info = read_meminfo()
    keys = {"MemTotal": "mem_total_bytes", "MemAvailable": "mem_available_bytes",
            "NvMapMemUsed": "nvmap_used_bytes"}
    return {out: info[k] for k, out in keys.items() if k in info}


def memory_snapshot() -> dict[str, int]:
    """Process RSS, CUDA peaks and system/unified memory now (bytes)."""
    out: dict[str, int] = {}
    rss = process_rss_bytes()
    if rss is not None:
        out["rss_bytes"] = rss
    out.update(cuda_peaks())
    out.update(unified_memory())
    return out


_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


def _vmhwm_bytes() -> int | None:
    try:
        with open(_STATUS) as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_vmhwm() -> bool:
    try:
        with open(_CLEAR_REFS, "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _vmhwm_bytes() is not None


class PeakRSS:
    """Context manager: ``with PeakRSS() as peak: ...``; then ``peak.bytes``, ``peak.method``."""

    def __init__(self, period_s: float = 0.005) -> None:
        self.period_s = period_s
        self.bytes: int | None = None
        self.method = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._max = 0

    def __enter__(self) -> PeakRSS:
        if _reset_vmhwm():
            self.method = "vmhwm-reset"
            return self
        import psutil

        self.method = "rss-sampled"
        proc = psutil.Process(os.getpid())
        self._max = proc.memory_info().rss

        def sample() -> None:
            while not self._stop.wait(self.period_s):
                self._max = max(self._max, proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, name="edgeprof-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.method == "vmhwm-reset":
            self.bytes = _vmhwm_bytes()
            return
        import psutil

        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.bytes = max(self._max, psutil.Process(os.getpid()).memory_info().rss)
