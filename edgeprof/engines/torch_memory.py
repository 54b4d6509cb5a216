"""Peak resident memory of this process over a window (CPU runs).

Method ``vmhwm-reset`` (Linux): write ``5`` to ``/proc/self/clear_refs``, which resets the
kernel's high-water mark ``VmHWM``, then read ``VmHWM`` at the end — the exact peak RSS of
the window, with no sampling. Elsewhere, method ``rss-sampled``: a daemon thread samples RSS
with psutil every ``period_s`` (a lower bound of the true peak). ``ru_maxrss`` is not used:
it is a process-lifetime maximum and cannot be reset.
"""

from __future__ import annotations

import os
import threading

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
