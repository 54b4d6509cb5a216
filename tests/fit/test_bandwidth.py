"""Host memory bandwidth benchmark: byte accounting and a real (short) measurement."""

from __future__ import annotations

import pytest

from edgeprof.device import _bandwidth as bandwidth
from edgeprof.device._bandwidth import bytes_per_pass, measure_memory_bandwidth
from edgeprof.errors import UserInputError


def test_bytes_per_pass_counts_read_and_write() -> None:
    assert bytes_per_pass("copy", 1000) == 2000
    assert bytes_per_pass("read", 1000) == 1000
    with pytest.raises(UserInputError):
        bytes_per_pass("triad", 1000)


@pytest.mark.parametrize(("method", "factor"), [("copy", 2), ("read", 1)])
def test_gbs_is_bytes_moved_over_time(monkeypatch, method: str, factor: int) -> None:
    clock = iter(range(0, 10**9, 1000))  # each clock read advances 1000 ns
    monkeypatch.setattr(bandwidth.time, "perf_counter_ns", lambda: next(clock))
    size = 64 * 1024
    r = measure_memory_bandwidth(seconds=1e-6, size_bytes=size, method=method)
    assert r.repeats == 3
    assert r.gbs == pytest.approx(factor * size / 1000)  # bytes per ns == GB/s
    assert r.samples_gbs == [r.gbs] * 3 and r.provenance == "measured"


def test_real_measurement_is_positive() -> None:
    r = measure_memory_bandwidth(seconds=0.05, size_bytes=8 * 2**20)
    assert r.gbs > 0 and r.best_gbs >= r.gbs and r.repeats >= 3
    assert r.method == "copy" and r.size_bytes == 8 * 2**20


def test_default_size_exceeds_cache() -> None:
    l3 = bandwidth.last_level_cache_bytes()
    assert bandwidth.default_size_bytes() >= max(128 * 2**20, 4 * (l3 or 0))


def test_bad_input_is_user_error() -> None:
    with pytest.raises(UserInputError):
        measure_memory_bandwidth(seconds=0)
    with pytest.raises(UserInputError):
        measure_memory_bandwidth(size_bytes=10)
