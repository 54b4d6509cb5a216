"""Per engine: the exact checkpoint to serve, how to get it, and the serve command.

A published pre-quantized checkpoint is named where one is recorded in
``edgeprof/data/manifest/checkpoints.yaml`` (with the page it was read on); otherwise the
steps that make it: an llm-compressor ``oneshot`` recipe for vLLM, ``convert_hf_to_gguf.py``
+ ``llama-quantize`` for llama.cpp, ModelOpt ``hf_ptq.py`` for TensorRT-LLM. Every command is
built from an argument list with :func:`edgeprof.manifest._shell.join`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgeprof.catalog import ArchSpec
from edgeprof.manifest._engines import (
    KV_CACHE_16_BIT,
    TRTLLM_TORCH_QFORMATS,
    EngineQuant,
    pinned_versions,
    published,
)
from edgeprof.manifest._schema import Artifact, Step
from edgeprof.manifest._shell import is_hub_id, join

LLAMA_CPP_GPU_LAYERS = 99  # "all layers": llama.cpp caps -ngl at the model's layer count
TRT_EXTRA_OPTIONS_FILE = "extra_llm_api_options.yaml"
VLLM_RECIPE_FILE = "quantize_for_vllm.py"
CALIBRATION_DATASET = "open_platypus"  # the calibration set llm-compressor's guide uses


@dataclass(frozen=True)
class Subject:
    """What is deployed: catalog name, where its weights are, its architecture if known."""

    name: str
    source: str  # Hub id or local path (validated by the caller)
    arch: ArchSpec | None
    fmt: str
    eq: EngineQuant

    @property
    def toy(self) -> bool:
        return bool(self.arch is not None and self.arch.scaled_from)

    @property
    def catalog_name(self) -> str:
        return self.arch.name if self.arch is not None else self.name


def _toy_note(s: Subject) -> str:
    assert s.arch is not None
    return (f"{s.name} is a scaled toy: {s.arch.layers} layers of {s.arch.scaled_from}, "
            f"random weights. No checkpoint of it is published and none is mapped to the full "
            f"model's repository; edgeprof builds it in memory for latency measurements. "
            f"Serve it only as a latency subject, from a folder you create at {s.source}.")


def _download(repo: str, *, include: str | None, local_dir: str) -> Step:
    argv = ["huggingface-cli", "download", repo]
    if include:
        argv += ["--include", include]
    argv += ["--local-dir", local_dir]
    return Step(what=f"download {include or 'the checkpoint'} from {repo}",
                toolset="huggingface_hub", tool="huggingface-cli download", command=join(argv))


# ---------------------------------------------------------------------------------- vLLM
def vllm_artifact(s: Subject) -> Artifact:
    if s.toy:
        return Artifact(kind="toy", served=s.source, note=_toy_note(s))
    scheme = s.eq.compressor_scheme
    if scheme is None:
        return Artifact(kind="base", served=s.source,
                        repo=s.source if is_hub_id(s.source) else None)
    pub = published("vllm", s.catalog_name, s.fmt)
    if pub is not None:
        return Artifact(kind="published", served=pub["repo"], repo=pub["repo"], seen=pub["seen"],
                        base_repo=s.source, note="llm-compressor checkpoint (compressed-tensors)")
    out = f"./{s.name}-{scheme}"
    version = pinned_versions()["llm-compressor"]
    return Artifact(
        kind="produce", served=out, base_repo=s.source,
        steps=[Step(what=f"install llm-compressor {version}", toolset="llm-compressor",
                    tool="pip install", command=join(["pip", "install",
                                                      f"llmcompressor=={version}"])),
               Step(what=f"quantize {s.source} to {scheme} with llm-compressor's oneshot "
                         f"(writes {out})", toolset="llm-compressor", tool="python3",
                    command=join(["python3", VLLM_RECIPE_FILE]))],
        files={VLLM_RECIPE_FILE: _compressor_recipe(s.source, scheme, out)},
        note="no published checkpoint recorded for this model and format; the recipe makes "
             "one (needs a GPU that holds the unquantized model)")


def _compressor_recipe(model: str, scheme: str, out: str) -> str:
    """An llm-compressor oneshot script; values go in as Python literals (``repr``)."""
    if scheme == "FP8_DYNAMIC":
        recipe = 'QuantizationModifier(targets="Linear", scheme="FP8_DYNAMIC", ignore=["lm_head"])'
        call = "oneshot(model=model, recipe=recipe)"
    else:
        recipe = f'GPTQModifier(targets="Linear", scheme={scheme!r}, ignore=["lm_head"])'
        if scheme == "W8A8":
            recipe = f"[SmoothQuantModifier(smoothing_strength=0.8), {recipe}]"
        call = (f"oneshot(model=model, dataset={CALIBRATION_DATASET!r}, recipe=recipe, "
                f"max_seq_length=2048, num_calibration_samples=512)")
    return (f'"""Written by `edgeprof export`: {scheme} checkpoint of {model} for vLLM '
            f'(llm-compressor {pinned_versions()["llm-compressor"]})."""\n'
            "from transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
            "from llmcompressor import oneshot\n"
            "from llmcompressor.modifiers.quantization import GPTQModifier, "
            "QuantizationModifier\n"
            "from llmcompressor.modifiers.smoothquant import SmoothQuantModifier\n\n"
            f"MODEL = {model!r}\nOUT = {out!r}\n"
            'model = AutoModelForCausalLM.from_pretrained(MODEL, torch_dtype="auto")\n'
            "tokenizer = AutoTokenizer.from_pretrained(MODEL)\n"
            f"recipe = {recipe}\n{call}\n"
            "model.save_pretrained(OUT, save_compressed=True)\n"
            "tokenizer.save_pretrained(OUT)\n")


def vllm_command(served: str, *, seq: int, n: int, gpu_mem: float, dtype: str,
                 kv_cache_dtype: str = KV_CACHE_16_BIT["vllm"]) -> str:
    """No ``--quantization``: vLLM reads the method from the checkpoint's config (the
    RedHatAI model cards serve their checkpoints with a bare ``vllm serve <repo>``)."""
    kv = [] if kv_cache_dtype == KV_CACHE_16_BIT["vllm"] else ["--kv-cache-dtype",
                                                               kv_cache_dtype]
    return join(["vllm", "serve", served, "--max-model-len", seq, "--max-num-seqs", n,
                 "--gpu-memory-utilization", gpu_mem, "--dtype", dtype, *kv])


# ----------------------------------------------------------------------------- llama.cpp
_OUTTYPE = {"F32": "f32", "F16": "f16", "BF16": "bf16"}


def gguf_artifact(s: Subject) -> Artifact:
    gtype = s.eq.gguf_type
    if s.toy:
        return Artifact(kind="toy", served=f"./{s.name}-{gtype}.gguf", note=_toy_note(s))
    pub = published("gguf", s.catalog_name, gtype)
    if pub is not None:
        return Artifact(kind="published", served=f"./{pub['file']}", repo=pub["repo"],
                        file=pub["file"], seen=pub["seen"], base_repo=s.source,
                        steps=[_download(pub["repo"], include=pub["file"], local_dir=".")])
    steps: list[Step] = []
    hf_dir = s.source
    if is_hub_id(s.source):
        hf_dir = f"./{s.name}-hf"
        steps.append(_download(s.source, include=None, local_dir=hf_dir))
    outtype = _OUTTYPE.get(gtype, "f16")
    dense = f"./{s.name}-{outtype.upper()}.gguf"
    steps.append(Step(what=f"convert to GGUF {outtype} (run from a llama.cpp checkout at the "
                           f"pinned commit)", toolset="llama.cpp", tool="convert_hf_to_gguf.py",
                      command=join(["python3", "convert_hf_to_gguf.py", hf_dir, "--outfile",
                                    dense, "--outtype", outtype])))
    served = dense
    if gtype not in _OUTTYPE:
        served = f"./{s.name}-{gtype}.gguf"
        steps.append(Step(what=f"quantize to {gtype}", toolset="llama.cpp",
                          tool="llama-quantize",
                          command=join(["llama-quantize", dense, served, gtype])))
    return Artifact(kind="produce", served=served, base_repo=s.source, steps=steps,
                    note="no published GGUF recorded for this model and type; the steps make it")


def llama_command(served: str, *, ctx: int, n: int, budget: int, temperature: float,
                  top_p: float, cache_type: str = KV_CACHE_16_BIT["llama.cpp"]) -> str:
    """A quantized cache is given for K and V alike (CUDA builds compile flash attention
    for matching K/V types only), with ``-fa on``: a quantized V cache requires it."""
    kv = [] if cache_type == KV_CACHE_16_BIT["llama.cpp"] else \
        ["-ctk", cache_type, "-ctv", cache_type, "-fa", "on"]
    return join(["llama-server", "-m", served, "-c", ctx, "--parallel", n,
                 "-ngl", LLAMA_CPP_GPU_LAYERS, "-n", budget, "--temp", temperature,
                 "--top-p", top_p, *kv])


# -------------------------------------------------------------------------- TensorRT-LLM
def trtllm_artifact(s: Subject, *, fp8_kv_cache: bool = False) -> Artifact:
    """ModelOpt checkpoint steps; ``fp8_kv_cache``: the KV cache the latency prediction
    assumed (``Profile.kv_cache_bytes`` = 1), said to ``hf_ptq.py`` rather than left to its
    default (fp8 for every format)."""
    if s.toy:
        return Artifact(kind="toy", served=s.source, note=_toy_note(s))
    qformat = s.eq.modelopt_qformat
    if qformat is None:
        return Artifact(kind="base", served=s.source,
                        repo=s.source if is_hub_id(s.source) else None)
    if qformat not in TRTLLM_TORCH_QFORMATS:
        return Artifact(kind="unsupported", served=None, base_repo=s.source,
                        note=f"trtllm-serve's PyTorch backend serves ModelOpt checkpoints in "
                             f"{', '.join(sorted(TRTLLM_TORCH_QFORMATS))} only (ModelOpt "
                             f"huggingface_example.sh); {qformat} needs a TensorRT engine "
                             f"(trtllm-build), which this manifest does not write")
    out = f"./{s.name}-{qformat.upper()}-modelopt"
    kv = "fp8" if fp8_kv_cache else "none"
    return Artifact(
        kind="produce", served=out, base_repo=s.source,
        steps=[Step(what="get TensorRT Model Optimizer's PTQ example", toolset="modelopt",
                    tool="git clone",
                    command=join(["git", "clone", "https://github.com/NVIDIA/Model-Optimizer.git"])),
               Step(what=f"quantize {s.source} to {qformat} (Hugging Face export)",
                    toolset="modelopt", tool="hf_ptq.py",
                    command=join(["python3", "Model-Optimizer/examples/llm_ptq/hf_ptq.py",
                                  "--pyt_ckpt_path", s.source, "--export_path", out,
                                  "--qformat", qformat, "--kv_cache_qformat", kv,
                                  "--export_fmt", "hf"]))],
        note="no ModelOpt checkpoint recorded for this model; the steps make one "
             f"(KV cache {'in FP8' if kv == 'fp8' else 'unquantized'}, as the latency "
             "prediction assumes)")


def trtllm_command(served: str, *, n: int, max_num_tokens: int, seq: int) -> str:
    return join(["trtllm-serve", served, "--backend", "pytorch", "--max_batch_size", n,
                 "--max_num_tokens", max_num_tokens, "--max_seq_len", seq,
                 "--extra_llm_api_options", TRT_EXTRA_OPTIONS_FILE])


# ------------------------------------------------------------------------------- memory
def gpu_memory_fraction(memory_hi: float, total: float | None) -> float:
    """vLLM ``--gpu-memory-utilization``: predicted peak (upper bound) + 10 %, of ``total``."""
    if not total or total <= 0 or not math.isfinite(memory_hi):
        return 0.9
    return float(min(0.95, max(0.1, math.ceil(110 * memory_hi / total) / 100)))


def kv_free_fraction(s: Subject, *, n: int, seq: int, limit: float | None) -> float:
    """TensorRT-LLM KV-cache share of free memory: n × seq tokens of KV + 20 %."""
    if s.arch is None or not limit:
        return 0.9
    free = limit - s.arch.weight_bytes(s.fmt)
    if free <= 0:
        return 0.9
    need = 1.2 * s.arch.kv_bytes_per_token(2) * n * seq
    return float(min(0.9, max(0.05, math.ceil(100 * need / free) / 100)))
