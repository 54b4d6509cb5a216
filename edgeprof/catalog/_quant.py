"""Quant formats: what a name means, its storage cost, and which hardware runs it natively.

Storage follows common practice in deployment engines: the linear layers (attention and MLP
projections) take the format; embeddings, the LM head and norms stay in the activation dtype
(16-bit, or fp32 for ``fp32``). INT4 is weight-only with one fp16 scale and one zero point per
group of ``group_size`` weights (AWQ/GPTQ/MatMulNBits style), so it costs 4 + 32/group bits.
NVFP4 quantizes weights and activations to 4-bit E2M1 with one 8-bit (UE4M3) scale per block of
16 values and one FP32 scale per tensor — 4 + 8/16 = 4.5 bits per weight (the format table of
Intel Neural Compressor's "NVFP4 Quantization" page; NeMo AutoModel's NVFP4 utilities count
the same 0.5625 bytes per parameter) — and its matmuls run on Blackwell's FP4 tensor cores
(``peak_tflops.fp4``; TensorRT Edge-LLM's precision key: "NVFP4 | SM100+ (Blackwell and
newer)").
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.errors import UnknownQuantError
from edgeprof.units import fold_name


@dataclass(frozen=True)
class QuantFormat:
    """One quantization format.

    Attributes:
        name: the short name used on the command line (``int4``).
        weight_bits: bits per quantized weight including scale overhead.
        activation_bits: bits of the activations in the quantized matmuls.
        compute_dtype: the data type whose peak compute applies to its matmuls
            (a key of ``DeviceSpec.peak_tflops``).
        description: one line for ``edgeprof models``.
    """

    name: str
    weight_bits: float
    activation_bits: int
    compute_dtype: str
    description: str
    group_size: int | None = None

    @property
    def weight_bytes_per_param(self) -> float:
        return self.weight_bits / 8.0

    @property
    def dense_dtype_bytes(self) -> int:
        """Bytes per element of the unquantized tensors (embeddings, norms, KV cache)."""
        return 4 if self.name == "fp32" else 2


INT4_GROUP_SIZE = 128
NVFP4_BLOCK_SIZE = 16
#: Compute capability from which NVFP4 matmuls run natively (FP4 tensor cores): TensorRT
#: Edge-LLM's precision key, "NVFP4 | SM100+ (Blackwell and newer)". The one place this is said.
NVFP4_MIN_CC = (10, 0)

QUANT_FORMATS: dict[str, QuantFormat] = {
    q.name: q
    for q in (
        QuantFormat("fp32", 32, 32, "fp32", "32-bit float weights and activations"),
        QuantFormat("fp16", 16, 16, "fp16", "16-bit float weights and activations"),
        QuantFormat("bf16", 16, 16, "bf16", "bfloat16 weights and activations"),
        QuantFormat(
            "fp8", 8, 8, "fp8", "FP8 (e4m3) weights and activations, per-tensor/row scales"
        ),
        QuantFormat(
            "int8", 8, 8, "int8", "INT8 weights (per channel) and dynamic INT8 activations (W8A8)"
        ),
        QuantFormat(
            "int4",
            4 + 32 / INT4_GROUP_SIZE,
            16,
            "fp16",
            f"INT4 weight-only, groups of {INT4_GROUP_SIZE} with fp16 scale and zero (W4A16)",
            group_size=INT4_GROUP_SIZE,
        ),
        QuantFormat(
            "nvfp4",
            4 + 8 / NVFP4_BLOCK_SIZE,
            4,
            "fp4",
            f"NVFP4: E2M1 weights and activations, one FP8 (UE4M3) scale per {NVFP4_BLOCK_SIZE} "
            "values + an FP32 per-tensor scale (W4A4, Blackwell FP4 tensor cores)",
            group_size=NVFP4_BLOCK_SIZE,
        ),
    )
}

QUANT_ALIASES = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16", "w8a8": "int8",
                 "w4a16": "int4", "e4m3": "fp8", "float8": "fp8",
                 # Method names published tables use for the same weight bytes: AWQ and GPTQ
                 # are group-wise INT4 weight-only (W4A16); SmoothQuant is INT8 W8A8.
                 "awq": "int4", "gptq": "int4", "int4-awq": "int4", "int4-gptq": "int4",
                 "w4a16-awq": "int4", "w4a16-gptq": "int4", "int8-sq": "int8",
                 "smoothquant": "int8", "w8a8-int8": "int8", "w8a8-fp8": "fp8",
                 "fp8-e4m3": "fp8", "int8-smoothquant": "int8",
                 # llama.cpp GGUF types and MLC's quantization codes, mapped as the importers
                 # map them (edgeprof.importers: Q4_K_M / q4f16 -> int4, Q8_0 -> int8), so a
                 # point asked in an engine's own spelling is predicted by the terms that
                 # engine's published figures were fitted under. Q4_K_M is ~4.9 bits/weight,
                 # not int4's 4.25; the fitted llama.cpp terms carry that difference.
                 **dict.fromkeys(("q4-0", "q4-1", "q4-k", "q4-k-m", "q4-k-s", "iq4-xs",
                                  "iq4-nl", "q4f16", "q4f16-0", "q4f16-1", "q4f16-ft",
                                  "q4f32-1", "int4-q4f16", "int4-q4f16-ft"), "int4"),
                 "q8-0": "int8", "int8-q8-0": "int8", "f16": "fp16", "q0f16": "fp16",
                 "f32": "fp32", "q0f32": "fp32",
                 # NVFP4 as TensorRT-LLM (QuantAlgo.NVFP4), ModelOpt (--qformat nvfp4) and
                 # vLLM (modelopt_fp4) name it
                 "w4a4-nvfp4": "nvfp4", "modelopt-fp4": "nvfp4", "nvfp4-w4a4": "nvfp4"}
#: Formats people ask for that edgeprof does not model (a different number format, not an
#: alias): named in the error so it does not read as a typo.
UNMODELED = {"mxfp4": "MXFP4 is not modelled (NVFP4 is: nvfp4)",
             "fp4": "say which 4-bit float: nvfp4 (modelled) or MXFP4 (not modelled)"}


def get_quant(name: str) -> QuantFormat:
    """Look a quant format up by name or alias; unknown names raise a one-line error.

    Case, spaces and underscores do not matter: ``INT4 AWQ`` (as TensorRT Edge-LLM's tables
    print it), ``int4_awq`` and ``int4-awq`` are the same name.
    """
    low = fold_name(name)
    key = QUANT_ALIASES.get(low, low)
    try:
        return QUANT_FORMATS[key]
    except KeyError:
        known = ", ".join(QUANT_FORMATS)
        why = f" ({UNMODELED[key]})" if key in UNMODELED else ""
        raise UnknownQuantError(f"Unknown quant format {name!r}{why}; choose one of "
                                f"{known}.") from None
