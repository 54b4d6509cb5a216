"""``edgeprof report``: a self-contained page from a sweep (with a power trace), a profile and a
recommendation; notes for missing inputs; the power trace the sweep writes."""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgeprof.accuracy import load_accuracy
from edgeprof.device._power_source import PowerSource, Reading
from edgeprof.device._spec import DeviceSpec
from edgeprof.fit import Profile, fit_rows
from edgeprof.report._model_errors import error_rows, pct
from edgeprof.search import Problem, recommend
from edgeprof.sweep import SweepStore, build_spec
from edgeprof.sweep._runner import SweepRunner
from edgeprof.table import read_measurements
from edgeprof.telemetry import NullSampler, Sampler
from edgeprof.telemetry._trace import TRACE_FILE, read_power_trace

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sweep"
sys.path.insert(0, str(FIXTURES))
from sweep_engines import SleepEngine  # noqa: E402

MODEL = "qwen2.5-0.5b-scaled-4L"  # the shipped synthetic traces cover it
SECTIONS = ("latency", "power", "recommendation", "coverage", "model-errors")
CPU = DeviceSpec(name="cpu-test", display_name="test CPU", kind="cpu", memory_bytes=16 * 2**30,
                 memory_bandwidth_gbs=20.0, peak_tflops={"fp32": 0.2},
                 native_quants=["fp32", "int8", "int4"], label="measured")


class RampSource(PowerSource):
    """A fake sensor: 5 W plus a ramp, so samples differ."""

    name = "fake-ramp"

    def read(self) -> Reading:
        return Reading(total_w=5.0 + (time.perf_counter_ns() // 1_000_000 % 10) * 0.3)


def _sweep(out: Path, sampler) -> Path:
    """fp8 unsupported, fp16 fails to load, input 4096 runs out of memory (SleepEngine's
    rules). The runner is built directly: no device detection (it imports torch)."""
    spec = build_spec(engine="sleep", models=MODEL, quants="fp8,fp16,fp32",
                      inputs="16,64,256,4096", outputs="4,12", repeats=2)
    SweepRunner(spec=spec, store=SweepStore(out), engine=SleepEngine(), sampler=sampler,
                device_name="cpu-test", fingerprint={"cpu_model": "test CPU"},
                idle_s=0.05).run()
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """DIR/sweep (with power_trace.jsonl), DIR/profile.yaml, DIR/rec.json."""
    root = tmp_path_factory.mktemp("demo")
    _sweep(root / "sweep", Sampler(RampSource(), 0.002, probe_host=False))
    rows = read_measurements(root / "sweep")
    profile = Profile.from_fits(CPU, fit_rows(rows, CPU), {"tables": ["sweep"]})
    profile.save(root / "profile.yaml")
    rec = recommend(profile, load_accuracy("synthetic-traces"),
                    Problem(slo_s=5.0, input_tokens=64, memory_limit_bytes=CPU.memory_bytes),
                    models=[MODEL], quants=["fp32"], budgets=[64, 128, 256], max_samples=4,
                    trials=6)
    (root / "rec.json").write_text(rec.model_dump_json())
    return root


@pytest.fixture(scope="module")
def built(demo: Path) -> tuple[str, dict]:
    from edgeprof.cli._app import _register_all, app

    _register_all()
    out = demo / "report.html"
    res = CliRunner().invoke(app, ["report", str(demo), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout[res.stdout.index("{"):])
    return out.read_text(), summary


def test_page_is_self_contained_with_every_section(built: tuple[str, dict]) -> None:
    html, summary = built
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for key in SECTIONS:
        assert f'<section id="{key}">' in html
        assert summary["sections"][key]["present"] is True, key
    assert not re.search(r"https?://", html)  # no external reference of any kind
    srcs = re.findall(r'src="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "<link" not in html and "<script" not in html
    assert summary["missing"] == {}
    for label in ("measured", "predicted:measured-fit", "synthetic"):
        assert f">{label}</span>" in html


def test_coverage_counts_match_the_rows(built: tuple[str, dict], demo: Path) -> None:
    html, summary = built
    rows = read_measurements(demo / "sweep")
    counts = Counter((r.quant, str(r.status)) for r in rows)
    assert counts[("fp8", "unsupported")] == 16 and counts[("fp16", "error")] == 16
    assert counts[("fp32", "oom")] == 4 and counts[("fp32", "ok")] == 12
    cov = summary["sections"]["coverage"]
    assert cov["rows"] == len(rows) == 48
    assert cov["rows_by_status"] == {"ok": 12, "error": 16, "oom": 4, "unsupported": 16}
    assert cov["point_status"] == {"error": 8, "ok": 6, "oom": 2, "unsupported": 8}

    def row(quant: str, ok: int, err: int, oom: int, uns: int, points: int) -> str:
        cells = "".join(f'<td class="num">{v}</td>' for v in (ok, err, oom, uns, points, 0))
        return f"<tr><td>{MODEL}</td><td>{quant}</td>{cells}</tr>"

    assert row("fp8", 0, 0, 0, 16, 8) in html
    assert row("fp16", 0, 16, 0, 0, 8) in html
    assert row("fp32", 12, 0, 4, 0, 8) in html
    assert "fp8 needs compute capability" in html  # why points failed


def test_error_table_shows_the_profile_values(built: tuple[str, dict], demo: Path) -> None:
    html, summary = built
    profile = Profile.load(demo / "profile.yaml")
    rows = error_rows(profile)
    assert {r["phase"] for r in rows} >= {"prefill", "decode", "memory"}
    for r in rows:
        cells = (f"<td>{r['phase']}</td><td class=\"num\">{r['n']}</td>"
                 f"<td class=\"num\">{pct(r['cv_mape'])}</td>"
                 f"<td class=\"num\">{pct(r['train_mape'])}</td>")
        assert cells in html, r["phase"]
    fit = profile.fits[0]
    assert f"I {fit['prefill']['fitted_on']['input_tokens'][0]:.4g}–" in html
    assert [r["phase"] for r in summary["sections"]["model-errors"]["rows"]] == \
        [r["phase"] for r in rows]


def test_power_section_draws_the_trace(built: tuple[str, dict], demo: Path) -> None:
    html, summary = built
    trace = read_power_trace(demo / "sweep")
    power = summary["sections"]["power"]
    assert power["trace_windows"] == len(trace) == 12 + 1  # ok runs + the idle baseline
    assert power["trace_samples"] > 0 and power["rows_with_power"] == 12
    assert "power not measured" not in html
    assert f"power samples <span class=\"prov prov-measured\">measured</span> from {TRACE_FILE}" \
        in html


def test_recommendation_section_names_the_winner(built: tuple[str, dict], demo: Path) -> None:
    html, summary = built
    rec = json.loads((demo / "rec.json").read_text())
    sec = summary["sections"]["recommendation"]
    assert sec["feasible"] is rec["feasible"] is True
    w = rec["winner"]
    assert sec["winner"] == {k: w[k] for k in ("model", "quant", "budget", "samples")}
    assert f"{w['model']} {w['quant']}, budget {w['budget']} tokens" in html
    assert f"SLO {rec['problem']['slo_s']:g} s at p95" in html


def test_power_trace_lines_follow_the_phases(demo: Path) -> None:
    trace = read_power_trace(demo / "sweep")
    idle = [ln for ln in trace if ln.point is None]
    assert len(idle) == 1 and set(idle[0].phase) <= {"idle", "between"}
    for ln in trace:
        if ln.point is None:
            continue
        t0, t1, t2 = ln.edges_s
        for t, ph in zip(ln.t_s, ln.phase, strict=True):
            assert ph == ("prefill" if t0 <= t <= t1 else "decode" if t1 < t <= t2
                          else "between")
        assert "prefill" in ln.phase or "decode" in ln.phase
        assert all(5.0 <= w <= 8.0 for w in ln.power_w)
    # a torn last line (killed sweep) is skipped; a re-measured point keeps its last line
    path = demo / "sweep" / TRACE_FILE
    lines = path.read_text().splitlines()
    copy = demo / "trace-copy"
    copy.mkdir()
    again = json.loads(lines[-1])
    again["power_w"] = [99.0] * len(again["power_w"])
    (copy / TRACE_FILE).write_text("\n".join([*lines, json.dumps(again), lines[-1][:30]]))
    reread = read_power_trace(copy)
    assert len(reread) == len(trace)
    assert reread[-1].power_w[0] == 99.0


def test_no_power_source_and_missing_inputs_are_notes(tmp_path: Path, run_cli) -> None:
    sweep = _sweep(tmp_path / "only" / "sweep", NullSampler())
    assert not (sweep / TRACE_FILE).exists()  # no power source: no trace
    out = tmp_path / "r.html"
    code, stdout, err = run_cli("report", str(tmp_path / "only"), "--out", str(out), "--json")
    assert code == 0, err
    html = out.read_text()
    assert "power not measured on this device (source: none)" in html
    assert "jetson, tegrastats, nvml, rapl" in html
    assert "no profile found: run edgeprof fit" in html
    assert "no recommendation found: run edgeprof recommend" in html
    summary = json.loads(stdout)
    assert set(summary["missing"]) == {"profile", "rec"}
    assert summary["sections"]["coverage"]["present"] is True
    assert summary["sections"]["latency"]["present"] is False
    # the sweep folder itself works as DIR
    code, _, err = run_cli("report", str(sweep), "--out", str(tmp_path / "s.html"))
    assert code == 0 and "no profile found" in err
    hint = " ".join(err.split())  # rich may wrap the line
    assert f"edgeprof fit {sweep} --out" in hint and "sweep/sweep" not in hint


def test_explicit_inputs_and_nothing_usable(demo: Path, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "x.html"
    code, stdout, err = run_cli("report", str(tmp_path), "--profile",
                                str(demo / "profile.yaml"), "--out", str(out), "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["inputs"]["profile"] == str(demo / "profile.yaml")
    assert set(summary["missing"]) == {"sweep", "rec"}
    assert summary["sections"]["model-errors"]["present"] is True
    assert summary["sections"]["latency"]["present"] is False
    assert "no sweep found" in out.read_text()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, stdout, err = run_cli("report", str(empty), "--out", str(tmp_path / "e.html"))
    assert code == 2 and stdout == ""
    assert err.startswith("Error: Nothing to report") and err.count("\n") == 1
    code, _, err = run_cli("report", str(demo), "--recommendation", str(tmp_path / "nope"))
    assert code == 2 and "--recommendation" in err and err.count("\n") == 1


def test_refactored_plot_writers_still_write_files(demo: Path, tmp_path: Path) -> None:
    from edgeprof.report._fit_figures import plot_profile
    from edgeprof.report._pareto_figure import plot_pareto
    from edgeprof.search._result import Recommendation

    profile = Profile.load(demo / "profile.yaml")
    pngs = plot_profile(profile, read_measurements(demo / "sweep"), tmp_path / "figs")
    assert len(pngs) == len(profile.fits) and all(p.stat().st_size > 1000 for p in pngs)
    rec = Recommendation.model_validate_json((demo / "rec.json").read_text())
    png = plot_pareto(rec, tmp_path / "pareto.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
