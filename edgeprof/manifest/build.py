"""Build a deployment manifest from a recommendation, and write it as YAML or JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from edgeprof import __version__
from edgeprof.catalog import get_quant, resolve_model
from edgeprof.errors import EdgeprofError, InfeasibleError, UserInputError
from edgeprof.manifest.engines import ENGINE_QUANTS
from edgeprof.manifest.schema import (
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
from edgeprof.search.result import Recommendation


def build_manifest(rec: Recommendation, *, temperature: float | None = None,
                   top_p: float | None = None) -> Manifest:
    """The winner of ``rec`` as launch settings for TensorRT-LLM, vLLM, llama.cpp and HF."""
    w = rec.winner
    if w is None:
        raise InfeasibleError("The recommendation has no winner (nothing met the SLO); relax "
                              "the constraints and run `edgeprof recommend` again.")
    try:
        arch = resolve_model(w.model)
        repo = arch.source.removeprefix("https://").removeprefix("huggingface.co/")
        model = ModelSection(name=arch.name, source=arch.local_path or repo,
                             family=arch.family)
    except EdgeprofError:
        model = ModelSection(name=w.model, source=w.model)
    fmt = get_quant(w.quant)
    eq = ENGINE_QUANTS[fmt.name]
    gen = Generation(input_tokens=int(rec.problem["input_tokens"]), max_new_tokens=w.budget,
                     n=w.samples,
                     **({"temperature": temperature} if temperature is not None else {}),
                     **({"top_p": top_p} if top_p is not None else {}))
    seq = gen.input_tokens + gen.max_new_tokens
    quant_flag = f" --quantization {eq.vllm_quantization}" if eq.vllm_quantization else ""
    gguf = f"{model.name}-{eq.gguf_type}.gguf"
    engines = Engines(
        tensorrt_llm=TensorRTLLM(max_batch_size=gen.n, max_input_len=gen.input_tokens,
                                 max_seq_len=seq, max_num_tokens=gen.n * gen.input_tokens,
                                 quant_algo=eq.trtllm_quant_algo, dtype=eq.trtllm_dtype),
        vllm=VLLM(model=model.source, max_model_len=seq, max_num_seqs=gen.n,
                  quantization=eq.vllm_quantization, dtype=eq.vllm_dtype,
                  command=f"vllm serve {model.source} --max-model-len {seq} --max-num-seqs "
                          f"{gen.n} --dtype {eq.vllm_dtype}{quant_flag}"),
        llama_cpp=LlamaCpp(ctx_size=gen.n * seq, parallel=gen.n, n_predict=gen.max_new_tokens,
                           quant_type=eq.gguf_type,
                           command=f"llama-server -m {gguf} -c {gen.n * seq} --parallel "
                                   f"{gen.n} -n {gen.max_new_tokens}"),
        hf_generate=HFGenerate(max_new_tokens=gen.max_new_tokens, num_return_sequences=gen.n,
                               temperature=gen.temperature, top_p=gen.top_p),
        notes=[n for n in (eq.note,) if n])
    pr = rec.problem
    return Manifest(
        model=model, quant=QuantSection(format=fmt.name, description=fmt.description),
        generation=gen, engines=engines,
        predictions=Predictions(device=pr["device"], power_mode=w.power_mode,
                                slo_s=pr["slo_s"], percentile=pr["percentile"],
                                accuracy=w.accuracy, latency_pct_s=w.latency_pct,
                                latency_mean_s=w.latency_mean, ttft_s=w.ttft,
                                energy_j=w.energy_j, memory_bytes=w.memory_bytes),
        provenance=ManifestProvenance(
            profile_hash=rec.provenance["profile_hash"],
            accuracy_source=rec.provenance["accuracy_source"], edgeprof_version=__version__,
            timestamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            recommendation_timestamp=rec.provenance.get("timestamp")))


def write_manifest(manifest: Manifest, path: str | Path) -> Path:
    p = Path(path)
    data = manifest.model_dump(mode="json")
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps(data, indent=2) + "\n")
    elif p.suffix.lower() in (".yaml", ".yml"):
        p.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        raise UserInputError(f"Cannot tell the format of {p}; name it .yaml or .json.")
    return p
