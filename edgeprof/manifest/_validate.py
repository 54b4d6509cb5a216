"""Check a (possibly hand-edited) manifest: schema, consistency, commands, provenance."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from edgeprof.catalog import QUANT_FORMATS, resolve_model
from edgeprof.errors import EdgeprofError
from edgeprof.files import load_yaml
from edgeprof.manifest._engines import (
    ENGINE_QUANTS,
    GGUF_TYPES,
    KV_CACHE_16_BIT,
    LLAMA_CPP_CACHE_TYPES,
    TRTLLM_QUANT_ALGOS,
    VLLM_DTYPES,
    VLLM_KV_CACHE_DTYPES,
    VLLM_METHODS_FOR,
    VLLM_QUANTIZATIONS,
    published_repos,
    tool_spec,
)
from edgeprof.manifest._schema import MANIFEST_SCHEMA_VERSION, Artifact, Manifest
from edgeprof.manifest._shell import roundtrip_problem

#: The toolset and tool of each engine's serve command.
SERVE_TOOLS = {"vllm": ("vllm", "vllm serve"), "llama_cpp": ("llama.cpp", "llama-server"),
               "tensorrt_llm": ("tensorrt-llm", "trtllm-serve")}


def read_manifest_file(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        return None
    try:
        text = p.read_text()
    except UnicodeDecodeError:
        return ValueError("not UTF-8 text")
    except OSError as exc:  # a folder, no permission
        return ValueError(exc.strerror or "cannot be read")
    try:
        return json.loads(text) if p.suffix.lower() == ".json" else load_yaml(text)
    except (ValueError, RecursionError, yaml.YAMLError) as exc:  # incl. JSONDecodeError
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
    return consistency(m) + command_problems(m) + kv_cache_problems(m) + provenance_problems(m)


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
    if c.requests_per_answer != g.n:
        out.append(f"engines.llama_cpp.requests_per_answer {c.requests_per_answer} ≠ n {g.n} "
                   f"(llama-server returns one choice per request)")
    h = e.hf_generate
    if h.max_new_tokens != g.max_new_tokens:
        out.append(f"engines.hf_generate.max_new_tokens {h.max_new_tokens} ≠ "
                   f"generation.max_new_tokens {g.max_new_tokens}")
    if h.num_return_sequences != g.n:
        out.append(f"engines.hf_generate.num_return_sequences {h.num_return_sequences} ≠ n "
                   f"{g.n}")
    eq = ENGINE_QUANTS.get(fmt)
    if eq is not None:
        if t.artifact.kind != "unsupported" and t.quant_algo != eq.trtllm_quant_algo:
            out.append(f"engines.tensorrt_llm.quant_algo {t.quant_algo!r} does not match "
                       f"quant.format {fmt} (expected {eq.trtllm_quant_algo!r})")
        if v.artifact.kind in ("published", "produce") and \
                v.quantization not in VLLM_METHODS_FOR[fmt]:
            out.append(f"engines.vllm.quantization {v.quantization!r} cannot hold quant.format "
                       f"{fmt} (expected one of "
                       f"{', '.join(sorted(str(x) for x in VLLM_METHODS_FOR[fmt]))})")
        if eq.compressor_scheme is not None and v.artifact.kind == "base":
            out.append(f"engines.vllm.artifact: kind 'base' serves the unquantized model, "
                       f"not {fmt}; name a pre-quantized checkpoint or the steps that make it")
    return out


def _check_command(where: str, command: str, toolset: str, tool: str,
                   versions: dict[str, str]) -> list[str]:
    bad = roundtrip_problem(command)
    if bad:
        return [f"{where}: command {bad}"]
    version = versions.get(toolset)
    if version is None:
        return [f"{where}: engines.versions pins no {toolset} version"]
    spec = tool_spec(toolset, version, tool)
    if spec is None:
        return [f"{where}: no flag list recorded for `{tool}` of {toolset} {version} (edgeprof "
                f"records the versions in edgeprof/data/manifest/engine_flags.yaml)"]
    argv = shlex.split(command)
    argv0 = [str(a) for a in spec["argv0"]]
    if argv[:len(argv0)] != argv0:
        return [f"{where}: command must start with `{' '.join(argv0)}`"]
    flags = {str(f) for f in spec["flags"]}
    out = []
    for word in argv[len(argv0):]:
        if word.startswith("-") and not _is_number(word):
            flag = word.split("=", 1)[0]
            if flag not in flags:
                out.append(f"{where}: {flag} is not a flag of `{tool}` in {toolset} {version}")
    return out


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def command_problems(m: Manifest) -> list[str]:
    """Every command round-trips through shlex and uses only flags of its pinned version."""
    out: list[str] = []
    versions = m.engines.versions
    for key, (toolset, tool) in SERVE_TOOLS.items():
        eng = getattr(m.engines, key)
        if eng.command is not None:
            out += _check_command(f"engines.{key}.command", eng.command, toolset, tool,
                                  versions)
        elif eng.artifact.kind != "unsupported":
            out.append(f"engines.{key}.command: missing (only an unsupported artifact has "
                       f"no serve command)")
        if versions.get(toolset) != eng.version:
            out.append(f"engines.{key}.version {eng.version!r} ≠ engines.versions[{toolset!r}] "
                       f"{versions.get(toolset)!r}")
        for i, step in enumerate(eng.artifact.steps):
            out += _check_command(f"engines.{key}.artifact.steps[{i}]", step.command,
                                  step.toolset, step.tool, versions)
        if eng.command is not None and eng.artifact.served is not None and \
                roundtrip_problem(eng.command) is None:
            served = shlex.split(eng.command)
            if eng.artifact.served not in served:
                out.append(f"engines.{key}.command does not serve the artifact "
                           f"{eng.artifact.served!r}")
    return out


def _flag_value(command: str | None, names: tuple[str, ...], default: str) -> str | None:
    """The value given to the first of ``names`` in ``command`` (``default`` when none is
    given); None when the command does not split into words (command_problems says why)."""
    if command is None or roundtrip_problem(command) is not None:
        return None
    argv = shlex.split(command)
    for k, word in enumerate(argv):
        flag, eq, value = word.partition("=")
        if flag in names:
            return value if eq else (argv[k + 1] if k + 1 < len(argv) else "")
    return default


def kv_cache_problems(m: Manifest) -> list[str]:
    """Each engine's KV-cache field is a value that engine knows, and its commands serve it."""
    out: list[str] = []
    e = m.engines
    v, c, t = e.vllm, e.llama_cpp, e.tensorrt_llm
    if v.kv_cache_dtype not in VLLM_KV_CACHE_DTYPES:
        out.append(f"engines.vllm.kv_cache_dtype: unknown KV-cache dtype {v.kv_cache_dtype!r}")
    served = _flag_value(v.command, ("--kv-cache-dtype",), KV_CACHE_16_BIT["vllm"])
    if served not in (None, v.kv_cache_dtype):
        out.append(f"engines.vllm.command serves --kv-cache-dtype {served}, not the section's "
                   f"kv_cache_dtype {v.kv_cache_dtype}")
    if c.cache_type not in LLAMA_CPP_CACHE_TYPES:
        out.append(f"engines.llama_cpp.cache_type: unknown KV cache type {c.cache_type!r}")
    for names in (("-ctk", "--cache-type-k"), ("-ctv", "--cache-type-v")):
        served = _flag_value(c.command, names, KV_CACHE_16_BIT["llama.cpp"])
        if served not in (None, c.cache_type):
            out.append(f"engines.llama_cpp.command serves {names[0]} {served}, not the "
                       f"section's cache_type {c.cache_type}")
    if c.cache_type not in ("f32", "f16", "bf16") and \
            _flag_value(c.command, ("-fa", "--flash-attn"), "auto") == "off":
        out.append(f"engines.llama_cpp.command: a {c.cache_type} V cache needs flash "
                   "attention, and -fa is off")
    if t.kv_cache_dtype not in ("auto", "fp8"):
        out.append(f"engines.tensorrt_llm.kv_cache_dtype: {t.kv_cache_dtype!r} is not auto or "
                   "fp8")
    for i, step in enumerate(t.artifact.steps):
        qformat = _flag_value(step.command, ("--kv_cache_qformat",), "")
        if step.tool == "hf_ptq.py" and qformat is not None and \
                (qformat == "fp8") != (t.kv_cache_dtype == "fp8"):
            out.append(f"engines.tensorrt_llm.artifact.steps[{i}] makes a --kv_cache_qformat "
                       f"{qformat or '(unset)'} checkpoint, but kv_cache_dtype is "
                       f"{t.kv_cache_dtype}")
    return out


def side_file_problems(data: Any, folder: str | Path) -> list[str]:
    """The files the commands name (options YAML, recipes) lie beside the manifest as written."""
    try:
        m = Manifest.model_validate(data)
    except ValidationError:
        return []
    from edgeprof.manifest._build import side_files

    out = []
    for name, content in side_files(m).items():
        p = Path(folder) / name
        if not p.is_file():
            out.append(f"{name}: missing beside the manifest (its commands name it); "
                       f"re-export with `edgeprof export`")
        elif p.read_text(errors="replace") != content:
            out.append(f"{name}: differs from what the manifest records; re-export, or edit "
                       f"both together")
    return out


def _artifact_repos(a: Artifact) -> set[str]:
    return {r for r in (a.repo, a.base_repo, a.served) if r and "/" in r
            and not r.startswith((".", "/", "~"))}


def provenance_problems(m: Manifest) -> list[str]:
    """The manifest deploys the model its predictions were made for, and nothing else."""
    out: list[str] = []
    predicted = m.predictions.model
    try:
        arch = resolve_model(predicted)
    except EdgeprofError:
        arch = None
    if arch is not None and arch.name != m.model.name:
        out.append(f"model.name {m.model.name!r} is not the model the predictions were made "
                   f"for ({arch.name!r}); re-export from the recommendation")
        return out
    if arch is None:
        return out
    engines = {"vllm": m.engines.vllm.artifact, "llama_cpp": m.engines.llama_cpp.artifact,
               "tensorrt_llm": m.engines.tensorrt_llm.artifact}
    if arch.scaled_from:
        if m.model.scaled_from != arch.scaled_from:
            out.append(f"model.scaled_from must be {arch.scaled_from!r}: the predictions are for "
                       f"the scaled toy {arch.name}")
        for key, a in engines.items():
            repos = _artifact_repos(a)
            if a.kind != "toy" or repos:
                out.append(f"engines.{key}.artifact deploys {sorted(repos) or a.kind!r}, but "
                           f"the predictions are for the scaled toy {arch.name} "
                           f"({arch.layers} layers); a toy is never mapped to a full repository")
        return out
    base = arch.local_path or arch.source.removeprefix("https://").removeprefix("huggingface.co/")
    allowed = {base} | published_repos(arch.name)
    if m.model.source != base:
        out.append(f"model.source {m.model.source!r} is not {arch.name}'s ({base!r})")
    for key, a in engines.items():
        if a.kind == "toy":
            out.append(f"engines.{key}.artifact is a toy, but the predictions are for the full "
                       f"{arch.name}")
        for repo in sorted(_artifact_repos(a) - allowed):
            out.append(f"engines.{key}.artifact deploys {repo!r}, which is not {arch.name} "
                       f"(the model the predictions were made for) nor a checkpoint of it "
                       f"recorded in edgeprof/data/manifest/checkpoints.yaml")
    return out
