"""Batched decode beyond the measured batch, and the held-out published batched figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from edgeprof.catalog import resolve_model
from edgeprof.device._spec import load_device_spec
from edgeprof.fit import Profile
from edgeprof.fit._roofline import bandwidth

ROOT = Path(__file__).resolve().parents[2]
JB = ROOT.parent / "shared/reference/jetson-published-benchmarks/benchmarks.csv"
needs_ref = pytest.mark.skipif(not JB.is_file(), reason="reference data not present")
FITTED = "deepseek-r1-distill-qwen-1.5b"  # measured (EdgeReasoning) at batch 1 only


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / f"benchmarks/{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # its dataclasses resolve their annotations through it
    spec.loader.exec_module(mod)
    return mod


def _decode(p: Profile, model: str, quant: str, i: int, o: int, n: np.ndarray,
            mode: str | None = None) -> dict:
    return p.predict_grid(model, quant, i, np.full(n.shape, o), n, mode)


def test_beyond_the_fitted_batch_each_sequence_adds_its_kv_reads() -> None:
    p = Profile.load("jetson-agx-orin-64gb")
    entry = next(f for f in p.fits if f["model"] == FITTED and f["quant"] == "bf16")
    assert entry["decode"]["fitted_on"]["batch"][1] == 1
    kv_s = entry["decode"]["coef"]["kv_s"]
    assert kv_s > 0
    n = np.arange(1, 33, dtype=float)
    o = 256
    short, long = (_decode(p, FITTED, "bf16", i, o, n)["decode_s"] for i in (128, 2048))
    for d in (short, long):
        assert np.all(np.diff(d) > 0)  # monotone in N
    # each extra sequence costs the same per step (per-sequence compute + its KV reads) …
    inc_s, inc_l = np.diff(short), np.diff(long)
    assert np.allclose(inc_s, inc_s[0]) and np.allclose(inc_l, inc_l[0])
    # … and its KV reads grow with its context: (O−1) steps × kv_s × ΔI
    assert inc_l[0] - inc_s[0] == pytest.approx((o - 1) * kv_s * (2048 - 128), rel=1e-9)
    g = _decode(p, FITTED, "bf16", 2048, o, n)
    assert g["provenance"][0] == "predicted:measured-fit"
    assert set(g["provenance"][1:]) == {"predicted:spec-derived"}
    assert (g["decode_hi"] / g["decode_s"])[4] > (g["decode_hi"] / g["decode_s"])[0]


def test_spec_path_per_sequence_kv_is_at_least_the_bandwidth_floor() -> None:
    p = Profile.load("jetson-agx-thor").with_engine("trtllm")
    arch, spec = resolve_model("qwen3-8b"), load_device_spec("jetson-agx-thor")
    n = np.array([1.0, 8.0])
    step = _decode(p, "qwen3-8b", "int4", 2048, 2, n)["decode_s"]  # one step at 2049
    per_seq = (step[1] - step[0]) / 7
    assert per_seq >= arch.kv_bytes_per_token(2) * 2049 / bandwidth(spec)


@needs_ref
def test_loader_reads_the_published_batched_rows() -> None:
    bd = _module("batched_decode")
    figs = bd.load_held_out()
    assert all(f.batch == 8 for f in figs)
    serving = [f for f in figs if f.quantity == bd.SERVING]
    tpot = [f for f in figs if f.quantity == bd.TPOT]
    assert len(serving) == 9 and {f.device for f in serving} == {"jetson-agx-orin-64gb",
                                                                  "jetson-agx-thor"}
    runtime = [f for f in figs if f.quantity == bd.RUNTIME]
    # Edge-LLM runtime dashboards at BS=8 (INT4: v0.4.0, 0.9.0, 0.10.0; NVFP4 on Thor:
    # 0.9.0, 0.10.0); v0.8.0 is withdrawn
    assert len(runtime) == 22 and all("0.8.0" not in f.source for f in runtime)
    assert sum(f.quant == "nvfp4" for f in runtime) == 8
    thor_tpot = [f for f in figs if f.quantity == bd.SERVING_TPOT]
    assert [(f.model, f.quant, f.published_s) for f in thor_tpot] == [
        ("qwen3-8b", "bf16", pytest.approx(0.08533))]
    # llm_bench at batch 8: INT4 AWQ (0.10.0) and NVFP4 (0.10.0, 0.9.0) on Thor
    assert len(tpot) == 12 and {f.model for f in tpot} == {"qwen3-0.6b", "qwen3-1.7b",
                                                           "qwen3-4b", "qwen3-8b"}
    assert sorted({f.quant for f in tpot}) == ["int4", "nvfp4"]
    orin3b = next(f for f in serving if f.device == "jetson-agx-orin-64gb"
                  and f.model == "llama-3.2-3b")
    assert orin3b.published_s == pytest.approx(8 / 240.68)  # N / output throughput
    assert (orin3b.input_tokens, orin3b.output_tokens, orin3b.engine) == (2048, 128, "vllm")
    thor8b = next(f for f in tpot if f.model == "qwen3-8b" and f.quant == "int4")
    assert thor8b.published_s == pytest.approx(8 / 250.4) and thor8b.engine == "trtllm"


@needs_ref
def test_calibration_never_sees_a_batched_figure() -> None:
    obs = _module("calibration").load_obs()
    assert obs and max(o.batch for o in obs) == 1
    assert any(o.engine == "trtllm" for o in obs)  # Edge-LLM batch-1 figures are fitted


@needs_ref
def test_held_out_tpot_at_batch_8_is_predicted() -> None:
    bd = _module("batched_decode")
    rep = bd.score([f for f in bd.load_held_out() if f.quantity == bd.TPOT])
    for row in rep["figures"]:
        assert 0.8 < row["ratio"] < 1.25, row["model"]
        assert row["inside_90"] and not row["below_spec_floor"]
    assert rep["summary"]["median_abs_error"] < 0.15


def test_figures_left_out_for_beating_the_weight_stream_are_below_it() -> None:
    """The FP8 Qwen3-8B figures `NOT_USED` cites are faster than reading the weights once
    per step at Thor's spec bandwidth, as the entry says (8.88 ms; 8 / 298.07 tok/s)."""
    bd = _module("batched_decode")
    entry = next(e for e in bd.NOT_USED if "FP8" in e["source"])
    floor = (resolve_model("qwen3-8b").decode_stream_bytes("fp8")
             / bandwidth(load_device_spec("jetson-agx-thor")))
    assert f"{floor * 1e3:.1f} ms" in entry["why"]
    assert floor > max(8.88e-3, 8 / 298.07)


@needs_ref
def test_dataset_runs_decode_to_the_mtbench_cap_and_the_context_grows() -> None:
    """Edge-LLM's MTBench dashboards (0.9.0, 0.10.0) carry the file's 512-token cap as their
    output length; v0.4.0's (dataset not stated) keeps the one-step placeholder. A longer run
    costs more per step at batch 8: every sequence's KV grows through the run."""
    bd = _module("batched_decode")
    runtime = [f for f in bd.load_held_out() if f.quantity == bd.RUNTIME]
    by_release = {(f.input_tokens > 300, f.output_tokens) for f in runtime}
    assert by_release == {(False, 512), (True, 2)}
    f = next(f for f in runtime if f.output_tokens == 512 and f.model == "qwen3-0.6b")
    prof = Profile.load(f.device).with_engine(f.engine)
    one_step = bd.predict(prof, bd.replace(f, output_tokens=2))[0]
    assert bd.predict(prof, f)[0] > one_step * 1.05


@needs_ref
def test_sensitivity_at_the_assumed_cap_reproduces_the_scored_figures() -> None:
    bd = _module("batched_decode")
    figs = bd.load_held_out()
    sens = bd.runtime_sensitivity(figs)
    rep = bd.score(figs)["summary"]
    assert sens["assumed_in_data"] == [512]
    at_cap = sens["512"]
    assert at_cap["all"]["median_abs_error"] == pytest.approx(rep["median_abs_error"])
    assert at_cap["all"]["coverage_90"] == pytest.approx(rep["coverage_90"])
    assert at_cap["dataset_runs"]["n"] == 18 == sum(bd.is_dataset_run(f) for f in figs)
    assert {k for k in sens if k != "assumed_in_data"} == {"128", "256", "512"}
    # a shorter assumed run reads less KV per step: every dataset run is predicted faster
    assert sens["128"]["dataset_runs"]["median_ratio"] < at_cap["dataset_runs"]["median_ratio"]


@needs_ref
def test_markdown_table_has_one_row_per_figure_with_every_column() -> None:
    bd = _module("batched_decode")
    rows = bd.score(bd.load_held_out())["figures"]
    lines = bd.markdown_table(rows).splitlines()
    assert len(lines) == len(rows) + 2
    assert all(line.count("|") == 13 for line in lines)
    dashboards = [ln for ln in lines[2:] if "| runtime |" in ln]
    assert dashboards and all("| tensorrt-edge-llm 0." in ln for ln in dashboards)  # release
    assert all(r["provenance"].startswith("predicted:") for r in rows)
