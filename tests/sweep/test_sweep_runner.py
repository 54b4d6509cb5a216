"""The sweep runner with a stand-in engine: rows, failures, resume, refusals, power windows."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from edgeprof.errors import UserInputError
from edgeprof.sweep import SweepStore, build_spec, prepare
from edgeprof.table import read_measurements
from edgeprof.telemetry import NullSampler, PhaseEnergy

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sweep"
sys.path.insert(0, str(FIXTURES))
import sweep_engines  # noqa: E402
from sweep_engines import SleepEngine  # noqa: E402

MODEL = "qwen2.5-0.5b-scaled-2L"


class WattSampler(NullSampler):
    """Constant 10 W, so windows have exact energies."""

    source = "fake-10w"

    @property
    def available(self) -> bool:
        return True

    def window(self, t0_ns: int, t1_ns: int) -> PhaseEnergy:
        d = (t1_ns - t0_ns) / 1e9
        return PhaseEnergy(10.0, 10.0 * d, 3, [], duration_s=d)

    def idle_baseline(self, duration_s: float = 2.0) -> PhaseEnergy:
        return PhaseEnergy(4.0, 4.0 * duration_s, 5, [])

    def throttle_flags(self, t0_ns: int, t1_ns: int) -> list[str]:
        return ["throttled:thermal"]


def _run(out: Path, sampler=None, engine=None, **axes):
    axes.setdefault("models", MODEL)
    axes.setdefault("outputs", "4")
    axes.setdefault("inputs", "16")
    spec = build_spec(engine="sleep", **axes)
    runner = prepare(spec, out, sampler=sampler or NullSampler(), engine=engine or SleepEngine(),
                     idle_s=0.01)
    return runner.run()


@pytest.fixture(autouse=True)
def _calls():
    sweep_engines.CALLS.clear()
    yield


def test_rows_carry_timings_and_null_power(tmp_path: Path) -> None:
    res = _run(tmp_path, quants="fp32,int4", batches="1,2", repeats=2)
    rows = read_measurements(tmp_path)
    assert res.total == len(rows) == 8 and res.measured == {"ok": 8}
    r = rows[0]
    assert r.ok and r.device.startswith("cpu-") and r.engine == "sleep"
    assert r.ttft_s > 0 and len(r.token_times_s) == 4
    assert r.e2e_s == pytest.approx(r.ttft_s + r.decode_s, rel=1e-6)
    assert r.avg_power_w is None and r.energy_j is None and r.prefill_power_w is None
    assert "power-unavailable" in r.flags and r.weight_bytes == 12345
    int4 = [x for x in rows if x.quant == "int4"]
    assert all(x.quant_impl == "emulated" and "emulated" in x.flags for x in int4)
    # one load per model × quant, warm-up once per load
    loads = [c for c in sweep_engines.CALLS if c[0] == "load"]
    assert loads == [("load", MODEL, "fp32"), ("load", MODEL, "int4")]
    runs = [c for c in sweep_engines.CALLS if c[0] == "run"]
    assert len(runs) == 8 + 2
    cond = json.loads((tmp_path / "run.json").read_text())
    assert cond["warmup_runs_total"] == 2 and cond["engine"] == "sleep"
    assert cond["device_fingerprint"]["cpu_model"]


def test_power_windows_split_by_phase(tmp_path: Path) -> None:
    _run(tmp_path, sampler=WattSampler(), repeats=1)
    r = read_measurements(tmp_path)[0]
    assert r.avg_power_w == 10.0 and r.idle_power_w == 4.0 and r.power_source == "fake-10w"
    assert r.prefill_energy_j == pytest.approx(10 * r.ttft_s)
    assert r.decode_energy_j == pytest.approx(10 * r.decode_s)
    assert r.energy_j == pytest.approx(r.prefill_energy_j + r.decode_energy_j)
    assert "throttled:thermal" in r.flags


def test_failures_become_rows_and_the_sweep_goes_on(tmp_path: Path) -> None:
    res = _run(tmp_path, quants="fp8,fp16,fp32", inputs="16,4096", repeats=3)
    rows = read_measurements(tmp_path)
    assert len(rows) == res.total == 18
    by = {(r.quant, r.input_tokens, r.repeat): r for r in rows}
    assert {by["fp8", i, k].status for i in (16, 4096) for k in range(3)} == {"unsupported"}
    assert "8.9" in by["fp8", 16, 0].error
    assert {by["fp16", 16, k].status for k in range(3)} == {"error"}
    assert "\n" not in by["fp16", 16, 0].error and "RuntimeError" in by["fp16", 16, 0].error
    assert by["fp32", 16, 0].status == "ok"
    assert [by["fp32", 4096, k].status for k in range(3)] == ["oom"] * 3
    assert "earlier repeat" in by["fp32", 4096, 2].error
    loads = [c[2] for c in sweep_engines.CALLS if c[0] == "load"]
    assert loads == ["fp16", "fp32"]  # fp8 never loaded
    oom_runs = [c for c in sweep_engines.CALLS if c[0] == "run" and c[1] == 4096]
    assert len(oom_runs) == 1  # later repeats of an OOM shape are not retried


def test_resume_measures_only_missing_points(tmp_path: Path) -> None:
    _run(tmp_path, quants="fp32", inputs="16,32", repeats=2)
    first = read_measurements(tmp_path)
    sweep_engines.CALLS.clear()
    res = _run(tmp_path, quants="fp32,int8", inputs="16,32", repeats=2)
    assert res.skipped == 4 and res.measured == {"ok": 4}
    assert [c[2] for c in sweep_engines.CALLS if c[0] == "load"] == ["int8"]
    rows = read_measurements(tmp_path)
    assert len({r.key for r in rows}) == len(rows) == 8
    assert rows[:4] == first
    sweep_engines.CALLS.clear()
    res = _run(tmp_path, quants="fp32,int8", inputs="16,32", repeats=2)
    assert res.measured == {} and not sweep_engines.CALLS
    cond = json.loads((tmp_path / "run.json").read_text())
    assert len(cond["resumed_at"]) == 2


def test_torn_tail_is_repaired(tmp_path: Path) -> None:
    _run(tmp_path, repeats=2)
    table = tmp_path / "measurements.jsonl"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text(lines[0] + lines[1][: len(lines[1]) // 2])  # killed mid-write
    res = _run(tmp_path, repeats=2)
    assert res.skipped == 1 and res.measured == {"ok": 1}
    assert len(read_measurements(tmp_path)) == 2


def test_refuses_other_machine_or_incompatible_spec(tmp_path: Path) -> None:
    _run(tmp_path, repeats=1)
    run_json = tmp_path / "run.json"
    cond = json.loads(run_json.read_text())
    with pytest.raises(UserInputError, match=r"incompatible.*warmup.*--out"):
        _run(tmp_path, repeats=1, warmup=3)
    cond["device_fingerprint"]["cpu_model"] = "Some Other CPU"
    run_json.write_text(json.dumps(cond))
    with pytest.raises(UserInputError, match=r"another machine.*cpu_model.*--out"):
        _run(tmp_path, repeats=1)
    assert len(read_measurements(tmp_path)) == 1  # nothing appended



def test_store_refuses_other_schema_or_library_versions(tmp_path: Path) -> None:
    from edgeprof.table import SCHEMA_VERSION, RunConditions

    cond = RunConditions(edgeprof_version="0", device="cpu-test",
                         device_fingerprint={"cpu_model": "X"},
                         library_versions={"numpy": "2.0.0"})
    store = SweepStore(tmp_path)
    store.open()
    store.write_conditions(cond)
    run_json = tmp_path / "run.json"
    raw = json.loads(run_json.read_text())
    store.check_compatible(cond, None)  # its own conditions: resumable
    run_json.write_text(json.dumps(raw | {"schema_version": SCHEMA_VERSION + 1}))
    with pytest.raises(UserInputError, match=r"schema version.*--out"):
        store.check_compatible(cond, None)
    run_json.write_text(json.dumps(raw | {"library_versions": {"numpy": "0.0.1"}}))
    with pytest.raises(UserInputError, match=r"other library versions.*--out"):
        store.check_compatible(cond, None)

class SlowEngine(SleepEngine):
    def run(self, input_tokens: int, output_tokens: int, batch: int):
        if input_tokens == 32:
            time.sleep(5)
        return super().run(input_tokens, output_tokens, batch)


def test_timeout_per_point_becomes_an_error_row(tmp_path: Path) -> None:
    t0 = time.monotonic()
    _run(tmp_path, engine=SlowEngine(), inputs="16,32", repeats=2, warmup=0,
         timeout_per_point="300ms")
    assert time.monotonic() - t0 < 8  # two un-timed-out points would take ≥ 10 s
    rows = {(r.input_tokens, r.repeat): r for r in read_measurements(tmp_path)}
    assert rows[16, 0].ok
    assert rows[32, 0].status == "error" and "timed out" in rows[32, 0].error
    assert rows[32, 1].status == "error"


def test_store_rows_are_fsynced_jsonl(tmp_path: Path) -> None:
    _run(tmp_path, repeats=1)
    store = SweepStore(tmp_path)
    assert len(store.done_keys()) == 1
    line = (tmp_path / "measurements.jsonl").read_text()
    assert line.endswith("\n") and json.loads(line)["status"] == "ok"
