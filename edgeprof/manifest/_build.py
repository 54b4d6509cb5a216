"""Build a deployment manifest from a recommendation, and write it (plus its side files)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from edgeprof import __version__
from edgeprof.catalog import ArchSpec, get_quant, resolve_model
from edgeprof.errors import (
    DataFormatError,
    EdgeprofError,
    InfeasibleError,
    UnsupportedError,
    UserInputError,
)
from edgeprof.files import atomic_write, check_output_path
from edgeprof.manifest import _artifacts as art
from edgeprof.manifest._engines import ENGINE_QUANTS, KV_CACHE_16_BIT, pinned_versions
from edgeprof.manifest._schema import (
    VLLM,
    Engines,
    Generation,
    HFGenerate,
    LlamaCpp,
    Manifest,
    ManifestProvenance,
    ModelSection,
    Predictions,
    QuantSection,
    TensorRTLLM,
)
from edgeprof.manifest._shell import hub_id, is_hub_id, local_path, model_name
from edgeprof.search._result import Recommendation


def _subject_model(name: str, *, allow_scaled: bool) -> tuple[ModelSection, ArchSpec | None]:
    """The model section for ``name``, every value checked against a strict pattern."""
    try:
        arch = resolve_model(name)
    except EdgeprofError:
        arch = None
    if arch is None:
        if is_hub_id(name):
            return ModelSection(name=model_name(name.rsplit("/", 1)[1]), source=name), None
        return ModelSection(name=model_name(name), source=local_path(name)), None
    if arch.scaled_from:
        base = resolve_model(arch.scaled_from)
        if not allow_scaled:
            raise UserInputError(
                f"{arch.name} is a scaled toy ({arch.layers} of {base.layers} layers of "
                f"{base.name}, random weights): its predictions are not the full model's. "
                f"Export it with --allow-scaled to get a manifest for the toy itself.")
        name = model_name(arch.name)
        return ModelSection(name=name, source=local_path(f"./{name}"), family=arch.family,
                            scaled_from=base.name), arch
    if arch.local_path:
        source = local_path(arch.local_path)
    else:
        source = hub_id(arch.source.removeprefix("https://").removeprefix("huggingface.co/"))
    return ModelSection(name=model_name(arch.name), source=source, family=arch.family), arch


def _trtllm_fp8_kv(device: str, s: art.Subject) -> bool:
    """Whether the device profile predicts TensorRT-LLM with an FP8 KV cache for this model
    and format (its trtllm terms' ``fp8_kv_cache``); False without a profile or a catalog
    architecture."""
    from edgeprof.fit import Profile

    if s.arch is None:
        return False
    try:
        return Profile.load(device).kv_cache_bytes(s.arch.name, s.fmt, "trtllm") == 1
    except (EdgeprofError, OSError):
        return False


def _kv_caches(device: str, asked: str) -> dict[str, tuple[str, str | None]]:
    """Per engine section: the KV cache type it is written with and, where the 8-bit cache
    the recommendation assumed cannot be kept there, why (``edgeprof.fit._kv_cache``)."""
    from edgeprof.device import load_device_spec
    from edgeprof.fit import _kv_cache as kv_cache

    default = KV_CACHE_16_BIT
    if asked not in kv_cache.KV_CACHE_DTYPES:
        raise DataFormatError(f"The recommendation's provenance.kv_cache_dtype {asked!r} is not "
                              f"one of {', '.join(kv_cache.KV_CACHE_DTYPES)}; run `edgeprof "
                              "recommend` again rather than editing it.")
    if asked == "auto":
        return {e: (d, None) for e, d in default.items()}
    try:
        spec = load_device_spec(device)
    except EdgeprofError:
        spec = None
    out: dict[str, tuple[str, str | None]] = {}
    for engine, form in kv_cache.ENGINE_FORM.items():
        if spec is not None:
            why = kv_cache.why_not(form, engine, spec)
        else:  # llama.cpp keeps q8_0 on every backend; the others depend on the GPU
            why = None if engine == "llama.cpp" else \
                f"device {device!r} is not a shipped profile, so whether it can is unknown"
        out[engine] = (default[engine], why) if why else (form, None)
    return out


def _kv_bytes(arch: ArchSpec, n: int, seq: int, cache: str | float) -> float:
    """KV-cache bytes of ``n`` sequences of ``seq`` tokens, stored as ``cache`` (an 8-bit
    form's name, or bytes per element): the memory model's own KV term."""
    import numpy as np

    from edgeprof.fit import _forms as forms
    from edgeprof.fit._kv_cache import STORED_BYTES

    size = STORED_BYTES[cache] if isinstance(cache, str) else cache
    return float(forms.memory_bytes({}, arch, 0.0, np.array([seq]), np.array([0]),
                                    np.array([n]), size)[0])


def _device_memory(name: str) -> int | None:
    """Total memory of a shipped device profile (vLLM's fraction is of the whole device)."""
    from edgeprof.device import load_device_spec

    try:
        return int(load_device_spec(name).memory_bytes) if name else None
    except EdgeprofError:
        return None


def build_manifest(rec: Recommendation, *, temperature: float | None = None,
                   top_p: float | None = None, allow_scaled: bool = False) -> Manifest:
    """The winner of ``rec`` as artifacts and serve commands for each engine."""
    w = rec.winner
    if w is None:
        raise InfeasibleError("The recommendation has no winner (nothing met the SLO); relax "
                              "the constraints and run `edgeprof recommend` again.")
    model, arch = _subject_model(w.model, allow_scaled=allow_scaled)
    fmt = get_quant(w.quant)
    eq = ENGINE_QUANTS.get(fmt.name)
    if eq is None:  # nvfp4: predicted and swept, but no deploy steps written yet
        raise UnsupportedError(
            f"export writes deploy steps for {', '.join(ENGINE_QUANTS)}, not {fmt.name} "
            f"(TensorRT-LLM serves it as QuantAlgo.NVFP4 from a ModelOpt --qformat nvfp4 "
            f"checkpoint; llama.cpp has no NVFP4 type); recommend with --quants "
            f"{','.join(ENGINE_QUANTS)} to export.")
    gen = Generation(input_tokens=int(rec.problem.input_tokens), max_new_tokens=w.budget,
                     n=w.samples,
                     **({"temperature": temperature} if temperature is not None else {}),
                     **({"top_p": top_p} if top_p is not None else {}))
    seq = gen.input_tokens + gen.max_new_tokens
    limit = rec.problem.memory_limit_bytes
    device_mem = _device_memory(rec.problem.device) or limit
    subject = art.Subject(name=model.name, source=model.source, arch=arch, fmt=fmt.name, eq=eq)
    versions = pinned_versions()

    kv_asked = rec.provenance.kv_cache_dtype
    kv = _kv_caches(rec.problem.device, kv_asked)

    va = art.vllm_artifact(subject)
    vllm_peak = w.memory_bytes.hi
    if kv_asked != "auto" and kv["vllm"][0] == KV_CACHE_16_BIT["vllm"] and arch is not None:
        # vLLM keeps a 16-bit cache here: size its memory share for that, not the 8-bit one
        vllm_peak += _kv_bytes(arch, gen.n, seq, 2.0) - _kv_bytes(arch, gen.n, seq, kv_asked)
    gpu_mem = art.gpu_memory_fraction(vllm_peak, device_mem)
    vquant = eq.vllm_quantization if va.kind in ("published", "produce") else None
    vllm = VLLM(version=versions["vllm"], model=va.served, max_model_len=seq,
                max_num_seqs=gen.n, gpu_memory_utilization=gpu_mem, quantization=vquant,
                dtype=eq.vllm_dtype, kv_cache_dtype=kv["vllm"][0], artifact=va,
                command=art.vllm_command(va.served, seq=seq, n=gen.n, gpu_mem=gpu_mem,
                                         dtype=eq.vllm_dtype, kv_cache_dtype=kv["vllm"][0])
                if va.served else None)

    ga = art.gguf_artifact(subject)
    assert ga.served is not None
    llama = LlamaCpp(version=versions["llama.cpp"], ctx_size=gen.n * seq, parallel=gen.n,
                     n_gpu_layers=art.LLAMA_CPP_GPU_LAYERS, n_predict=gen.max_new_tokens,
                     quant_type=eq.gguf_type, cache_type=kv["llama.cpp"][0],
                     requests_per_answer=gen.n, artifact=ga,
                     command=art.llama_command(ga.served, ctx=gen.n * seq, n=gen.n,
                                               budget=gen.max_new_tokens,
                                               temperature=gen.temperature, top_p=gen.top_p,
                                               cache_type=kv["llama.cpp"][0]))

    trt_fp8_kv = kv["trtllm"][0] == "fp8" or _trtllm_fp8_kv(rec.problem.device, subject)
    ta = art.trtllm_artifact(subject, fp8_kv_cache=trt_fp8_kv)
    max_num_tokens = gen.n * gen.input_tokens
    kv_frac = art.kv_free_fraction(subject, n=gen.n, seq=seq, limit=limit)
    trt = TensorRTLLM(
        version=versions["tensorrt-llm"], max_batch_size=gen.n, max_input_len=gen.input_tokens,
        max_seq_len=seq, max_num_tokens=max_num_tokens, kv_cache_free_gpu_memory_fraction=kv_frac,
        quant_algo=eq.trtllm_quant_algo if ta.kind != "unsupported" else None,
        dtype=eq.trtllm_dtype,
        extra_llm_api_options={"kv_cache_config": {"free_gpu_memory_fraction": kv_frac}},
        extra_llm_api_options_file=art.TRT_EXTRA_OPTIONS_FILE,
        kv_cache_dtype="fp8" if trt_fp8_kv and ta.kind == "produce" else "auto", artifact=ta,
        command=art.trtllm_command(ta.served, n=gen.n, max_num_tokens=max_num_tokens, seq=seq)
        if ta.served else None)

    notes = [n for n in (eq.note,) if n]
    if kv_asked != "auto":
        notes.append(f"Latency and memory were predicted with an 8-bit KV cache "
                     f"(--kv-cache-dtype {kv_asked}); answer quality with it is not modelled.")
        if kv["trtllm"][1] is None and trt.kv_cache_dtype != "fp8":
            kv["trtllm"] = ("auto", "its FP8 KV cache comes with a ModelOpt checkpoint "
                            "(hf_ptq.py --kv_cache_qformat fp8), and this section serves the "
                            f"{ta.kind} checkpoint")
        for engine, (_, why) in kv.items():
            if why:
                notes.append(f"{engine} keeps a 16-bit KV cache here ({why}): its KV cache "
                             f"takes about twice the memory the recommendation assumed.")
    notes.append(f"llama-server answers one choice per request: send the {gen.n} samples as "
                 f"{gen.n} concurrent requests (one per --parallel slot), then majority-vote.")
    if model.scaled_from:
        notes.append(f"Scaled toy of {model.scaled_from}: predictions and commands are for the "
                     f"toy only.")
    if getattr(w, "synthetic", False):
        notes.append("SYNTHETIC winner: a -scaled- toy or synthetic accuracy data; its accuracy "
                     "is not a real model's answer quality.")
    pr = rec.problem
    return Manifest(
        model=model, quant=QuantSection(format=fmt.name, description=fmt.description),
        generation=gen,
        engines=Engines(versions=versions, tensorrt_llm=trt, vllm=vllm, llama_cpp=llama,
                        hf_generate=HFGenerate(max_new_tokens=gen.max_new_tokens,
                                               num_return_sequences=gen.n,
                                               temperature=gen.temperature, top_p=gen.top_p),
                        notes=notes),
        predictions=Predictions(model=arch.name if arch is not None else w.model,
                                device=pr.device, power_mode=w.power_mode,
                                slo_s=pr.slo_s, percentile=pr.percentile,
                                accuracy=w.accuracy, latency_pct_s=w.latency_pct,
                                latency_mean_s=w.latency_mean, ttft_s=w.ttft,
                                energy_j=w.energy_j, memory_bytes=w.memory_bytes),
        provenance=ManifestProvenance(
            profile_hash=rec.provenance.profile_hash,
            accuracy_source=rec.provenance.accuracy_source, edgeprof_version=__version__,
            timestamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            recommendation_timestamp=rec.provenance.timestamp))


def side_files(manifest: Manifest) -> dict[str, str]:
    """Files that belong beside the manifest: the TensorRT-LLM options YAML, recipes."""
    e = manifest.engines
    out = {e.tensorrt_llm.extra_llm_api_options_file:
           yaml.safe_dump(e.tensorrt_llm.extra_llm_api_options, sort_keys=False)}
    for a in (e.vllm.artifact, e.llama_cpp.artifact, e.tensorrt_llm.artifact):
        out.update(a.files)
    return out


def write_manifest(manifest: Manifest, path: str | Path) -> Path:
    """Write the manifest (YAML or JSON) and its side files into the same folder."""
    p = Path(path)
    data = manifest.model_dump(mode="json")
    if p.suffix.lower() == ".json":
        text = json.dumps(data, indent=2) + "\n"
    elif p.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        raise UserInputError(f"Cannot tell the format of {p}; name it .yaml or .json.")
    check_output_path(p)  # the one output rule: parent created, a folder target refused
    for name, content in side_files(manifest).items():
        atomic_write(p.parent / name, content)
    atomic_write(p, text)
    return p
