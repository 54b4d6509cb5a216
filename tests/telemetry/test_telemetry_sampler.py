"""The background sampler with a fake source: energy, flags, idle baseline, no leaked thread."""

from __future__ import annotations

import threading
import time

import pytest

from edgeprof.errors import UserInputError
from edgeprof.telemetry import NoSource, PowerSource, Reading, Sampler

S = 1_000_000_000
# Samples are stamped at the middle of a read, so ramps and counters match to ~1e-4, not 1e-12.
REL = 2e-3


class FakeSource(PowerSource):
    """Power as a function of perf_counter_ns; optional counter, clocks, throttle reasons."""

    name = "fake"

    def __init__(self, power, period_s=0.0, counter=False, clocks=None, throttle=None, temps=None):
        self.power = power
        self.update_period_s = period_s
        self.counter = counter
        self.clocks = clocks or (lambda t: {})
        self.throttle = throttle or (lambda t: [])
        self.temps = temps or (lambda t: {})
        self.t_origin = time.perf_counter_ns()
        self.closed = False

    def read(self) -> Reading:
        t = time.perf_counter_ns()
        energy = None
        if self.counter:  # exact integral of a constant
            energy = self.power(t) * (t - self.t_origin) / S
        return Reading(total_w=self.power(t), rails_w={"r": self.power(t)}, energy_j=energy,
                       clocks_mhz=self.clocks(t), throttle=self.throttle(t), temps_c=self.temps(t))

    def close(self) -> None:
        self.closed = True


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "edgeprof-sampler"]


@pytest.fixture(autouse=True)
def empty_roots(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path / "sys"))
    monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(tmp_path / "proc"))


def test_constant_power_energy_and_rate():
    src = FakeSource(lambda t: 12.0)
    with Sampler(src, 0.01, probe_host=False) as s:
        time.sleep(0.05)
        t0 = time.perf_counter_ns()
        time.sleep(0.3)
        t1 = time.perf_counter_ns()
        ph = s.window(t0, t1)
        rate = s.achieved_rate_hz
    assert ph.energy_j == pytest.approx(12.0 * (t1 - t0) / S, rel=1e-9)
    assert ph.avg_power_w == pytest.approx(12.0)
    assert ph.method == "integrated" and ph.n_samples >= 5
    assert ph.rails_j["r"] == pytest.approx(ph.energy_j)
    assert rate is not None and 20 < rate < 120
    assert src.closed


def test_ramp_power_is_integrated_exactly():
    origin = time.perf_counter_ns()
    src = FakeSource(lambda t: 1.0 + 20.0 * (t - origin) / S)  # 1 W + 20 W/s
    with Sampler(src, 0.01, probe_host=False) as s:
        time.sleep(0.03)
        t0 = time.perf_counter_ns()
        time.sleep(0.2)
        t1 = time.perf_counter_ns()
        ph = s.window(t0, t1)
    a, b = (t0 - origin) / S, (t1 - origin) / S
    assert ph.energy_j == pytest.approx((b - a) + 10.0 * (b * b - a * a), rel=REL)


def test_short_window_is_flagged():
    src = FakeSource(lambda t: 5.0, period_s=0.1)  # the sensor changes only every 100 ms
    with Sampler(src, 0.01, probe_host=False) as s:
        time.sleep(0.05)
        t0 = time.perf_counter_ns()
        time.sleep(0.02)
        t1 = time.perf_counter_ns()
        ph = s.window(t0, t1)
        long = s.window(t0 - 150_000_000 // 4, t1 + 100_000_000)
    assert "short-window" in ph.flags
    assert ph.energy_j == pytest.approx(5.0 * (t1 - t0) / S, rel=1e-9)
    assert "short-window" not in long.flags


def test_counter_is_preferred_when_present():
    src = FakeSource(lambda t: 3.0, counter=True)
    with Sampler(src, 0.01, probe_host=False) as s:
        time.sleep(0.03)
        t0 = time.perf_counter_ns()
        time.sleep(0.1)
        t1 = time.perf_counter_ns()
        ph = s.window(t0, t1)
    assert ph.method == "counter"
    assert ph.energy_j == pytest.approx(3.0 * (t1 - t0) / S, rel=REL)


def test_no_thread_left_behind_when_the_workload_raises():
    before = len(sampler_threads())
    src = FakeSource(lambda t: 1.0)
    with pytest.raises(RuntimeError), Sampler(src, 0.01, probe_host=False):
        assert len(sampler_threads()) == before + 1
        raise RuntimeError("engine crashed")
    assert len(sampler_threads()) == before
    assert src.closed


def test_idle_baseline_gives_above_idle_energy():
    level = {"w": 4.0}
    s = Sampler(FakeSource(lambda t: level["w"]), 0.01, probe_host=False)
    idle = s.idle_baseline(0.1)
    assert idle.avg_power_w == pytest.approx(4.0)
    assert not sampler_threads()  # the baseline stops a thread it started itself
    s.start()
    try:
        level["w"] = 10.0
        time.sleep(0.03)
        t0 = time.perf_counter_ns()
        time.sleep(0.1)
        t1 = time.perf_counter_ns()
        ph = s.window(t0, t1)
    finally:
        s.stop()
    assert ph.above_idle_j == pytest.approx(6.0 * (t1 - t0) / S, rel=REL)
    assert s.conditions()["idle_power_w"] == pytest.approx(4.0)


def test_no_source_reports_none_never_zero():
    with Sampler(NoSource(), 0.01, probe_host=False) as s:
        t0 = time.perf_counter_ns()
        time.sleep(0.03)
        ph = s.window(t0, time.perf_counter_ns())
    assert ph.energy_j is None and ph.avg_power_w is None
    assert "power-unavailable" in ph.flags
    assert s.available is False and s.source == "none"


def test_throttle_flags_from_reasons_clock_drop_and_temperature():
    origin = time.perf_counter_ns()

    def clocks(t):
        return {"gpu": 1300.0 if t - origin < 60_000_000 else 600.0}

    def throttle(t):
        return ["thermal"] if t - origin > 60_000_000 else []

    src = FakeSource(lambda t: 1.0, clocks=clocks, throttle=throttle,
                     temps=lambda t: {"tj-thermal": 91.0})
    with Sampler(src, 0.01, probe_host=False, temp_limit_c=85.0) as s:
        time.sleep(0.15)
        t1 = time.perf_counter_ns()
        flags = s.throttle_flags(origin, t1)
        calm = s.throttle_flags(origin, origin + 40_000_000)
    assert flags == ["throttled:thermal", "clock-drop:gpu", "hot:tj-thermal"]
    assert "clock-drop:gpu" not in calm and "throttled:thermal" not in calm


def test_bad_period_and_window_are_user_errors():
    with pytest.raises(UserInputError, match="period"):
        Sampler(NoSource(), 0.0)
    s = Sampler(FakeSource(lambda t: 1.0), 0.01, probe_host=False)
    with pytest.raises(UserInputError, match="ends before"):
        s.window(10, 5)
    with pytest.raises(UserInputError, match="positive"):
        s.idle_baseline(-1)
