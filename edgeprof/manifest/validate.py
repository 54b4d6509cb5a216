"""Check a (possibly hand-edited) manifest: schema, then consistency between fields."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edgeprof.catalog import QUANT_FORMATS
from edgeprof.manifest.engines import (
    ENGINE_QUANTS,
    GGUF_TYPES,
    TRTLLM_QUANT_ALGOS,
    VLLM_DTYPES,
    VLLM_QUANTIZATIONS,
)
from edgeprof.manifest.schema import MANIFEST_SCHEMA_VERSION, Manifest


def read_manifest_file(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        return None
    text = p.read_text()
    try:
        return json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        return exc


def problems(data: Any) -> list[str]:
    """One line per problem; empty when the manifest is valid."""
    if not isinstance(data, dict):
        return ["the file must hold a mapping (a manifest written by `edgeprof export`)"]
    version = data.get("schema_version")
    if version != MANIFEST_SCHEMA_VERSION:
        return [f"schema_version is {version!r}; this edgeprof reads version "
                f"{MANIFEST_SCHEMA_VERSION} (re-export with `edgeprof export`)"]
    try:
        m = Manifest.model_validate(data)
    except ValidationError as exc:
        return [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return consistency(m)


def consistency(m: Manifest) -> list[str]:
    out: list[str] = []
    g, e = m.generation, m.engines
    need = g.input_tokens + g.max_new_tokens
    fmt = m.quant.format
    if fmt not in QUANT_FORMATS:
        out.append(f"quant.format: unknown format {fmt!r}; use one of "
                   f"{', '.join(QUANT_FORMATS)}")
    t = e.tensorrt_llm
    if t.max_seq_len < need:
        out.append(f"engines.tensorrt_llm.max_seq_len {t.max_seq_len} < input_tokens + "
                   f"max_new_tokens = {need}")
    if t.max_input_len < g.input_tokens:
        out.append(f"engines.tensorrt_llm.max_input_len {t.max_input_len} < input_tokens "
                   f"{g.input_tokens}")
    if t.max_batch_size < g.n:
        out.append(f"engines.tensorrt_llm.max_batch_size {t.max_batch_size} < n {g.n}")
    algo = t.quant_algo or "NO_QUANT"
    if algo not in TRTLLM_QUANT_ALGOS:
        out.append(f"engines.tensorrt_llm.quant_algo: unknown QuantAlgo {algo!r}")
    v = e.vllm
    if v.max_model_len < need:
        out.append(f"engines.vllm.max_model_len {v.max_model_len} < input_tokens + "
                   f"max_new_tokens = {need}")
    if v.max_num_seqs < g.n:
        out.append(f"engines.vllm.max_num_seqs {v.max_num_seqs} < n {g.n}")
    if v.quantization is not None and v.quantization not in VLLM_QUANTIZATIONS:
        out.append(f"engines.vllm.quantization: unknown method {v.quantization!r}")
    if v.dtype not in VLLM_DTYPES:
        out.append(f"engines.vllm.dtype: unknown dtype {v.dtype!r}")
    c = e.llama_cpp
    if c.parallel < g.n:
        out.append(f"engines.llama_cpp.parallel {c.parallel} < n {g.n}")
    if c.ctx_size < c.parallel * need:
        out.append(f"engines.llama_cpp.ctx_size {c.ctx_size} < parallel × (input + budget) = "
                   f"{c.parallel * need} (the context is shared by the slots)")
    if c.quant_type not in GGUF_TYPES:
        out.append(f"engines.llama_cpp.quant_type: unknown GGUF type {c.quant_type!r}")
    h = e.hf_generate
    if h.max_new_tokens != g.max_new_tokens:
        out.append(f"engines.hf_generate.max_new_tokens {h.max_new_tokens} ≠ "
                   f"generation.max_new_tokens {g.max_new_tokens}")
    if h.num_return_sequences != g.n:
        out.append(f"engines.hf_generate.num_return_sequences {h.num_return_sequences} ≠ n "
                   f"{g.n}")
    eq = ENGINE_QUANTS.get(fmt)
    if eq is not None:
        if t.quant_algo != eq.trtllm_quant_algo:
            out.append(f"engines.tensorrt_llm.quant_algo {t.quant_algo!r} does not match "
                       f"quant.format {fmt} (expected {eq.trtllm_quant_algo!r})")
        if v.quantization != eq.vllm_quantization:
            out.append(f"engines.vllm.quantization {v.quantization!r} does not match "
                       f"quant.format {fmt} (expected {eq.vllm_quantization!r})")
    return out
