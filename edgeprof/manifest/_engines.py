"""How each engine spells edgeprof's quant formats; pinned tool versions, flags, checkpoints.

Spellings: TensorRT-LLM ``QuantAlgo`` (tensorrt_llm.quantization.mode: FP8,
W8A8_SQ_PER_CHANNEL, W4A16_AWQ; unquantized = NO_QUANT) and ModelOpt ``--qformat`` (fp8,
int8_sq, int4_awq; the PyTorch backend of ``trtllm-serve`` serves fp8 / nvfp4 / bf16 / fp16
only, per ModelOpt's huggingface_example.sh); vLLM ``--quantization`` (fp8, awq; llm-compressor
checkpoints load as compressed-tensors) and ``--dtype``; llm-compressor schemes (FP8_DYNAMIC,
W8A8, W4A16); llama.cpp GGUF types (F32, F16, BF16, Q8_0, Q4_K_M).

The tool versions, their flag lists and the published checkpoints live in
``edgeprof/data/manifest/*.yaml``, each entry with the source it was read in.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

from edgeprof.files import load_yaml


@dataclass(frozen=True)
class EngineQuant:
    trtllm_quant_algo: str | None  # None = no quantization (NO_QUANT)
    trtllm_dtype: str
    vllm_quantization: str | None  # what the served checkpoint is (None: unquantized)
    vllm_dtype: str
    gguf_type: str
    compressor_scheme: str | None = None  # llm-compressor scheme that makes the vLLM checkpoint
    modelopt_qformat: str | None = None  # ModelOpt --qformat for the TensorRT-LLM checkpoint
    note: str = ""


ENGINE_QUANTS: dict[str, EngineQuant] = {
    "fp32": EngineQuant(None, "float32", None, "float32", "F32"),
    "fp16": EngineQuant(None, "float16", None, "float16", "F16"),
    "bf16": EngineQuant(None, "bfloat16", None, "bfloat16", "BF16"),
    "fp8": EngineQuant("FP8", "bfloat16", "compressed-tensors", "bfloat16", "Q8_0",
                       "FP8_DYNAMIC", "fp8",
                       "GGUF has no FP8 type; Q8_0 is the nearest 8-bit llama.cpp format"),
    "int8": EngineQuant("W8A8_SQ_PER_CHANNEL", "float16", "compressed-tensors", "float16",
                        "Q8_0", "W8A8", "int8_sq",
                        "vLLM reads INT8 W8A8 from an llm-compressor checkpoint "
                        "(compressed-tensors); llama.cpp Q8_0 is weight-only 8-bit"),
    "int4": EngineQuant("W4A16_AWQ", "float16", "compressed-tensors", "float16", "Q4_K_M",
                        "W4A16", "int4_awq",
                        "llama.cpp Q4_K_M is a 4/6-bit k-quant (~4.9 bits/weight), close to "
                        "but not the same as W4A16 group-128"),
}

#: vLLM quantization methods that hold each edgeprof format (a hand-edited manifest may name
#: an AWQ or GPTQ checkpoint instead of the llm-compressor one edgeprof writes).
VLLM_METHODS_FOR: dict[str, set[str | None]] = {
    "fp32": {None}, "fp16": {None}, "bf16": {None},
    "fp8": {"fp8", "compressed-tensors", "modelopt"},
    "int8": {"compressed-tensors", "gptq", "gptq_marlin"},
    "int4": {"compressed-tensors", "awq", "awq_marlin", "gptq", "gptq_marlin"},
}

TRTLLM_QUANT_ALGOS = {"FP8", "W8A8_SQ_PER_CHANNEL", "W4A16_AWQ", "W4A16_GPTQ", "W8A16",
                      "W4A16", "NO_QUANT", "FP8_PER_CHANNEL_PER_TOKEN", "FP8_BLOCK_SCALES",
                      "NVFP4", "W4A8_AWQ"}
VLLM_QUANTIZATIONS = {"fp8", "awq", "gptq", "awq_marlin", "gptq_marlin", "compressed-tensors",
                      "bitsandbytes", "gguf", "modelopt"}
VLLM_DTYPES = {"auto", "half", "float16", "bfloat16", "float", "float32"}
#: vLLM --kv-cache-dtype values (vllm/config/cache.py CacheDType, 0.11.0, less fp8_inc)
VLLM_KV_CACHE_DTYPES = {"auto", "fp8", "fp8_e4m3", "fp8_e5m2"}
#: What each engine section writes for a 16-bit KV cache (its default: vLLM's "auto" on a
#: 16-bit checkpoint, llama-server's "f16", a TensorRT-LLM checkpoint without an FP8 cache).
KV_CACHE_16_BIT = {"vllm": "auto", "trtllm": "auto", "llama.cpp": "f16"}
#: llama-server -ctk / -ctv values (tools/server/README.md at the pinned commit)
LLAMA_CPP_CACHE_TYPES = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"}
GGUF_TYPES = {"F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S",
              "Q4_0", "Q3_K_M", "Q2_K", "IQ4_XS"}
#: ModelOpt --qformat values the TensorRT-LLM PyTorch backend serves (huggingface_example.sh).
TRTLLM_TORCH_QFORMATS = {"fp8", "nvfp4", "bf16", "fp16"}


def _load(name: str) -> dict[str, Any]:
    text = resources.files("edgeprof").joinpath(f"data/manifest/{name}").read_text()
    data = load_yaml(text)
    assert isinstance(data, dict), name
    return data


@functools.cache
def toolsets() -> dict[str, Any]:
    """``{toolset: {pinned, versions: {version: {sources, tools: {tool: spec}}}}}``."""
    return dict(_load("engine_flags.yaml")["toolsets"])


@functools.cache
def checkpoints() -> dict[str, Any]:
    return _load("checkpoints.yaml")


def pinned_versions() -> dict[str, str]:
    """The tool version each command is written for, per toolset."""
    return {name: str(ts["pinned"]) for name, ts in toolsets().items()}


def tool_spec(toolset: str, version: str, tool: str) -> dict[str, Any] | None:
    """argv0 / positionals / flags of ``tool`` as recorded for ``toolset`` ``version``."""
    ver = toolsets().get(toolset, {}).get("versions", {}).get(version)
    if ver is None:
        return None
    spec = ver["tools"].get(tool)
    return dict(spec) if spec is not None else None


def tool_sources(toolset: str, version: str) -> list[str]:
    ver = toolsets().get(toolset, {}).get("versions", {}).get(version, {})
    return [str(s) for s in ver.get("sources", [])]


def published(kind: str, model: str, key: str) -> dict[str, str] | None:
    """A published checkpoint (``kind`` vllm | gguf) of ``model`` in ``key``, with source."""
    data = checkpoints()
    entry = data.get(kind, {}).get(model, {}).get(key)
    if entry is None:
        return None
    seen = str(entry["seen"])
    return {**{k: str(v) for k, v in entry.items()},
            "seen": data.get("collections", {}).get(seen, seen)}


def published_repos(model: str) -> set[str]:
    """Every published checkpoint repository recorded for ``model`` (any engine, any quant)."""
    data = checkpoints()
    out: set[str] = set()
    for kind in ("vllm", "gguf"):
        for entry in data.get(kind, {}).get(model, {}).values():
            out.add(str(entry["repo"]))
    return out
