"""How tokens are produced: engines behind one interface (see :mod:`edgeprof.engines._base`)."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.engines._base import (
    Engine,
    RunResult,
    Support,
    engine_names,
    get_engine,
    register_engine,
)

if TYPE_CHECKING:
    from edgeprof.engines._conformance import (
        CHECKS,
        check_exact_lengths,
        run_conformance,
        tiny_arch,
    )
    from edgeprof.engines._gguf_build import ensure_gguf, gguf_type, support_problem, tensor_types
    from edgeprof.engines._llamacpp_engine import LlamaCppEngine
    from edgeprof.engines._onnx_build import LM_HEAD_NODE
    from edgeprof.engines._onnx_engine import OnnxEngine
    from edgeprof.engines._onnx_quant import (
        Variant,
        ensure_model,
        initializer_bytes,
        weight_breakdown,
    )
    from edgeprof.engines._openai_client import OpenAIClient
    from edgeprof.engines._openai_engine import ShortAnswer
    from edgeprof.engines._options import check_engine_options
    from edgeprof.engines._plugins import load_engine_plugins
    from edgeprof.engines._random_weights import random_weights
    from edgeprof.engines._torch_engine import TorchEngine
    from edgeprof.engines._torch_quant import (
        DequantLinear,
        DynamicInt8Linear,
        Int4Linear,
        Int8Linear,
        decoder_linear_bytes,
        pack_nibbles,
        tensor_bytes,
        unpack_nibbles,
    )
    from edgeprof.engines._torch_support import Platform, plan_quant
    from edgeprof.engines._trtllm_engine import TrtLlmEngine

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "CHECKS": "edgeprof.engines._conformance",
    "DequantLinear": "edgeprof.engines._torch_quant",
    "DynamicInt8Linear": "edgeprof.engines._torch_quant",
    "Int4Linear": "edgeprof.engines._torch_quant",
    "Int8Linear": "edgeprof.engines._torch_quant",
    "LM_HEAD_NODE": "edgeprof.engines._onnx_build",
    "LlamaCppEngine": "edgeprof.engines._llamacpp_engine",
    "OnnxEngine": "edgeprof.engines._onnx_engine",
    "OpenAIClient": "edgeprof.engines._openai_client",
    "Platform": "edgeprof.engines._torch_support",
    "ShortAnswer": "edgeprof.engines._openai_engine",
    "TorchEngine": "edgeprof.engines._torch_engine",
    "TrtLlmEngine": "edgeprof.engines._trtllm_engine",
    "Variant": "edgeprof.engines._onnx_quant",
    "check_engine_options": "edgeprof.engines._options",
    "check_exact_lengths": "edgeprof.engines._conformance",
    "decoder_linear_bytes": "edgeprof.engines._torch_quant",
    "ensure_gguf": "edgeprof.engines._gguf_build",
    "ensure_model": "edgeprof.engines._onnx_quant",
    "gguf_type": "edgeprof.engines._gguf_build",
    "initializer_bytes": "edgeprof.engines._onnx_quant",
    "load_engine_plugins": "edgeprof.engines._plugins",
    "pack_nibbles": "edgeprof.engines._torch_quant",
    "plan_quant": "edgeprof.engines._torch_support",
    "random_weights": "edgeprof.engines._random_weights",
    "run_conformance": "edgeprof.engines._conformance",
    "support_problem": "edgeprof.engines._gguf_build",
    "tensor_bytes": "edgeprof.engines._torch_quant",
    "tensor_types": "edgeprof.engines._gguf_build",
    "tiny_arch": "edgeprof.engines._conformance",
    "unpack_nibbles": "edgeprof.engines._torch_quant",
    "weight_breakdown": "edgeprof.engines._onnx_quant",
}

__all__ = [
    "CHECKS",
    "LM_HEAD_NODE",
    "DequantLinear",
    "DynamicInt8Linear",
    "Engine",
    "Int4Linear",
    "Int8Linear",
    "LlamaCppEngine",
    "OnnxEngine",
    "OpenAIClient",
    "Platform",
    "RunResult",
    "ShortAnswer",
    "Support",
    "TorchEngine",
    "TrtLlmEngine",
    "Variant",
    "check_engine_options",
    "check_exact_lengths",
    "decoder_linear_bytes",
    "engine_names",
    "ensure_gguf",
    "ensure_model",
    "get_engine",
    "gguf_type",
    "initializer_bytes",
    "load_engine_plugins",
    "pack_nibbles",
    "plan_quant",
    "random_weights",
    "register_engine",
    "run_conformance",
    "support_problem",
    "tensor_bytes",
    "tensor_types",
    "tiny_arch",
    "unpack_nibbles",
    "weight_breakdown",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
