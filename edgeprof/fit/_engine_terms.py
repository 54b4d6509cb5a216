"""Engines as an axis of prediction, and the physics their efficiency terms scale.

An engine's terms are the roofline's efficiency factors (``roofline.spec_coefficients``):
``bandwidth_eff`` (weight and KV streaming), ``compute_eff`` (prefill GEMMs, and the batched
decode's per-sequence compute), ``decode_overhead_s`` (per-step launch/scheduling cost) and
``prefill_overhead_s`` (the launch-bound floor of a short prompt). The hardware enters
through the spec: bandwidth and peak compute per power mode (GPU clock × enabled TPCs ×
per-SM tensor rate, ``gpu_tflops_scale``), so one engine's terms move across boards and modes.
"""

from __future__ import annotations

import numpy as np

from edgeprof.catalog import ArchSpec
from edgeprof.device._spec import DeviceSpec
from edgeprof.errors import UserInputError
from edgeprof.fit import _forms as forms
from edgeprof.fit._roofline import DEFAULT_CALIBRATION, spec_coefficients
from edgeprof.units import fold_name

ENGINES: tuple[str, ...] = ("vllm", "trtllm", "mlc", "llama.cpp", "torch", "onnxruntime")
ALIASES: dict[str, str] = {  # keys after normalize_engine's folding (lower case, "-")
    "ollama": "llama.cpp", "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp",
    "mlc-llm": "mlc", "tensorrt-llm": "trtllm", "trt-llm": "trtllm", "edge-llm": "trtllm",
    "tensorrt-edge-llm": "trtllm", "pytorch": "torch", "transformers": "torch", "hf": "torch",
    "ort": "onnxruntime", "onnx": "onnxruntime", "openai": "vllm",
}
TERMS: tuple[str, ...] = ("bandwidth_eff", "decode_overhead_s", "compute_eff",
                          "prefill_overhead_s")
# Physical bounds of each term (a fit never leaves them).
BOUNDS: dict[str, tuple[float, float]] = {
    "bandwidth_eff": (0.05, 1.0), "decode_overhead_s": (1e-5, 0.2),
    "compute_eff": (0.01, 1.0), "prefill_overhead_s": (1e-4, 2.0),
}


class UnknownEngineError(UserInputError):
    """An engine name edgeprof does not model."""


def normalize_engine(name: str) -> str:
    """Canonical engine name (Ollama → llama.cpp, TensorRT Edge-LLM → trtllm, …); case,
    spaces and underscores do not matter ("MLC LLM", "tensorrt_llm")."""
    key = fold_name(name)
    key = ALIASES.get(key, key)
    if key not in ENGINES:
        raise UnknownEngineError(f"Unknown engine {name!r}; choose one of {', '.join(ENGINES)} "
                                 "(Ollama is llama.cpp; TensorRT Edge-LLM is trtllm).")
    return key


def as_calibration(terms: dict[str, float]) -> dict[str, float]:
    """Engine terms → the roofline's calibration keys (KV streams at the weights' rate)."""
    cal = DEFAULT_CALIBRATION | {k: float(terms[k]) for k in TERMS if k in terms}
    cal["kv_bandwidth_eff"] = float(terms.get("kv_bandwidth_eff", cal["bandwidth_eff"]))
    if terms.get("overhead_ref_layers"):  # the step overhead scales with the layer count
        cal["overhead_ref_layers"] = float(terms["overhead_ref_layers"])
    if terms.get("pad_tokens"):  # the engine's prefill GEMM tile, in tokens
        cal["pad_tokens"] = float(terms["pad_tokens"])
    if terms.get("fp8_kv_cache"):  # FP8 models keep their KV cache in FP8 (1 byte)
        cal["fp8_kv_cache"] = 1.0
    return cal


def predict_times(terms: dict[str, float], arch: ArchSpec, quant: str, spec: DeviceSpec,
                  mode: str | None, input_tokens: float, output_tokens: float,
                  batch: float) -> dict[str, float]:
    """TTFT, decode time (O−1 steps), time per step and end-to-end time, in seconds."""
    coef = spec_coefficients(arch, quant, spec, as_calibration(terms), mode)
    i, o, b = (np.array([float(x)]) for x in (input_tokens, output_tokens, batch))
    ttft = float(forms.prefill_time(coef["prefill"], arch, i, b)[0])
    dec = float(forms.decode_time(coef["decode"], i, o, b)[0])
    steps = max(float(output_tokens) - 1.0, 1.0)
    per_step = dec / steps if output_tokens > 1 else float(
        forms.decode_time(coef["decode"], i, np.array([2.0]), b)[0])
    return {"ttft_s": ttft, "decode_s": dec, "tbt_s": per_step, "e2e_s": ttft + dec}
