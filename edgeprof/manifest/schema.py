"""The deployment manifest: a schema-versioned pydantic model (YAML or JSON on disk)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeprof.estimates import Estimate

MANIFEST_SCHEMA_VERSION = 1

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


class TensorRTLLM(_Strict):
    max_batch_size: int = Field(gt=0)
    max_input_len: int = Field(gt=0)
    max_seq_len: int = Field(gt=0)
    max_num_tokens: int = Field(gt=0)
    quant_algo: str | None = Field(description="QuantAlgo name; null = NO_QUANT")
    dtype: str


class VLLM(_Strict):
    model: str
    max_model_len: int = Field(gt=0)
    max_num_seqs: int = Field(gt=0)
    quantization: str | None
    dtype: str
    command: str


class LlamaCpp(_Strict):
    ctx_size: int = Field(gt=0, description="-c: total context, shared by the slots")
    parallel: int = Field(gt=0, description="--parallel: slots (one per sample)")
    n_predict: int = Field(gt=0, description="-n: max tokens per completion")
    quant_type: str = Field(description="GGUF type, e.g. Q8_0, Q4_K_M")
    command: str


class HFGenerate(_Strict):
    max_new_tokens: int = Field(gt=0)
    num_return_sequences: int = Field(gt=0)
    do_sample: bool = True
    temperature: float
    top_p: float


class Engines(_Strict):
    tensorrt_llm: TensorRTLLM
    vllm: VLLM
    llama_cpp: LlamaCpp
    hf_generate: HFGenerate
    notes: list[str] = Field(default_factory=list)


class Predictions(_Strict):
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
