"""Build the ONNX graph of an :class:`ArchSpec` (Qwen2 / Llama) with its KV cache.

The graph is written directly with ``onnx.helper`` from ONNX Runtime's fused operators, the
same ones onnxruntime-genai's model builder emits: ``SimplifiedLayerNormalization`` (RMSNorm),
``com.microsoft.GroupQueryAttention`` (causal GQA with rotary embedding and the past/present
KV cache, BNSH layout) and plain ``MatMul`` projections, which the INT8/INT4 quantizers then
rewrite (:mod:`edgeprof.engines._onnx_quant`).

Graph inputs: ``input_ids`` int64 [batch, seq]; ``seqlens_k`` int32 [batch] (total length − 1
per sequence); ``total_sequence_length`` int32 scalar; ``past_key_values.{i}.key|value``
[batch, kv_heads, past, head_dim]. Outputs: ``logits`` [batch, vocab] of the last position
only (like ``logits_to_keep=1``) and ``present.{i}.key|value`` [batch, kv_heads, total,
head_dim].

Weights are random (N(0, 0.02) tiled from one seeded pool; norms 1): a random-weight model
is a latency and memory subject, never an accuracy subject. They are streamed into one
external-data file with page-aligned offsets, so a 0.5B model never sits twice in memory and
ONNX Runtime can memory-map it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.engines._random_weights import random_weights
from edgeprof.errors import UnsupportedError

BUILDER_VERSION = "1"  # bump when the graph changes: part of the cache key
OPSET = 17
MS_DOMAIN = "com.microsoft"
DATA_FILE = "model.onnx.data"
MAX_ROPE_CACHE = 32768  # rows of the cos/sin tables: the longest context the graph serves
_ALIGN = 4096
LM_HEAD_NODE = "logits/Gemm"  # stays dense in every format, like the catalog assumes

_ELEM = {np.dtype("float32"): TensorProto.FLOAT, np.dtype("float16"): TensorProto.FLOAT16}


def rope_cache_len(arch: ArchSpec) -> int:
    return min(arch.max_position, MAX_ROPE_CACHE)


def inv_freq(arch: ArchSpec) -> np.ndarray:
    """Rotary inverse frequencies, with Llama-3 scaling when the config asks for it."""
    hd = arch.head_dim
    freq = 1.0 / (arch.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    scaling = arch.rope_scaling or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return freq
    if kind != "llama3":
        raise UnsupportedError(f"rope_type {kind!r} is not built by the ONNX engine; "
                               "it builds default and llama3 rotary embeddings.")
    factor = float(scaling["factor"])
    low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
    old = float(scaling["original_max_position_embeddings"])
    wavelen = 2 * math.pi / freq
    scaled = np.where(wavelen > old / low, freq / factor, freq)
    smooth = (old / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= old / high) & (wavelen <= old / low)
    return np.where(medium, smoothed, scaled)


def rope_tables(arch: ArchSpec, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin caches [positions, head_dim / 2] for GroupQueryAttention."""
    pos = np.arange(rope_cache_len(arch), dtype=np.float64)[:, None]
    angles = pos * inv_freq(arch)[None, :]
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


class _DataWriter:
    """Writes arrays into one external-data file and returns their TensorProtos."""

    def __init__(self, folder: Path) -> None:
        self.fh = open(folder / DATA_FILE, "wb")  # noqa: SIM115 - closed in close()
        self.offset = 0

    def tensor(self, name: str, array: np.ndarray) -> TensorProto:
        array = np.ascontiguousarray(array)
        pad = (-self.offset) % _ALIGN
        if pad:
            self.fh.write(b"\0" * pad)
            self.offset += pad
        self.fh.write(array.tobytes())
        t = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(array.dtype),
                        dims=list(array.shape))
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", DATA_FILE), ("offset", str(self.offset)),
                           ("length", str(array.nbytes))):
            t.external_data.add(key=key, value=value)
        self.offset += array.nbytes
        return t

    def close(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()


def build_onnx(arch: ArchSpec, folder: Path, dtype: str = "float32", seed: int = 0) -> Path:
    """Write ``folder/model.onnx`` (+ its data file) for ``arch``; return the model path."""
    np_dtype = np.dtype(dtype)
    elem = _ELEM[np_dtype]
    folder.mkdir(parents=True, exist_ok=True)
    writer = _DataWriter(folder)
    inits: list[TensorProto] = []
    try:
        for name, array in random_weights(arch, np_dtype, seed):
            inits.append(writer.tensor(name, array))
        cos, sin = rope_tables(arch, np_dtype)
        inits += [writer.tensor("rope.cos_cache", cos), writer.tensor("rope.sin_cache", sin)]
    finally:
        writer.close()
    inits.append(helper.make_tensor("last_index", TensorProto.INT64, [], [-1]))
    nodes, inputs, outputs = _graph(arch, elem)
    graph = helper.make_graph(nodes, f"edgeprof-{arch.family}", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid(MS_DOMAIN, 1)],
                              producer_name="edgeprof", producer_version=BUILDER_VERSION)
    model.ir_version = 8
    helper.set_model_props(model, {"edgeprof.arch": arch.name, "edgeprof.dtype": dtype,
                                   "edgeprof.weights": f"random seed {seed}"})
    path = folder / "model.onnx"
    onnx.save_model(model, str(path))
    return path


def _graph(arch: ArchSpec, elem: int) -> tuple[list, list, list]:
    hd, kv = arch.head_dim, arch.kv_heads
    nodes: list[onnx.NodeProto] = []
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
        helper.make_tensor_value_info("seqlens_k", TensorProto.INT32, ["batch"]),
        helper.make_tensor_value_info("total_sequence_length", TensorProto.INT32, []),
    ]
    outputs = [helper.make_tensor_value_info("logits", elem, ["batch", arch.vocab])]

    def node(op: str, ins: list[str], out: str | list[str], domain: str = "", **attrs: object
             ) -> None:
        outs = [out] if isinstance(out, str) else out
        nodes.append(helper.make_node(op, ins, outs, name=outs[0] + "/" + op, domain=domain,
                                      **attrs))

    def rms(x: str, weight: str, out: str) -> None:
        node("SimplifiedLayerNormalization", [x, weight], out, axis=-1,
             epsilon=arch.rms_norm_eps, stash_type=1)

    def linear(x: str, prefix: str, out: str, bias: bool = False) -> None:
        if bias:
            node("MatMul", [x, f"{prefix}.weight"], out + ".mm")
            node("Add", [out + ".mm", f"{prefix}.bias"], out)
        else:
            node("MatMul", [x, f"{prefix}.weight"], out)

    node("Gather", ["model.embed_tokens.weight", "input_ids"], "x.0", axis=0)
    x = "x.0"
    for i in range(arch.layers):
        p = f"model.layers.{i}"
        a = f"{p}.self_attn"
        past_k, past_v = f"past_key_values.{i}.key", f"past_key_values.{i}.value"
        pres_k, pres_v = f"present.{i}.key", f"present.{i}.value"
        for name in (past_k, past_v):
            inputs.append(helper.make_tensor_value_info(name, elem, ["batch", kv, "past", hd]))
        for name in (pres_k, pres_v):
            outputs.append(helper.make_tensor_value_info(name, elem, ["batch", kv, "total", hd]))
        rms(x, f"{p}.input_layernorm.weight", f"{p}.ln1")
        for proj in ("q", "k", "v"):
            linear(f"{p}.ln1", f"{a}.{proj}_proj", f"{a}.{proj}", bias=arch.qkv_bias)
        node("GroupQueryAttention",
             [f"{a}.q", f"{a}.k", f"{a}.v", past_k, past_v, "seqlens_k",
              "total_sequence_length", "rope.cos_cache", "rope.sin_cache"],
             [f"{a}.attn", pres_k, pres_v], domain=MS_DOMAIN, num_heads=arch.heads,
             kv_num_heads=kv, scale=1.0 / math.sqrt(hd), do_rotary=1, rotary_interleaved=0)
        linear(f"{a}.attn", f"{a}.o_proj", f"{a}.o")
        node("Add", [x, f"{a}.o"], f"{p}.res1")
        rms(f"{p}.res1", f"{p}.post_attention_layernorm.weight", f"{p}.ln2")
        m = f"{p}.mlp"
        linear(f"{p}.ln2", f"{m}.gate_proj", f"{m}.gate")
        linear(f"{p}.ln2", f"{m}.up_proj", f"{m}.up")
        node("Sigmoid", [f"{m}.gate"], f"{m}.sig")
        node("Mul", [f"{m}.gate", f"{m}.sig"], f"{m}.silu")
        node("Mul", [f"{m}.silu", f"{m}.up"], f"{m}.act")
        linear(f"{m}.act", f"{m}.down_proj", f"{m}.down")
        node("Add", [f"{p}.res1", f"{m}.down"], f"x.{i + 1}")
        x = f"x.{i + 1}"
    rms(x, "model.norm.weight", "final_norm")
    node("Gather", ["final_norm", "last_index"], "last_hidden", axis=1)
    head = "model.embed_tokens.weight" if arch.tied_embeddings else "lm_head.weight"
    node("Gemm", ["last_hidden", head], "logits", transB=1)
    return nodes, inputs, outputs


def linear_weight_names(arch: ArchSpec) -> list[str]:
    """Initializer names of the decoder projections (the layers a quant format rewrites)."""
    out = []
    for i in range(arch.layers):
        p = f"model.layers.{i}"
        out += [f"{p}.self_attn.{x}_proj.weight" for x in "qkvo"]
        out += [f"{p}.mlp.{x}_proj.weight" for x in ("gate", "up", "down")]
    return out
