"""The deployment manifest: a schema-versioned pydantic model (YAML or JSON on disk)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeprof.estimates import Estimate
from edgeprof.manifest._engines import KV_CACHE_16_BIT

MANIFEST_SCHEMA_VERSION = 2

#: DeepSeek-R1 model cards recommend temperature 0.6 (0.5-0.7) and top-p 0.95 for the
#: R1 distills; edgeprof uses them as the sampling defaults (majority vote needs sampling).
DEFAULT_TEMPERATURE = 0.6
DEFAULT_TOP_P = 0.95


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSection(_Strict):
    name: str = Field(description="edgeprof catalog name")
    source: str = Field(description="Hugging Face repo id or local folder")
    family: str | None = None
    scaled_from: str | None = Field(None, description="a scaled toy: the full model it "
                                                      "shortens (never deployed in its place)")


class QuantSection(_Strict):
    format: str = Field(description="edgeprof quant format: fp32 fp16 bf16 fp8 int8 int4")
    description: str | None = None


class Generation(_Strict):
    input_tokens: int = Field(gt=0, description="prompt length the prediction assumed")
    max_new_tokens: int = Field(gt=0, description="the token budget")
    n: int = Field(gt=0, description="parallel samples per request")
    aggregation: Literal["majority-vote"] = "majority-vote"
    temperature: float = Field(DEFAULT_TEMPERATURE, ge=0)
    top_p: float = Field(DEFAULT_TOP_P, gt=0, le=1)


class Step(_Strict):
    """One shell command of an artifact recipe, run in the manifest's folder."""

    what: str
    toolset: str = Field(description="key in edgeprof/data/manifest/engine_flags.yaml")
    tool: str = Field(description="the command within the toolset, e.g. `llama-quantize`")
    command: str = Field(description="shlex-quoted; round-trips through shlex.split")


class Artifact(_Strict):
    """The exact checkpoint an engine serves and how to get it."""

    kind: Literal["published", "produce", "base", "toy", "unsupported"] = Field(
        description="published: a pre-quantized checkpoint someone published; produce: made "
                    "by `steps`; base: the unquantized model as published; toy: a scaled "
                    "random-weight model (never a full repository); unsupported: no path")
    served: str | None = Field(description="what the serve command loads (Hub id or path)")
    repo: str | None = Field(None, description="Hub repository the served files come from")
    file: str | None = Field(None, description="file within `repo` (GGUF)")
    base_repo: str | None = Field(None, description="unquantized model the steps start from")
    seen: str | None = Field(None, description="where the published checkpoint was read")
    steps: list[Step] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict,
                                  description="files `edgeprof export` writes beside the "
                                              "manifest (recipe scripts, YAML options)")
    note: str | None = None


class TensorRTLLM(_Strict):
    version: str
    backend: Literal["pytorch"] = "pytorch"
    max_batch_size: int = Field(gt=0)
    max_input_len: int = Field(gt=0, description="input tokens assumed (not a trtllm-serve "
                                                  "flag; max_num_tokens covers the prefill)")
    max_seq_len: int = Field(gt=0)
    max_num_tokens: int = Field(gt=0)
    kv_cache_free_gpu_memory_fraction: float = Field(gt=0, le=1)
    quant_algo: str | None = Field(description="QuantAlgo of the checkpoint; null = NO_QUANT")
    dtype: str
    extra_llm_api_options: dict[str, Any] = Field(
        default_factory=dict,
        description="written beside the manifest, as extra_llm_api_options_file")
    extra_llm_api_options_file: str
    kv_cache_dtype: str = Field(KV_CACHE_16_BIT["trtllm"], description="auto or fp8 (the "
                                "ModelOpt checkpoint's "
                                "KV cache, read by trtllm-serve)")
    artifact: Artifact
    command: str | None


class VLLM(_Strict):
    version: str
    model: str | None
    max_model_len: int = Field(gt=0)
    max_num_seqs: int = Field(gt=0)
    gpu_memory_utilization: float = Field(gt=0, le=1)
    quantization: str | None
    dtype: str
    kv_cache_dtype: str = Field(KV_CACHE_16_BIT["vllm"],
                                description="--kv-cache-dtype (auto or fp8)")
    artifact: Artifact
    command: str | None


class LlamaCpp(_Strict):
    version: str
    ctx_size: int = Field(gt=0, description="-c: total context, shared by the slots")
    parallel: int = Field(gt=0, description="--parallel: slots (one per sample)")
    n_gpu_layers: int = Field(ge=0, description="-ngl: layers offloaded to the GPU")
    n_predict: int = Field(gt=0, description="-n: max tokens per completion")
    quant_type: str = Field(description="GGUF type, e.g. Q8_0, Q4_K_M")
    cache_type: str = Field(KV_CACHE_16_BIT["llama.cpp"],
                            description="-ctk / -ctv: the KV cache type (f16, q8_0)")
    requests_per_answer: int = Field(gt=0, description="llama-server takes one choice per "
                                                       "request: N samples are N requests")
    artifact: Artifact
    command: str


class HFGenerate(_Strict):
    max_new_tokens: int = Field(gt=0)
    num_return_sequences: int = Field(gt=0)
    do_sample: bool = True
    temperature: float
    top_p: float


class Engines(_Strict):
    versions: dict[str, str] = Field(description="tool versions the commands were checked "
                                                 "against (edgeprof/data/manifest)")
    tensorrt_llm: TensorRTLLM
    vllm: VLLM
    llama_cpp: LlamaCpp
    hf_generate: HFGenerate
    notes: list[str] = Field(default_factory=list)


class Predictions(_Strict):
    model: str = Field(description="the model the predictions were made for (catalog name)")
    device: str
    power_mode: str | None = None
    slo_s: float
    percentile: float
    accuracy: Estimate
    latency_pct_s: Estimate
    latency_mean_s: Estimate
    ttft_s: Estimate
    energy_j: Estimate | None = None
    memory_bytes: Estimate


class ManifestProvenance(_Strict):
    profile_hash: str
    accuracy_source: str
    edgeprof_version: str
    timestamp: str
    recommendation_timestamp: str | None = None


class Manifest(_Strict):
    schema_version: int = MANIFEST_SCHEMA_VERSION
    kind: Literal["deployment-manifest"] = "deployment-manifest"
    model: ModelSection
    quant: QuantSection
    generation: Generation
    engines: Engines
    predictions: Predictions
    provenance: ManifestProvenance
