"""Seeded random weights of a catalog architecture, as numpy arrays in Hugging Face naming:
the one generator the engines that build their own graphs (ONNX Runtime, TensorRT-LLM)
share. Real shapes, random values: a latency and memory subject, never an accuracy one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from edgeprof.catalog._architectures import ArchSpec

_POOL_SIZE = 1 << 20
_INIT_STD = 0.02


def random_weights(arch: ArchSpec, dtype: np.dtype, seed: int = 0
                   ) -> Iterator[tuple[str, np.ndarray]]:
    """(name, array) of every weight; projections as MatMul ``B`` = [in, out]."""
    rng = np.random.default_rng(seed)
    pool = (rng.standard_normal(_POOL_SIZE) * _INIT_STD).astype(dtype)
    count = 0

    def rand(*shape: int) -> np.ndarray:
        nonlocal count
        count += 1
        start = (count * 7919) % _POOL_SIZE  # a different phase of the pool per tensor
        return np.resize(np.roll(pool, -start), shape)

    h, hd = arch.hidden, arch.head_dim
    q_out, kv_out = arch.heads * hd, arch.kv_heads * hd
    yield "model.embed_tokens.weight", rand(arch.vocab, h)
    for i in range(arch.layers):
        p = f"model.layers.{i}"
        yield f"{p}.input_layernorm.weight", np.ones(h, dtype)
        yield f"{p}.self_attn.q_proj.weight", rand(h, q_out)
        yield f"{p}.self_attn.k_proj.weight", rand(h, kv_out)
        yield f"{p}.self_attn.v_proj.weight", rand(h, kv_out)
        if arch.qkv_bias:
            yield f"{p}.self_attn.q_proj.bias", rand(q_out)
            yield f"{p}.self_attn.k_proj.bias", rand(kv_out)
            yield f"{p}.self_attn.v_proj.bias", rand(kv_out)
        yield f"{p}.self_attn.o_proj.weight", rand(q_out, h)
        yield f"{p}.post_attention_layernorm.weight", np.ones(h, dtype)
        yield f"{p}.mlp.gate_proj.weight", rand(h, arch.ffn)
        yield f"{p}.mlp.up_proj.weight", rand(h, arch.ffn)
        yield f"{p}.mlp.down_proj.weight", rand(arch.ffn, h)
    yield "model.norm.weight", np.ones(h, dtype)
    if not arch.tied_embeddings:
        yield "lm_head.weight", rand(arch.vocab, h)
