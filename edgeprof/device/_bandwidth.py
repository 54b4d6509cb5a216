"""Measure this host's memory bandwidth with a short streaming benchmark (label: measured).

Two kernels over arrays several times larger than the last-level cache, with torch when it
imports (all its threads) and numpy otherwise:

- ``copy``: ``dst[:] = src`` — STREAM accounting, 2 × size bytes per pass (one read, one
  write; write-allocate traffic is not counted, as in STREAM).
- ``read``: a sum over ``src`` — 1 × size bytes per pass; closest to streaming weights in
  LLM decode.

Each pass is timed with ``perf_counter_ns``; the result is the median over passes (and the
best), after one untimed pass that touches every page.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from edgeprof.errors import UserInputError

METHODS = ("copy", "read")
_MIN_SIZE = 128 * 2**20
_L3_PATH = Path("/sys/devices/system/cpu/cpu0/cache/index3/size")


@dataclass(frozen=True)
class BandwidthResult:
    """Memory bandwidth in GB/s (10^9 bytes per second); ``provenance`` is ``measured``."""

    gbs: float  # median over passes
    method: str
    size_bytes: int  # bytes of one array
    repeats: int
    best_gbs: float = 0.0
    backend: str = ""
    threads: int | None = None
    samples_gbs: list[float] = field(default_factory=list)
    provenance: str = "measured"


def bytes_per_pass(method: str, size_bytes: int) -> int:
    """Bytes moved by one pass of ``method`` over an array of ``size_bytes`` bytes."""
    if method == "copy":
        return 2 * size_bytes
    if method == "read":
        return size_bytes
    raise UserInputError(f"Unknown bandwidth method {method!r}; use one of {', '.join(METHODS)}.")


def last_level_cache_bytes() -> int | None:
    """L3 size from sysfs (``32768K`` → bytes), None where unknown."""
    try:
        text = _L3_PATH.read_text().strip().upper()
    except OSError:
        return None
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError):
        return None


def default_size_bytes() -> int:
    """4 × the L3 cache, at least 128 MiB."""
    return max(_MIN_SIZE, 4 * (last_level_cache_bytes() or 0))


def measure_memory_bandwidth(seconds: float = 1.0, size_bytes: int | None = None,
                             method: str = "copy", min_repeats: int = 3) -> BandwidthResult:
    """Stream over arrays for about ``seconds`` and return the median GB/s."""
    if seconds <= 0:
        raise UserInputError(f"seconds must be > 0, got {seconds}.")
    size = default_size_bytes() if size_bytes is None else int(size_bytes)
    if size < 4096:
        raise UserInputError(f"size_bytes must be ≥ 4096, got {size}.")
    per_pass = bytes_per_pass(method, size)
    step, backend, threads = _kernel(method, size)
    step()  # touch every page, untimed
    samples: list[float] = []
    deadline = time.perf_counter_ns() + int(seconds * 1e9)
    while len(samples) < min_repeats or time.perf_counter_ns() < deadline:
        t0 = time.perf_counter_ns()
        step()
        dt = time.perf_counter_ns() - t0
        samples.append(per_pass / max(dt, 1))  # bytes/ns == GB/s
    return BandwidthResult(gbs=statistics.median(samples), method=method, size_bytes=size,
                           repeats=len(samples), best_gbs=max(samples), backend=backend,
                           threads=threads, samples_gbs=samples)


def _kernel(method: str, size: int):  # type: ignore[no-untyped-def]
    """A zero-argument pass over fresh arrays, the backend's name and its thread count."""
    n = size // 4
    try:
        import torch
    except ImportError:
        import numpy as np

        src = np.ones(n, dtype=np.float32)
        if method == "copy":
            dst = np.empty_like(src)
            return (lambda: np.copyto(dst, src)), "numpy", 1
        return (lambda: float(src.sum())), "numpy", 1
    src_t = torch.ones(n, dtype=torch.float32)
    if method == "copy":
        dst_t = torch.empty_like(src_t)
        return (lambda: dst_t.copy_(src_t)), "torch", torch.get_num_threads()
    return (lambda: float(src_t.sum())), "torch", torch.get_num_threads()
