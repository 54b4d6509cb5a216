"""How each engine spells edgeprof's quant formats, and the launch settings that follow.

Spellings: TensorRT-LLM ``QuantAlgo`` (tensorrt_llm.quantization.mode: FP8,
W8A8_SQ_PER_CHANNEL, W4A16_AWQ; unquantized = NO_QUANT); vLLM ``--quantization``
(fp8, awq; INT8 W8A8 checkpoints from llm-compressor load as compressed-tensors) and
``--dtype``; llama.cpp GGUF types (F32, F16, BF16, Q8_0, Q4_K_M).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineQuant:
    trtllm_quant_algo: str | None  # None = no quantization (NO_QUANT)
    trtllm_dtype: str
    vllm_quantization: str | None
    vllm_dtype: str
    gguf_type: str
    note: str = ""


ENGINE_QUANTS: dict[str, EngineQuant] = {
    "fp32": EngineQuant(None, "float32", None, "float32", "F32"),
    "fp16": EngineQuant(None, "float16", None, "float16", "F16"),
    "bf16": EngineQuant(None, "bfloat16", None, "bfloat16", "BF16"),
    "fp8": EngineQuant("FP8", "bfloat16", "fp8", "bfloat16", "Q8_0",
                       "GGUF has no FP8 type; Q8_0 is the nearest 8-bit llama.cpp format"),
    "int8": EngineQuant("W8A8_SQ_PER_CHANNEL", "float16", "compressed-tensors", "float16",
                        "Q8_0", "vLLM reads INT8 W8A8 from an llm-compressor checkpoint "
                        "(compressed-tensors); llama.cpp Q8_0 is weight-only 8-bit"),
    "int4": EngineQuant("W4A16_AWQ", "float16", "awq", "float16", "Q4_K_M",
                        "llama.cpp Q4_K_M is a 4/6-bit k-quant (~4.8 bits/weight), close to "
                        "but not the same as AWQ group-128"),
}

TRTLLM_QUANT_ALGOS = {"FP8", "W8A8_SQ_PER_CHANNEL", "W4A16_AWQ", "W4A16_GPTQ", "W8A16",
                      "W4A16", "NO_QUANT", "FP8_PER_CHANNEL_PER_TOKEN", "FP8_BLOCK_SCALES",
                      "NVFP4", "W4A8_AWQ"}
VLLM_QUANTIZATIONS = {"fp8", "awq", "gptq", "awq_marlin", "gptq_marlin", "compressed-tensors",
                      "bitsandbytes", "gguf"}
VLLM_DTYPES = {"auto", "half", "float16", "bfloat16", "float", "float32"}
GGUF_TYPES = {"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S",
              "Q4_0", "Q3_K_M", "Q2_K", "IQ4_XS"}
