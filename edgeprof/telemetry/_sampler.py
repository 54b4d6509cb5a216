"""The background sampler: reads a power source every ``period_s`` on a daemon thread and
answers, per window of ``perf_counter_ns`` stamps, the energy, average power and flags.

Energy comes from the hardware counter where the source has one (NVML total energy, RAPL),
else from the trapezoid over the samples with the window's edges interpolated. A window
shorter than the sensor's update period (or the sampling period) is flagged ``short-window``:
its value is an interpolation, not a measurement of that window alone.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from edgeprof.device._fs import thermal_zones
from edgeprof.device._power_source import NoSource, PowerSource, Reading
from edgeprof.device.cpu._info import cpu_freqs_mhz
from edgeprof.device.jetson._clocks import gpu_clock_mhz, gpu_devfreq
from edgeprof.device.jetson._tools import jetson_power_state
from edgeprof.errors import UserInputError
from edgeprof.telemetry._base import PhaseEnergy
from edgeprof.telemetry._integrate import counter_energy, integrate_power
from edgeprof.telemetry._memory import memory_snapshot, process_rss_bytes

DEFAULT_PERIOD_S = 0.05
DEFAULT_TEMP_LIMIT_C = 85.0
DEFAULT_CLOCK_DROP = 0.9  # a clock below 90 % of the window's max counts as a drop
_POWER_STATE_TTL_S = 5.0


@dataclass
class Sample:
    """One read, stamped with ``perf_counter_ns`` at the middle of the source read."""

    t_ns: int
    reading: Reading
    rss_bytes: int | None = None
    clocks_mhz: dict[str, float] = field(default_factory=dict)
    temps_c: dict[str, float] = field(default_factory=dict)


class Sampler:
    """A :class:`~edgeprof.telemetry._base.PowerSampler` over one :class:`PowerSource`.

    Order of use: ``start()`` → ``idle_baseline()`` → per point ``window()``,
    ``throttle_flags()``, ``conditions()`` → ``stop()`` (or use it as a context manager, which
    stops it even when the workload raises).
    """

    def __init__(
        self,
        source: PowerSource,
        period_s: float = DEFAULT_PERIOD_S,
        *,
        temp_limit_c: float = DEFAULT_TEMP_LIMIT_C,
        clock_drop: float = DEFAULT_CLOCK_DROP,
        probe_host: bool = True,
    ) -> None:
        if not (isinstance(period_s, int | float) and 0.001 <= period_s <= 60):
            raise UserInputError(
                f"The sampling period must be between 1ms and 60s; got {period_s!r}s "
                "(e.g. --period 50ms)."
            )
        self._source = source
        self.source = source.name
        self.period_s = float(period_s)
        self.temp_limit_c = temp_limit_c
        self.clock_drop = clock_drop
        self._probe_host = probe_host
        self._gpu_node = gpu_devfreq() if probe_host else None
        self._samples: list[Sample] = []
        self._cond = threading.Condition()
        self._stop_evt = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.read_errors = 0
        self.idle: PhaseEnergy | None = None
        self._power_state: tuple[float, dict] | None = None

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return not isinstance(self._source, NoSource)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the sampling thread (no-op when already running)."""
        if self.running:
            return
        self._stop_evt.clear()
        self._thread = threading.Thread(target=self._loop, name="edgeprof-sampler", daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        self._stop_evt.set()
        if self._thread is not None:
            self._thread.join()
        self._thread = None

    def stop(self) -> None:
        """Stop and join the thread, and release the source (NVML handle, subprocess)."""
        self._halt()
        if not self._closed:
            self._closed = True
            self._source.close()

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sample_once(self) -> None:
        t_a = time.perf_counter_ns()
        reading = self._source.read()
        t_b = time.perf_counter_ns()
        sample = Sample((t_a + t_b) // 2, reading)
        if self._probe_host:
            sample.rss_bytes = process_rss_bytes()
            sample.clocks_mhz = gpu_clock_mhz(self._gpu_node)
            sample.temps_c = thermal_zones()
        sample.clocks_mhz.update(reading.clocks_mhz)
        sample.temps_c.update(reading.temps_c)
        with self._cond:
            self._samples.append(sample)
            self._cond.notify_all()

    def _loop(self) -> None:
        period_ns = int(self.period_s * 1e9)
        next_t = time.perf_counter_ns()
        while not self._stop_evt.is_set():
            try:
                self._sample_once()
            except Exception:  # a flaky sensor read must not kill the sampler
                self.read_errors += 1
            next_t += period_ns
            now = time.perf_counter_ns()
            if next_t < now:  # fell behind: skip missed ticks rather than burst
                next_t = now + period_ns - (now - next_t) % period_ns
            self._stop_evt.wait((next_t - now) / 1e9)

    # ---- data --------------------------------------------------------------------------
    def samples(self) -> list[Sample]:
        with self._cond:
            return list(self._samples)

    @property
    def achieved_rate_hz(self) -> float | None:
        """Samples per second actually achieved (``None`` with fewer than two samples)."""
        s = self.samples()
        if len(s) < 2 or s[-1].t_ns == s[0].t_ns:
            return None
        return (len(s) - 1) / ((s[-1].t_ns - s[0].t_ns) / 1e9)

    def _wait_past(self, t_ns: int) -> None:
        """While running, wait (≤ 3 periods) for a sample after ``t_ns`` so the window's
        end is interpolated rather than extrapolated."""
        if not self.running:
            return
        deadline = time.monotonic() + 3 * self.period_s + 0.1
        with self._cond:
            while not (self._samples and self._samples[-1].t_ns >= t_ns):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)

    def _around(self, t0_ns: int, t1_ns: int) -> list[Sample]:
        """Samples inside the window plus one on each side (for edge interpolation)."""
        s = self.samples()
        lo = next((i for i, x in enumerate(s) if x.t_ns >= t0_ns), len(s))
        hi = next((i for i in range(len(s) - 1, -1, -1) if s[i].t_ns <= t1_ns), -1)
        return s[max(lo - 1, 0): min(hi + 2, len(s))]

    def window(self, t0_ns: int, t1_ns: int) -> PhaseEnergy:
        """Energy and average power over ``[t0_ns, t1_ns]`` (``perf_counter_ns`` stamps)."""
        if t1_ns < t0_ns:
            raise UserInputError(
                f"The window ends before it starts ({t0_ns} > {t1_ns}); pass (start, end) "
                "perf_counter_ns stamps."
            )
        duration = (t1_ns - t0_ns) / 1e9
        if not self.available:
            return PhaseEnergy(None, None, 0, ["power-unavailable"], duration_s=duration)
        self._wait_past(t1_ns)
        near = [x for x in self._around(t0_ns, t1_ns) if x.reading.total_w is not None
                or x.reading.energy_j is not None]
        if not near:
            return PhaseEnergy(None, None, 0, ["power-unavailable", "no-samples"],
                               duration_s=duration)
        flags: list[str] = []
        if duration < max(self._source.update_period_s, self.period_s):
            flags.append("short-window")
        energy, n, method, extra = self._energy(near, t0_ns, t1_ns)
        flags += extra
        if energy is None:
            return PhaseEnergy(None, None, n, [*flags, "power-unavailable"], duration_s=duration)
        avg = energy / duration if duration > 0 else self._power_at(near, t0_ns)
        rails = self._rails_j(near, t0_ns, t1_ns)
        above = None
        if self.idle is not None and self.idle.avg_power_w is not None:
            above = energy - self.idle.avg_power_w * duration
        rss = [x.rss_bytes for x in near if x.rss_bytes is not None and t0_ns <= x.t_ns <= t1_ns]
        return PhaseEnergy(avg, energy, n, flags, duration_s=duration, rails_j=rails,
                           above_idle_j=above, method=method,
                           peak_rss_bytes=max(rss) if rss else None)

    def _energy(
        self, near: list[Sample], t0: int, t1: int
    ) -> tuple[float | None, int, str, list[str]]:
        counted = [x for x in near if x.reading.energy_j is not None]
        if len(counted) >= 2 and len(counted) == len(near):
            ts = [x.t_ns for x in counted]
            e = counter_energy(ts, [x.reading.energy_j or 0.0 for x in counted], t0, t1)
            flags = ["extrapolated"] if t0 < ts[0] or t1 > ts[-1] else []
            return e, sum(t0 <= t <= t1 for t in ts), "counter", flags
        powered = [x for x in near if x.reading.total_w is not None]
        if not powered:
            return None, 0, "none", []
        e, n, flags = integrate_power([x.t_ns for x in powered],
                                      [x.reading.total_w or 0.0 for x in powered], t0, t1)
        return e, n, "integrated", flags

    @staticmethod
    def _power_at(near: list[Sample], t: int) -> float | None:
        best = min(near, key=lambda x: abs(x.t_ns - t))
        return best.reading.total_w

    @staticmethod
    def _rails_j(near: list[Sample], t0: int, t1: int) -> dict[str, float]:
        names = set.intersection(*(set(x.reading.rails_w) for x in near)) if near else set()
        out = {}
        for name in sorted(names):
            e, _, _ = integrate_power([x.t_ns for x in near],
                                      [x.reading.rails_w[name] for x in near], t0, t1)
            out[name] = e
        return out

    def idle_baseline(self, duration_s: float = 2.0) -> PhaseEnergy:
        """Sample with nothing running for ``duration_s`` and remember the idle power, so
        later windows report ``above_idle_j``."""
        if not (isinstance(duration_s, int | float) and duration_s > 0):
            raise UserInputError(
                f"The idle baseline needs a positive duration; got {duration_s!r}."
            )
        was_running = self.running
        self.start()
        t0 = time.perf_counter_ns()
        time.sleep(duration_s)
        t1 = time.perf_counter_ns()
        result = self.window(t0, t1)
        if not was_running:
            self._halt()
        self.idle = result
        return result

    def throttle_flags(self, t0_ns: int, t1_ns: int) -> list[str]:
        """``throttled:<reason>`` from the hardware, ``clock-drop:<clock>`` when a clock fell
        below ``clock_drop`` × the window's max, ``hot:<zone>`` above ``temp_limit_c``."""
        inside = [x for x in self.samples() if t0_ns <= x.t_ns <= t1_ns]
        if not inside:
            inside = self._around(t0_ns, t1_ns)
        flags: list[str] = []
        for reason in sorted({r for x in inside for r in x.reading.throttle}):
            flags.append(f"throttled:{reason}")
        for clock in sorted({k for x in inside for k in x.clocks_mhz if not k.endswith("_max")}):
            values = [x.clocks_mhz[clock] for x in inside if clock in x.clocks_mhz]
            if values and max(values) > 0 and min(values) < self.clock_drop * max(values):
                flags.append(f"clock-drop:{clock}")
        hot = {z for x in inside for z, c in x.temps_c.items() if c > self.temp_limit_c}
        flags += [f"hot:{z}" for z in sorted(hot)]
        return flags

    def _jetson_power_state(self) -> dict:
        now = time.monotonic()
        if self._power_state is None or now - self._power_state[0] > _POWER_STATE_TTL_S:
            self._power_state = (now, jetson_power_state())
        return self._power_state[1]

    def conditions(self) -> dict[str, Any]:
        """Clocks, temperatures, memory, power mode and sampler facts, recorded per point."""
        samples = self.samples()
        last = samples[-1] if samples else None
        temps = thermal_zones() if self._probe_host else {}
        clocks = gpu_clock_mhz(self._gpu_node) if self._probe_host else {}
        mem = memory_snapshot() if self._probe_host else {}
        if last is not None:
            temps.update(last.reading.temps_c)
            clocks.update(last.reading.clocks_mhz)
            if last.reading.mem_used_bytes is not None:
                mem[f"{self.source}_used_bytes"] = last.reading.mem_used_bytes
        rate = self.achieved_rate_hz
        out: dict[str, Any] = {
            **self._source.describe(),
            "period_s": self.period_s,
            "achieved_rate_hz": None if rate is None or math.isnan(rate) else round(rate, 2),
            "read_errors": self.read_errors,
            "idle_power_w": None if self.idle is None else self.idle.avg_power_w,
            "temps_c": temps,
            "clocks_mhz": clocks,
            "cpu_freq_mhz": cpu_freqs_mhz() if self._probe_host else {},
            "memory": mem,
        }
        if self._probe_host:
            out.update(self._jetson_power_state())
        return out
