"""NVFP4: predicted where the hardware has FP4 tensor cores, refused where it does not."""

from __future__ import annotations

import pytest

from edgeprof.device._types import DetectedDevice
from edgeprof.device.nvidia._gpus import derived_gpu_spec
from edgeprof.errors import UnsupportedError
from edgeprof.fit import Profile
from edgeprof.importers._jetson_benchmarks import map_quant


def _thor(quant: str, input_tokens: int):
    return Profile.load("jetson-agx-thor").predict("qwen3-8b", quant, input_tokens, 2, 1,
                                                   engine="trtllm")


def test_nvfp4_prefill_runs_on_fp4_tensor_cores_and_decode_streams_its_bytes() -> None:
    """On Thor, NVFP4 prefill (W4A4 on FP4 tensor cores) beats INT4 AWQ (dequantized to FP16
    matmuls) several-fold at 2048 tokens, and decode (weight streaming: 4.5 vs 4.25 bits per
    weight) stays within 15 %: the direction of Edge-LLM's published v0.10.0 llm_bench rows."""
    nv, awq = _thor("nvfp4", 2048), _thor("int4", 2048)
    assert nv.ttft_s.value * 2 < awq.ttft_s.value
    assert abs(nv.decode_s.value / awq.decode_s.value - 1) < 0.15
    assert nv.ttft_s.lo <= nv.ttft_s.value <= nv.ttft_s.hi


def test_nvfp4_is_refused_on_a_board_without_fp4_tensor_cores() -> None:
    with pytest.raises(UnsupportedError, match="nvfp4"):
        Profile.load("jetson-agx-orin-64gb").predict("qwen3-8b", "nvfp4", 128, 64, 1,
                                                     engine="trtllm")
    with pytest.raises(UnsupportedError, match="nvfp4"):
        Profile.load("h100-sxm").predict("qwen3-8b", "nvfp4", 128, 64, 1, engine="trtllm")


@pytest.mark.parametrize(("cc", "has"), [("9.0", False), ("8.9", False), ("10.0", True),
                                         ("12.0", True)])
def test_a_gpu_without_a_profile_gets_nvfp4_from_blackwell_on(cc: str, has: bool) -> None:
    dev = DetectedDevice(id="cuda:0", kind="gpu", name="Some GPU", memory_bytes=32 << 30,
                         compute_capability=cc)
    assert ("nvfp4" in derived_gpu_spec(dev).native_quants) is has


def test_published_nvfp4_spellings_import_as_nvfp4_not_fp16() -> None:
    assert map_quant("NVFP4") == map_quant("NVFP4 / FP16") == "nvfp4"
    assert map_quant("FP8 / FP16") == "fp8" and map_quant("INT4 AWQ") == "int4"


def test_the_published_nvfp4_rows_import_as_thor_nvfp4() -> None:
    from pathlib import Path

    from edgeprof.importers import WITHDRAWN_RELEASES, read_figures

    path = Path(__file__).resolve().parents[2] / "benchmarks/data/tensorrt-edge-llm-nvfp4.csv"
    rows, skipped = read_figures(path)
    assert not skipped and len(rows) == 88
    assert {(r.device, r.engine, r.quant) for r in rows} == {("jetson-agx-thor", "trtllm",
                                                              "nvfp4")}
    kept = [r for r in rows if r.engine_detail not in WITHDRAWN_RELEASES]
    assert len(kept) == 64  # v0.8.0's 24 rows are withdrawn by their page


def test_nvfp4_on_a_board_without_fp4_is_one_line_at_the_cli(run_cli) -> None:
    code, out, err = run_cli("predict", "--device", "jetson-orin-nano-8gb", "--engine", "trtllm",
                             "--model", "qwen3-8b", "--quant", "NVFP4", "--input-tokens", "128",
                             "--output-tokens", "64")
    assert code == 2 and not out.strip() and len(err.strip().splitlines()) == 1
    assert "nvfp4" in err
