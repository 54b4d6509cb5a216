"""--kv-cache-dtype: an 8-bit KV cache where the engine keeps one, and what it changes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.catalog import resolve_model
from edgeprof.device import load_device_spec
from edgeprof.errors import UserInputError
from edgeprof.fit import Profile
from edgeprof.fit import _kv_cache as kv_cache


def _pair(device: str, engine: str, dtype: str, model: str, quant: str, i: np.ndarray,
          o: np.ndarray, b: np.ndarray) -> tuple[dict, dict]:
    p = Profile.load(device).with_engine(engine)
    return (p.predict_grid(model, quant, i, o, b),
            p.with_kv_cache_dtype(dtype).predict_grid(model, quant, i, o, b))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8192), st.integers(1, 4096), st.integers(1, 64))
def test_llama_cpp_q8_0_stores_34_bytes_per_32_elements_and_reads_them(
        i: int, o: int, b: int) -> None:
    """Memory drops by exactly the KV cache's saving (f16 → q8_0: 34/64 of the bytes);
    the prefill is untouched and decode, whose kernels read the q8_0 blocks, gets no slower."""
    arch = resolve_model("llama-3.2-3b")
    a, q = _pair("jetson-orin-nano-8gb", "llama.cpp", "q8_0", "llama-3.2-3b", "int4",
                 np.array([i]), np.array([o]), np.array([b]))
    saved = arch.kv_bytes_per_token(2) * (i + o) * b * (1 - 34 / 64)
    assert a["peak_mem_bytes"][0] - q["peak_mem_bytes"][0] == pytest.approx(saved, rel=1e-9)
    assert q["ttft_s"][0] == a["ttft_s"][0]
    assert q["decode_s"][0] <= a["decode_s"][0]
    assert q["provenance"][0] == "predicted:spec-derived"


def test_trtllm_fp8_halves_the_kv_term_and_vllm_fp8_only_its_memory() -> None:
    i, o, b = np.array([2048.0]), np.array([512.0]), np.array([8.0])
    a, q = _pair("jetson-agx-thor", "trtllm", "fp8", "qwen3-8b", "int4", i, o, b)
    arch = resolve_model("qwen3-8b")
    assert a["peak_mem_bytes"][0] - q["peak_mem_bytes"][0] == pytest.approx(
        arch.kv_bytes_per_token(2) * 2560 * 8 / 2)
    assert q["decode_s"][0] < 0.95 * a["decode_s"][0]  # 8 sequences' KV is a large share
    a, q = _pair("h100-sxm", "vllm", "fp8", "qwen3-8b", "bf16", i, o, b)
    assert q["peak_mem_bytes"][0] < a["peak_mem_bytes"][0]
    assert q["decode_s"][0] == a["decode_s"][0]  # no fused dequantization: reads unchanged


def test_the_note_says_what_was_assumed() -> None:
    p = Profile.load("jetson-orin-nano-8gb").with_engine("llama.cpp")
    pred = p.with_kv_cache_dtype("q8_0").predict("llama-3.2-3b", "int4", 512, 128, 4)
    assert "KV cache in q8_0 (1.0625 bytes per element)" in pred.decode_s.note
    assert "answer quality with it is not modelled" in pred.decode_s.note
    assert pred.peak_mem_bytes.provenance == "predicted:spec-derived"
    assert "KV cache" not in (p.predict("llama-3.2-3b", "int4", 512, 128, 4).decode_s.note
                              or "")


@pytest.mark.parametrize(("device", "engine", "dtype", "needle"), [
    ("jetson-agx-orin-64gb", "vllm", "fp8", "only through FlashAttention 3 on compute "
     "capability 9.x"),
    ("l40s", "vllm", "fp8", "l40s is compute capability 8.9"),
    ("jetson-orin-nano-8gb", "trtllm", "fp8", "runs FP16, INT8 and INT4 only"),
    ("jetson-agx-orin-64gb", "llama.cpp", "fp8", "llama.cpp's 8-bit KV cache is q8_0"),
    ("h100-sxm", "vllm", "q8_0", "vllm's 8-bit KV cache is fp8"),
    ("h100-sxm", "mlc", "fp8", "no 8-bit KV cache for engine mlc"),
])
def test_an_engine_without_that_cache_on_the_device_is_a_one_line_error(
        device: str, engine: str, dtype: str, needle: str) -> None:
    p = Profile.load(device).with_engine(engine).with_kv_cache_dtype(dtype)
    with pytest.raises(UserInputError) as exc:
        p.predict("qwen3-8b", "int4" if "jetson" in device else "bf16", 512, 128)
    assert needle in str(exc.value) and "\n" not in str(exc.value)
    assert str(exc.value).startswith(f"--kv-cache-dtype {dtype}: ")


@pytest.mark.parametrize(("device", "engine", "dtype"), [
    ("h100-sxm", "vllm", "fp8"), ("h200-sxm", "vllm", "fp8"), ("a100-sxm4-80gb", "trtllm", "fp8"),
    ("l40s", "trtllm", "fp8"), ("jetson-agx-thor", "trtllm", "fp8"),
    ("jetson-orin-nano-8gb", "llama.cpp", "q8_0"), ("rtx-3090", "llama.cpp", "q8_0")])
def test_where_the_cache_is_kept_it_is_allowed(device: str, engine: str, dtype: str) -> None:
    assert kv_cache.why_not(dtype, engine, load_device_spec(device)) is None


def test_an_unknown_dtype_is_refused_before_any_prediction() -> None:
    with pytest.raises(UserInputError, match="is not one of auto, fp8, q8_0"):
        Profile.load("h100-sxm").with_kv_cache_dtype("int4")


def test_the_setting_survives_with_engine_and_prefix_caching() -> None:
    p = Profile.load("h100-sxm").with_kv_cache_dtype("fp8")
    assert p.with_engine("vllm").with_prefix_caching().kv_cache_dtype == "fp8"


def test_predict_cli_labels_the_cache_and_refuses_in_one_line(run_cli) -> None:
    code, out, _ = run_cli("predict", "--device", "jetson-orin-nano-8gb", "--engine",
                           "llama.cpp", "--model", "llama-3.2-3b", "--quant", "int4",
                           "--input-tokens", "2048", "--output-tokens", "256", "--batch", "4",
                           "--kv-cache-dtype", "q8_0", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["kv_cache_dtype"] == "q8_0" and "q8_0" in d["peak_mem_bytes"]["note"]
    code, _, err = run_cli("predict", "--device", "jetson-orin-nano-8gb", "--model",
                           "llama-3.2-3b", "--quant", "int4", "--input-tokens", "64",
                           "--output-tokens", "8", "--kv-cache-dtype", "fp8")
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "FlashAttention 3" in lines[0]


@pytest.mark.parametrize("mode", [None, "30W", "15W"])
def test_a_measured_fit_carried_to_another_power_mode_is_scaled_once(mode: str | None) -> None:
    """The AGX Orin's measured fits, relabeled as llama.cpp runs (fitted at MAXN): with q8_0
    the fitted KV term is scaled by 34/64 exactly once, also when the plan is carried to
    another power mode from the MAXN plan (which already holds the 8-bit cache), and the
    measured fit becomes spec-derived."""
    import copy

    base = Profile.load("jetson-agx-orin-64gb")
    fits = copy.deepcopy(base.fits)
    for f in fits:
        f["engine"] = "llama.cpp"
    p = Profile(base.device, fits, base.calibration, base.provenance)
    model = "deepseek-r1-distill-qwen-1.5b"
    a = p._plan(model, "bf16", mode, "llama.cpp")
    b = p.with_kv_cache_dtype("q8_0")._plan(model, "bf16", mode, "llama.cpp")
    assert b.decode["kv_s"] / a.decode["kv_s"] == pytest.approx(34 / 64)
    assert b.kv_bytes == 34 / 32 and b.provenance == "predicted:spec-derived"
    assert (b.note or "").count("KV cache in q8_0") == 1


def test_recommend_says_under_the_winner_what_it_predicted_with(run_cli) -> None:
    code, out, _ = run_cli("recommend", "--device", "jetson-orin-nano-8gb", "--engine",
                           "llama.cpp", "--kv-cache-dtype", "q8_0", "--budget", "20s")
    assert code == 0
    flat = " ".join(out.split())
    assert "Note: latency predicted for engine llama.cpp (--engine); KV cache in q8_0" in flat
    assert "Note: memory limit" in flat
