"""Datacenter engine terms: fitted on datacenter figures, physical, labeled, with held-out
intervals; a card without figures takes the class terms with a wider interval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeprof.catalog import resolve_model
from edgeprof.device._spec import load_device_spec
from edgeprof.fit import Profile
from edgeprof.fit._roofline import bandwidth
from edgeprof.importers._jetson_benchmarks import read_figures

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data"
DATACENTER = sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml")
                    if not p.name.startswith("jetson-"))
WITH_FIGURES = ("h100-sxm", "a100-sxm4-80gb", "h200-sxm", "l40s")
WITHOUT_FIGURES = ("l4", "rtx-4090", "rtx-3090", "rtx-a6000", "rtx-4060", "h100-nvl", "l40",
                   "b200-sxm")


def _terms(device: str, engine: str) -> dict:
    return Profile.load(device).calibration["engines"][engine]


@pytest.mark.parametrize("device", DATACENTER)
@pytest.mark.parametrize("engine", ("trtllm", "vllm"))
def test_datacenter_profiles_carry_fitted_terms_with_their_source(device: str,
                                                                   engine: str) -> None:
    t = _terms(device, engine)
    assert "calibration_datacenter.py" in t["source"]
    assert t["n_figures"] > 0 and t["label"]
    for key in ("interval", "ttft_interval"):
        assert 0.05 < t[key]["lo"] < 1.0 < t[key]["hi"] < 10.0
        assert "held" in t[key]["from"] or "out" in t[key]["from"]
    # datacenter decode steps are CUDA-graph launches: µs–ms, never Jetson-vLLM's ~10 ms
    assert 1e-5 <= t["decode_overhead_s"] < 0.006
    assert Profile.load(device).calibration["engine"] == "trtllm"


def test_jetson_terms_are_not_the_datacenter_ones() -> None:
    jet = Profile.load("jetson-orin-nx-16gb").calibration["engines"]["trtllm"]
    assert "calibration_datacenter.py" not in jet["source"]


@pytest.mark.parametrize("device", WITH_FIGURES)
def test_cards_with_figures_get_their_own_terms(device: str) -> None:
    t = _terms(device, "trtllm")
    assert device in t["label"] and "transferred" not in t["label"]


@pytest.mark.parametrize("device", WITHOUT_FIGURES)
def test_a_card_without_figures_gets_the_class_terms_with_a_wider_interval(device: str) -> None:
    t, fitted = _terms(device, "trtllm"), _terms("h100-sxm", "trtllm")
    assert "transferred" in t["label"]
    assert t["interval"]["hi"] / t["interval"]["lo"] > \
        fitted["interval"]["hi"] / fitted["interval"]["lo"]
    p = Profile.load(device).with_engine("trtllm").predict("llama-3.1-8b", "fp16", 512, 128)
    assert "transferred" in p.decode_s.note


def test_h100_batch1_tpot_of_an_8b_bf16_model_is_near_the_bandwidth_roofline() -> None:
    arch, spec = resolve_model("llama-3.1-8b"), load_device_spec("h100-sxm")
    floor = arch.decode_stream_bytes("bf16") / bandwidth(spec)  # 100 % of 3.35 TB/s: ~4.5 ms
    p = Profile.load("h100-sxm").with_engine("trtllm").predict("llama-3.1-8b", "bf16", 1024,
                                                              129)
    tpot = p.decode_s.value / 128
    assert floor < tpot < 2.0 * floor
    assert p.decode_s.lo < p.decode_s.value < p.decode_s.hi
    assert "fitted on h100-sxm" in p.decode_s.note and "AIConfigurator" in p.decode_s.note


def test_datacenter_published_figures_import_to_shipped_profiles() -> None:
    rows, skipped = read_figures(DATA / "datacenter-published.csv")
    assert not skipped and len(rows) >= 15
    assert {r.device for r in rows} >= {"h100-sxm", "h200-sxm", "l40s", "a100-sxm4-80gb"}
    assert all((r.model_extra or {})["published_source"] for r in rows)
    assert {r.source for r in rows} == {"imported:jetson-benchmarks"}  # measured, imported
    ttft = [r for r in rows if r.device == "h100-sxm" and r.input_tokens == 128]
    assert any(abs(r.ttft_s - 0.0063) < 1e-9 for r in ttft)  # 6.3 ms as published


def test_aiconfigurator_rows_are_labeled_estimates_not_measurements() -> None:
    rows, _ = read_figures(DATA / "aiconfigurator-estimates.csv")
    assert rows
    for r in rows:
        assert "database estimate" in (r.model_extra or {})["published_source"]
        assert r.source == "predicted:published-estimate"  # never "imported" (a measurement)
    tpot = [r for r in rows if (r.model_extra or {})["published_metric"] == "tpot_ms"]
    assert all(abs(r.tbt_s * 1e3 - r.model_extra["published_value"]) < 1e-9 for r in tpot)


def test_predict_points_cli_labels_the_calibration(tmp_path: Path, run_cli) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text("model,quant,input_tokens,output_tokens,batch\n"
                   "llama-3.1-8b,bf16,1024,128,1\nqwen3-8b,fp8,2048,256,8\n")
    code, out, _ = run_cli("predict", "--device", "h100-sxm", "--engine", "trtllm", "--points",
                           str(pts), "--json")
    assert code == 0
    res = [json.loads(line) for line in out.splitlines()]  # JSON lines, one per point
    assert len(res) == 2
    for r in res:
        assert r["engine"] == "trtllm"
        for k in ("ttft_s", "decode_s"):
            assert r[k]["lo"] < r[k]["value"] < r[k]["hi"]
            assert "trtllm terms fitted on h100-sxm" in r[k]["note"]


def _calibration_datacenter():
    import importlib.util
    import sys

    bench = ROOT / "benchmarks"
    sys.path.insert(0, str(bench))  # it imports its sibling calibration.py
    spec = importlib.util.spec_from_file_location("calibration_datacenter",
                                                  bench / "calibration_datacenter.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_measured_serving_runs_import_whole_and_labeled_as_measurements() -> None:
    """Every row of datacenter-served.csv imports (no skip), onto the card its source names,
    as an imported measurement; an ITL average is read as TPOT in seconds."""
    rows, skipped = read_figures(DATA / "datacenter-served.csv")
    assert not skipped and len(rows) == 402
    assert {r.device for r in rows} == {"h100-sxm", "h200-sxm", "l40s", "a100-sxm4-80gb",
                                        "rtx-a6000"}
    assert {r.source for r in rows} == {"imported:jetson-benchmarks"}
    nim = [r for r in rows if "nim.csv" in r.model_extra["published_source"]
           and r.model_extra["published_metric"] == "tpot_ms"]
    assert len(nim) == 18 and all(r.engine == "trtllm" and r.model == "llama-3-8b" for r in nim)
    assert any(abs(r.tbt_s - 0.0122036) < 1e-9 for r in nim)  # A100 fp16 200/1000: 12.2036 ms


def test_a_request_latency_that_is_ttft_plus_tpot_is_not_fitted_twice() -> None:
    """The NIM / TensorRT-LLM 0.9.0 runs give TTFT, TPOT and their sum: the sum is left out
    of the fit; vLLM's single-stream latency (the only figure of its runs) stays."""
    cd = _calibration_datacenter()
    obs = [o for o in cd.load_obs((cd.SERVED,))]
    by = {s: {o.metric for o in obs if o.source == s} for s in {o.source for o in obs}}
    assert by["NVIDIA DLI nim.csv (NIM, TensorRT-LLM backend)"] == {"ttft", "decode"}
    assert by["NVIDIA DLI trt_llm_0_9_0_dli.csv"] == {"ttft", "decode"}
    assert by["Neural Magic model cards (vLLM 0.7.2)"] == {"e2e"}
    assert sum(o.metric == "e2e" for o in obs) == 288


def test_the_a6000_has_vllm_terms_of_its_own_from_its_measured_runs() -> None:
    t = _terms("rtx-a6000", "vllm")
    assert "rtx-a6000" in t["label"] and "96 published measurements" in t["label"]
    assert "transferred" in _terms("rtx-a6000", "trtllm")["label"]


def test_static_batch_runs_import_whole_and_stay_out_of_every_fit() -> None:
    """datacenter-batched.csv (DLI TensorRT-LLM 0.9.0, batch 2-896) imports whole onto the
    four cards; calibration_datacenter.py does not read it (it is the held-out batched set)."""
    rows, skipped = read_figures(DATA / "datacenter-batched.csv")
    assert not skipped and len(rows) == 717
    assert min(r.batch for r in rows) == 2 and max(r.batch for r in rows) == 896
    assert {r.device for r in rows} == set(WITH_FIGURES)
    # line 44: H200 FP8 Llama-2-7B, batch 4, 128/128: token-to-token latency 3.6528 ms
    hit = [r for r in rows if r.device == "h200-sxm" and r.model == "llama-2-7b"
           and r.batch == 4 and r.input_tokens == r.output_tokens == 128 and r.tbt_s]
    assert len(hit) == 1 and abs(hit[0].tbt_s - 0.0036528346) < 1e-9
    fitted = _calibration_datacenter().load_obs()
    assert all(o.batch == 1 for o in fitted if o.source == "NVIDIA DLI trt_llm_0_9_0_dli.csv")


@pytest.mark.parametrize("device", ("h100-sxm", "h200-sxm", "l40s"))
def test_trtllm_fp8_terms_read_the_kv_cache_in_fp8_and_vllm_terms_do_not(device: str) -> None:
    """TensorRT-LLM's FP8 recipe quantizes the KV cache; its datacenter terms say so (for the
    FP8 quant they were fitted on as for the pooled ones), vLLM's keep 16-bit KV."""
    trt = _terms(device, "trtllm")
    assert trt["fp8_kv_cache"] == 1.0
    assert all(q.get("fp8_kv_cache") == 1.0 for q in trt.get("quants", {}).values())
    assert not _terms(device, "vllm").get("fp8_kv_cache")
    assert not Profile.load("jetson-agx-thor").calibration["engines"]["trtllm"].get(
        "fp8_kv_cache")  # TensorRT Edge-LLM: FP8 KV is an opt-in export flag


def test_fp8_kv_cache_halves_batched_decode_kv_reads_of_fp8_only() -> None:
    """Same terms, the flag on: a long-context batch-32 FP8 decode gets faster, a BF16 one
    does not move, and a batch-1 short decode barely moves."""
    base = dict(_terms("h100-sxm", "trtllm"))
    base.pop("quants", None)
    from edgeprof.fit._engine_terms import predict_times
    spec, arch = load_device_spec("h100-sxm"), resolve_model("llama-2-13b")
    on, off = base | {"fp8_kv_cache": 1.0}, {k: v for k, v in base.items()
                                             if k != "fp8_kv_cache"}
    long_on = predict_times(on, arch, "fp8", spec, None, 2048, 2048, 32)["tbt_s"]
    long_off = predict_times(off, arch, "fp8", spec, None, 2048, 2048, 32)["tbt_s"]
    assert long_on < 0.75 * long_off
    assert predict_times(on, arch, "bf16", spec, None, 2048, 2048, 32)["tbt_s"] == \
        predict_times(off, arch, "bf16", spec, None, 2048, 2048, 32)["tbt_s"]
    short = [predict_times(t, arch, "fp8", spec, None, 128, 128, 1)["tbt_s"] for t in (on, off)]
    assert short[0] < short[1] < 1.05 * short[0]


@pytest.mark.parametrize(("board", "profile"), [
    ("H100 NVL", "h100-nvl"), ("H100-NVL-94GB", "h100-nvl"), ("H100 80GB HBM3", "h100-sxm"),
    ("L40", "l40"), ("L40S", "l40s"), ("H200 141GB HBM3", "h200-sxm"),
    ("A100x1", "a100-sxm4-80gb"), ("L4", "l4"), ("NVIDIA B200 SXM", "b200-sxm"),
    ("Jetson AGX Orin (64GB)", "jetson-agx-orin-64gb"), ("IGX Orin", "jetson-agx-orin-64gb"),
])
def test_published_board_names_map_to_their_own_card(board: str, profile: str) -> None:
    from edgeprof.importers import board_profile

    assert board_profile(board) == profile


@pytest.mark.parametrize("board", ("GH200 120GB", "H200 NVL", "H100 PCIe", "GB200"))
def test_a_card_without_a_profile_is_not_taken_for_a_similar_name(board: str) -> None:
    from edgeprof.errors import DataFormatError
    from edgeprof.importers import board_profile

    with pytest.raises(DataFormatError, match="Unknown board"):
        board_profile(board)


def test_cards_nobody_calibrated_import_whole_and_take_transferred_terms() -> None:
    """datacenter-unseen-cards.csv (H100 NVL, L40) is in no fit; their profiles take the class
    terms, labeled transferred, with the widened interval."""
    rows, skipped = read_figures(DATA / "datacenter-unseen-cards.csv")
    assert not skipped and len(rows) == 417
    assert {r.device for r in rows} == {"h100-nvl", "l40"}
    for card in ("h100-nvl", "l40"):
        assert "transferred" in _terms(card, "trtllm")["label"]
    fitted = _calibration_datacenter().load_obs()
    assert not {o.device for o in fitted} & {"h100-nvl", "l40"}


def test_b200_estimates_import_whole_and_stay_out_of_every_fit() -> None:
    """aiconfigurator-b200.csv (AIConfigurator database estimates) judges the b200-sxm
    profile's transferred class terms; no B200 figure is fitted on."""
    rows, skipped = read_figures(DATA / "aiconfigurator-b200.csv")
    assert not skipped and len(rows) == 120
    assert {r.device for r in rows} == {"b200-sxm"}
    assert {r.engine for r in rows} == {"trtllm", "vllm"}
    assert all("AIConfigurator 0.12.0 database estimate" in (r.published_source or "")
               and r.source == "predicted:published-estimate" for r in rows)
    assert "transferred" in _terms("b200-sxm", "trtllm")["label"]
    assert "b200-sxm" not in {o.device for o in _calibration_datacenter().load_obs()}


def test_a_prediction_says_when_it_keeps_the_kv_cache_in_fp8_and_counts_its_memory() -> None:
    """The note says so, and the memory estimate counts one byte per KV element: the FP8
    TensorRT-LLM point needs less memory than the same point on vLLM (16-bit KV) by the KV
    cache's half, 8 sequences × 1280 tokens × 64 KiB per token (Llama-3.1-8B, 16-bit)."""
    prof = Profile.load("h100-sxm")
    trt = prof.predict("llama-3.1-8b", "fp8", 1024, 256, 8, engine="trtllm")
    assert "KV cache in FP8" in trt.decode_s.note
    for quant, engine in (("bf16", "trtllm"), ("fp8", "vllm")):
        note = prof.predict("llama-3.1-8b", quant, 1024, 256, 8, engine=engine).decode_s.note
        assert "KV cache" not in note
    vllm = prof.predict("llama-3.1-8b", "fp8", 1024, 256, 8, engine="vllm")
    half_kv = resolve_model("llama-3.1-8b").kv_bytes_per_token(1) * 1280 * 8
    assert vllm.peak_mem_bytes.value - trt.peak_mem_bytes.value == pytest.approx(half_kv)
