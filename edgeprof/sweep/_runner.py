"""Run a sweep: load each model × quant once, warm up, measure every missing point, and
append one durable row per repeat. Failures become rows; the sweep goes on.

Order per group (see :mod:`edgeprof.sweep._grid`): ``engine.support`` (unsupported → every
point of the group gets an ``unsupported`` row, nothing is loaded) → power mode →
``engine.load`` (OOM/error → every point gets that row) → ``warmup`` untimed runs at the
group's first missing shape → each point → ``engine.unload``. A shape whose first attempted
repeat fails with OOM or a timeout is not retried for its other repeats (they get the same
status, with a note).
"""

from __future__ import annotations

import contextlib
import platform
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edgeprof import __version__
from edgeprof.catalog import resolve_model
from edgeprof.engines._base import Engine, RunResult, Support, get_engine
from edgeprof.errors import EngineOOM, UserInputError
from edgeprof.sweep._grid import Group, Point, expand
from edgeprof.sweep._record import RowContext, failed_row, now_iso, ok_row, one_line
from edgeprof.sweep._spec import SweepSpec
from edgeprof.sweep._store import SweepStore
from edgeprof.table import Measurement, QuantImpl, RunConditions, Status
from edgeprof.telemetry import PowerSampler
from edgeprof.telemetry._trace import PowerTraceWriter, trace_writer


class Progress(Protocol):
    """What the runner reports to (a progress bar, a log)."""

    def begin(self, total: int, done: int) -> None: ...

    def current(self, label: str) -> None: ...

    def advance(self, point: Point, status: str) -> None: ...


class NullProgress:
    def begin(self, total: int, done: int) -> None:
        return None

    def current(self, label: str) -> None:
        return None

    def advance(self, point: Point, status: str) -> None:
        return None


class PointTimeout(Exception):
    """Raised inside a run by the per-point alarm."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the enclosed code after ``seconds`` (SIGALRM; main thread on Unix only).

    The alarm fires between Python bytecodes, so an engine is interrupted after the
    current kernel (one decode step) returns.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise PointTimeout()

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, float(seconds or 0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class SweepResult:
    """What a sweep did this time (rows of earlier runs stay in the store)."""

    out: Path
    device: str
    total: int
    skipped: int  # already in the folder
    measured: dict[str, int] = field(default_factory=dict)  # status -> rows written now
    warmup_runs: int = 0


@dataclass
class SweepRunner:
    """One sweep into one folder. Build with :func:`prepare`, then call :meth:`run`."""

    spec: SweepSpec
    store: SweepStore
    engine: Engine
    sampler: PowerSampler
    device_name: str
    fingerprint: dict[str, Any]
    power: Any = None  # PowerModeController when --power-modes is given
    idle_s: float = 2.0
    device_spec: dict[str, Any] | None = None  # DeviceSpec dump, written to run.json
    progress: Progress = field(default_factory=NullProgress)
    sleep: Callable[[float], None] = time.sleep
    retry_killed: bool = False  # measure points with a ``killed`` row again
    _started: str = field(default_factory=now_iso, init=False)
    _trace: PowerTraceWriter | None = field(default=None, init=False)

    def conditions(self, idle_w: float | None, warmups: int, old: dict | None) -> RunConditions:
        versions = {"edgeprof": __version__, "python": platform.python_version(),
                    **self.engine.versions()}
        started = (old or {}).get("started_at") or self._started
        resumed = list((old or {}).get("resumed_at") or [])
        if old:
            resumed.append(self._started)
        clocks = None
        if self.power is not None:
            with contextlib.suppress(Exception):
                clocks = self.power.jetson_clocks_state()
        return RunConditions(
            edgeprof_version=__version__, device=self.device_name,
            device_fingerprint=self.fingerprint, engine=self.engine.name,
            library_versions=versions, started_at=started, sweep_spec=self.spec.model_dump(),
            device_spec=self.device_spec or (old or {}).get("device_spec"),
            telemetry={"source": self.sampler.source, "idle_power_w": idle_w,
                       "idle_baseline_s": self.idle_s if self.sampler.available else None,
                       "conditions": _safe(self.sampler.conditions)},
            clocks=clocks, engine_settings=self.engine.settings(), resumed_at=resumed,
            warmup_runs_per_load=self.spec.warmup,
            warmup_runs_total=int((old or {}).get("warmup_runs_total", 0)) + warmups,
            loop_order="model > quant > power_mode > batch > input > output > repeat",
        )

    def run(self) -> SweepResult:
        self._started = now_iso()
        done = self.store.open(retry_killed=self.retry_killed)
        old = self.store.read_conditions()
        first = self.conditions(None, 0, old)
        self.store.check_compatible(first, self.spec.incompatibility(
            (old or {}).get("sweep_spec") or {}))
        groups = list(expand(self.spec))
        keys = [p.key(self.device_name, self.engine.name) for g in groups for p in g.points]
        skipped = sum(k in done for k in keys)
        result = SweepResult(self.store.folder, self.device_name, len(keys), skipped)
        self.sampler.start()
        self._trace = trace_writer(self.store.folder, self.sampler, self._started)
        try:
            idle_w = None
            if self.sampler.available and self.idle_s > 0:
                t_idle = time.perf_counter_ns()
                idle_w = self.sampler.idle_baseline(self.idle_s).avg_power_w
                if self._trace is not None:
                    self._trace.idle(t_idle, time.perf_counter_ns())
            ctx = RowContext(self.device_name, self.engine.name, self.sampler.source, idle_w)
            self.store.write_conditions(self.conditions(idle_w, 0, old))
            self.progress.begin(len(keys), skipped)
            for group in groups:
                todo = [p for p in group.points
                        if p.key(self.device_name, self.engine.name) not in done]
                if todo:
                    self._group(group, todo, ctx, result)
                    self.store.write_conditions(self.conditions(idle_w, result.warmup_runs, old))
        finally:
            self.sampler.stop()
        return result

    # ------------------------------------------------------------------ one load
    def _emit(self, row: Measurement, point: Point, result: SweepResult) -> None:
        self.store.append(row)
        status = str(row.status)
        result.measured[status] = result.measured.get(status, 0) + 1
        self.progress.advance(point, status)

    def _fail_all(self, todo: list[Point], ctx: RowContext, status: Status, msg: str,
                  result: SweepResult, impl: QuantImpl = QuantImpl.NONE) -> None:
        for p in todo:
            self._emit(failed_row(p, ctx, status, msg, impl), p, result)

    def _group(self, group: Group, todo: list[Point], ctx: RowContext,
               result: SweepResult) -> None:
        self.progress.current(f"{group.model} {group.quant}: checking support")
        try:
            arch = resolve_model(group.model)
            support = self.engine.support(arch, group.quant)
        except Exception as exc:
            self._fail_all(todo, ctx, Status.ERROR, f"support check failed: {exc}", result)
            return
        if not support.runnable:
            self._fail_all(todo, ctx, Status.UNSUPPORTED, support.reason or "not supported",
                           result)
            return
        if group.power_mode is not None and self.power is not None:
            self.progress.current(f"power mode {group.power_mode}")
            self.power.set(group.power_mode)  # a refusal (sudo) is the user's to fix: raise
        self.progress.current(f"{group.model} {group.quant}: loading")
        self.store.mark(f"load {group.model} {group.quant}",
                        [failed_row(p, ctx, Status.KILLED, "", support.impl) for p in todo])
        try:
            self.engine.load(arch, group.quant)
        except EngineOOM as exc:
            self.store.clear_mark()
            self._fail_all(todo, ctx, Status.OOM, f"load: {exc}", result, support.impl)
            return
        except Exception as exc:
            self.store.clear_mark()
            self._fail_all(todo, ctx, Status.ERROR, f"load: {_describe(exc)}", result,
                           support.impl)
            return
        try:
            weight_bytes = self.engine.loaded_weight_bytes()
            result.warmup_runs += self._warmup(todo[0], group)
            self._points(todo, ctx, support, weight_bytes, result)
        finally:
            self.store.clear_mark()  # reached only by a living process
            self.engine.unload()

    def _warmup(self, point: Point, group: Group) -> int:
        runs = 0
        for i in range(self.spec.warmup):
            self.progress.current(f"{group.model} {group.quant}: warm-up {i + 1}/"
                                  f"{self.spec.warmup}")
            try:
                with time_limit(self.spec.timeout_per_point_s):
                    self.engine.run(point.input_tokens, point.output_tokens, point.batch)
            except (Exception, PointTimeout):
                break  # the point itself will record what goes wrong
            runs += 1
        return runs

    def _points(self, todo: list[Point], ctx: RowContext, support: Support,
                weight_bytes: int | None, result: SweepResult) -> None:
        failed_shapes: dict[tuple, tuple[Status, str]] = {}
        last_shape: tuple | None = None
        for i, p in enumerate(todo):
            if p.shape in failed_shapes:
                status, msg = failed_shapes[p.shape]
                self._emit(failed_row(p, ctx, status, f"not run: an earlier repeat of this "
                                      f"shape failed ({msg})", support.impl, weight_bytes),
                           p, result)
                continue
            if p.shape != last_shape and last_shape is not None and self.spec.cooldown_s > 0:
                self.progress.current(f"cooling down {self.spec.cooldown_s:g}s")
                if self.power is not None:
                    self.power.cooldown(self.spec.cooldown_s)
                else:
                    self.sleep(self.spec.cooldown_s)
            last_shape = p.shape
            self.progress.current(p.label())
            # if the process dies in this point, it and the shape's later repeats get `killed`
            self.store.mark(f"point {p.label()}", [
                failed_row(q, ctx, Status.KILLED, "", support.impl, weight_bytes)
                for q in todo[i:] if q.shape == p.shape])
            row, run = self._measure(p, ctx, support, weight_bytes)
            if row.status == Status.OOM or "timed out" in (row.error or ""):
                failed_shapes[p.shape] = (Status(row.status), row.error or "")
            self._emit(row, p, result)
            if run is not None and self._trace is not None:
                self._trace.point(_point_dict(p), run.t_start_ns, run.t_first_ns, run.t_end_ns)

    def _measure(self, p: Point, ctx: RowContext, support: Support,
                 weight_bytes: int | None) -> tuple[Measurement, RunResult | None]:
        """The row, and the run's stamps when it produced timings (for the power trace)."""
        started = now_iso()
        try:
            with time_limit(self.spec.timeout_per_point_s):
                run: RunResult = self.engine.run(p.input_tokens, p.output_tokens, p.batch)
            return ok_row(p, ctx, run, support, weight_bytes, self.sampler, started), run
        except PointTimeout:
            return failed_row(p, ctx, Status.ERROR, f"timed out after "
                              f"{self.spec.timeout_per_point_s:g}s; raise --timeout-per-point",
                              support.impl, weight_bytes), None
        except EngineOOM as exc:
            return failed_row(p, ctx, Status.OOM, str(exc), support.impl, weight_bytes), None
        except Exception as exc:
            return (failed_row(p, ctx, Status.ERROR, _describe(exc), support.impl, weight_bytes),
                    None)


def _point_dict(p: Point) -> dict[str, Any]:
    return {"model": p.model, "quant": p.quant, "input_tokens": p.input_tokens,
            "output_tokens": p.output_tokens, "batch": p.batch, "repeat": p.repeat,
            "power_mode": p.power_mode}


def _describe(exc: BaseException) -> str:
    return one_line(f"{type(exc).__name__}: {exc}")


def _safe(fn: Callable[[], dict]) -> dict:
    try:
        return fn()
    except Exception as exc:  # conditions are a record, never a reason to stop
        return {"error": _describe(exc)}


def power_controller(spec: SweepSpec) -> Any:
    """The Jetson power-mode controller, imported only when ``--power-modes`` is given."""
    if not spec.power_modes:
        return None
    from edgeprof.device.jetson._power_mode import PowerModeController

    controller = PowerModeController()
    if not controller.available():
        raise UserInputError("--power-modes needs a Jetson with nvpmodel on PATH; drop the "
                             "flag on this machine.")
    for mode in spec.power_modes:
        controller.resolve(mode)  # unknown names fail before anything runs
    return controller


def prepare(spec: SweepSpec, out: Path | str, *, sampler: PowerSampler | None = None,
            retry_killed: bool = False,
            engine: Engine | None = None, idle_s: float = 2.0,
            progress: Progress | None = None) -> SweepRunner:
    """Build a runner: engine, one machine snapshot, sampler and (lazily) the power
    controller."""
    from edgeprof.device._machine import snapshot

    if sampler is None:
        from edgeprof.telemetry import default_sampler

        sampler = default_sampler()
    power = power_controller(spec)
    engine = engine or get_engine(spec.engine, spec.device, **spec.engine_options)
    store = SweepStore(out)
    old = store.read_conditions()
    recorded = (old or {}).get("device_spec")
    # One detection for the row name, the fingerprint and the spec (a CPU's bandwidth is
    # measured now, 1 s, unless run.json already holds the spec).
    machine = snapshot(spec.device, with_spec=not recorded)
    return SweepRunner(spec=spec, store=store, engine=engine, sampler=sampler,
                       device_name=machine.name, fingerprint=machine.fingerprint,
                       power=power, idle_s=idle_s, device_spec=recorded or machine.spec,
                       progress=progress or NullProgress(), retry_killed=retry_killed)
