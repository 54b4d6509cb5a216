"""The TensorRT-LLM engine: a TensorRT engine built (or loaded) through the LLM API.

``TrtLlmEngine(device="cuda[:N]", max_batch_size=8, max_input_len=4096, max_seq_len=8192,
calib_dataset=None, calib_batches=16, kv_cache_free_gpu_memory_fraction=0.85, seed=0,
compute_capability=None, cache_dir=None)``.

``load`` writes a random-weight Hugging Face folder of the architecture (or uses the
architecture's local folder), builds a TensorRT engine from it with
``LLM(model, dtype, build_config=BuildConfig(...), quant_config=QuantConfig(quant_algo))``
and saves it under ``<cache>/trtllm/<arch-hash>/<quant>-<settings-hash>`` (``llm.save``), so a
later load reuses it. Formats: fp16/bf16/fp32 dense, ``fp8`` → ``QuantAlgo.FP8`` (needs
compute capability ≥ 8.9), ``int8`` → ``QuantAlgo.W8A8_SQ_PER_CHANNEL`` (SmoothQuant),
``int4`` → ``QuantAlgo.W4A16_AWQ`` (groups of 128). The quantized formats calibrate through
ModelOpt; pass ``calib_dataset`` (a local dataset folder) on a machine without network.

``run`` sends one request of ``input_tokens`` random token ids with
``SamplingParams(max_tokens=output_tokens, ignore_eos=True, n=batch)`` through
``llm.generate_async(..., streaming=True)`` and stamps ``perf_counter_ns`` as each streamed
chunk arrives: TTFT is the first chunk, the per-token times the later ones. Tokens that arrive
together in one chunk share its stamp (counted in ``extra["coalesced_tokens"]``).

This module imports ``tensorrt_llm`` only inside methods; it is tested against a fake
``tensorrt_llm`` module (tests/test_trtllm_engine.py) and has not run on a GPU here.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import importlib
import importlib.util
import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import NVFP4_MIN_CC, get_quant
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.errors import EngineOOM, MissingDependencyError, UnsupportedError, UserInputError
from edgeprof.table._schema import QuantImpl

_DEVICE = re.compile(r"^cuda(?::(\d+))?$")
_INSTALL = "pip install -e '.[trtllm]' on a machine with an NVIDIA GPU (see docs/engines.md)"
_MIN_CC = {"fp32": (7, 0), "fp16": (7, 0), "bf16": (8, 0), "fp8": (8, 9), "int8": (7, 5),
           "int4": (7, 5), "nvfp4": NVFP4_MIN_CC}
_ALGO = {"fp8": "FP8", "int8": "W8A8_SQ_PER_CHANNEL", "int4": "W4A16_AWQ", "nvfp4": "NVFP4"}
_DTYPE = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16", "fp8": "float16",
          "int8": "float16", "int4": "float16", "nvfp4": "float16"}
_SHARD_BYTES = 2 << 30


def _cache_root() -> Path:
    env = os.environ.get("EDGEPROF_CACHE_DIR")
    return (Path(env).expanduser() if env else Path.home() / ".cache" / "edgeprof") / "trtllm"


class TrtLlmEngine(Engine):
    """TensorRT-LLM (TensorRT backend of its LLM API) on an NVIDIA GPU."""

    name = "tensorrt-llm"

    def __init__(self, device: str = "cuda", max_batch_size: int = 8, max_input_len: int = 4096,
                 max_seq_len: int = 8192, calib_dataset: str | None = None,
                 calib_batches: int = 16, kv_cache_free_gpu_memory_fraction: float = 0.85,
                 seed: int = 0, compute_capability: tuple[int, int] | None = None,
                 cache_dir: str | None = None) -> None:
        if device == "cpu":
            raise MissingDependencyError("The tensorrt-llm engine runs on NVIDIA GPUs only; "
                                         "use --device cuda, or the torch/onnxruntime engines.")
        match = _DEVICE.match(device)
        if not match:
            raise UserInputError(f"Unknown device {device!r} for the tensorrt-llm engine; "
                                 "use cuda or cuda:N.")
        if not self.is_available():
            raise MissingDependencyError(f"The tensorrt-llm engine needs TensorRT-LLM; {_INSTALL}.")
        for label, value in (("max_batch_size", max_batch_size), ("max_input_len", max_input_len),
                             ("max_seq_len", max_seq_len), ("calib_batches", calib_batches)):
            if value < 1:
                raise UserInputError(f"{label} must be ≥ 1, got {value}.")
        if max_input_len >= max_seq_len:
            raise UserInputError(f"max_input_len ({max_input_len}) must be below max_seq_len "
                                 f"({max_seq_len}).")
        super().__init__(device=device)
        self.device_id = int(match.group(1) or 0)
        self.capability = compute_capability or _detect_capability(self.device_id)
        self.max_batch_size = max_batch_size
        self.max_input_len = max_input_len
        self.max_seq_len = max_seq_len
        self.calib_dataset = calib_dataset
        self.calib_batches = calib_batches
        self.kv_fraction = kv_cache_free_gpu_memory_fraction
        self.seed = seed
        self.cache_dir = Path(cache_dir).expanduser() / "trtllm" if cache_dir else None
        self.llm: Any = None
        self.arch: ArchSpec | None = None
        self.quant: str | None = None
        self.engine_dir: Path | None = None
        self._built = False
        self._build_s = 0.0
        self._backend = ""

    @classmethod
    def is_available(cls) -> bool:
        try:
            return importlib.util.find_spec("tensorrt_llm") is not None
        except ValueError:  # a module injected into sys.modules without a spec
            import sys

            return "tensorrt_llm" in sys.modules

    # ------------------------------------------------------------------ support
    def support(self, arch: ArchSpec, quant: str) -> Support:
        q = get_quant(quant).name
        cc = self.capability
        need = _MIN_CC[q]
        if cc < need:
            return Support(QuantImpl.NONE, f"{q} needs compute capability ≥ {need[0]}.{need[1]}; "
                           f"this GPU is {cc[0]}.{cc[1]}")
        if arch.family not in ("qwen2", "llama"):
            return Support(QuantImpl.NONE, f"model family {arch.family} is not wired up")
        how = (f"QuantAlgo.{_ALGO[q]}" if q in _ALGO else f"dense {_DTYPE[q]}")
        return Support(QuantImpl.NATIVE, f"{how} on sm_{cc[0]}{cc[1]}")

    def build_settings(self, quant: str) -> dict[str, Any]:
        """The settings the engine for ``quant`` is built with (the cache key)."""
        q = get_quant(quant).name
        out: dict[str, Any] = {
            "dtype": _DTYPE[q], "quant_algo": _ALGO.get(q),
            "kv_cache_quant_algo": "FP8" if q == "fp8" else None,
            "max_batch_size": self.max_batch_size, "max_input_len": self.max_input_len,
            "max_seq_len": self.max_seq_len,
            "compute_capability": f"{self.capability[0]}.{self.capability[1]}",
        }
        if q in _ALGO:
            out["calib_dataset"] = self.calib_dataset or "library default (needs network)"
            out["calib_batches"] = self.calib_batches
        return out

    # ------------------------------------------------------------------ load
    def load(self, arch: ArchSpec, quant: str) -> None:
        self.unload()
        q = get_quant(quant).name
        self.require_support(arch, q)
        trt = importlib.import_module("tensorrt_llm")
        llmapi = importlib.import_module("tensorrt_llm.llmapi")
        llm_cls = _llm_class(trt)
        self._backend = f"{llm_cls.__module__}.{llm_cls.__qualname__}"
        settings = self.build_settings(q)
        key = hashlib.sha256(json.dumps({"arch": _arch_key(arch), "build": settings,
                                         "trtllm": getattr(trt, "__version__", "?")},
                                        sort_keys=True).encode()).hexdigest()[:16]
        root = self.cache_dir or _cache_root()
        engine_dir = root / "engines" / f"{arch.name}-{q}-{key}"
        kv_config = llmapi.KvCacheConfig(free_gpu_memory_fraction=self.kv_fraction)
        t0 = time.perf_counter()
        try:
            if (engine_dir / "edgeprof.json").is_file():
                llm = llm_cls(model=str(engine_dir), skip_tokenizer_init=True,
                              kv_cache_config=kv_config)
                self._built = False
            else:
                model_dir = _hf_folder(arch, root / "hf", self.seed)
                kwargs: dict[str, Any] = {
                    "model": str(model_dir), "dtype": settings["dtype"],
                    "skip_tokenizer_init": True, "kv_cache_config": kv_config,
                    "build_config": _build_config(trt, llmapi, settings),
                }
                if q in _ALGO:
                    algo = llmapi.QuantAlgo
                    kwargs["quant_config"] = llmapi.QuantConfig(
                        quant_algo=getattr(algo, _ALGO[q]),
                        kv_cache_quant_algo=algo.FP8 if q == "fp8" else None)
                    calib: dict[str, Any] = {"calib_batches": self.calib_batches}
                    if self.calib_dataset:
                        calib["calib_dataset"] = self.calib_dataset
                    kwargs["calib_config"] = llmapi.CalibConfig(**calib)
                llm = llm_cls(**kwargs)
                llm.save(str(engine_dir))
                (engine_dir / "edgeprof.json").write_text(json.dumps(
                    {"arch": arch.name, "quant": q, "build": settings}, indent=1))
                self._built = True
        except Exception as exc:
            if "out of memory" in str(exc).lower():
                raise EngineOOM(f"Out of GPU memory building {arch.name} {q}; lower "
                                "max_seq_len/max_batch_size or pick a smaller model.") from None
            raise
        self._build_s = time.perf_counter() - t0
        self.llm, self.arch, self.quant, self.engine_dir = llm, arch, q, engine_dir
        self.run(8, 3, 1)  # warm-up

    def unload(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None and hasattr(llm, "shutdown"):
            llm.shutdown()
        self.arch = None
        self.quant = None
        gc.collect()

    # ------------------------------------------------------------------ run
    def is_loaded(self) -> bool:
        return self.llm is not None and self.arch is not None

    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        if (input_tokens > self.max_input_len or input_tokens + output_tokens > self.max_seq_len
                or batch > self.max_batch_size):
            raise UnsupportedError(
                f"input {input_tokens}, output {output_tokens}, batch {batch} exceed the engine "
                f"built for max_input_len {self.max_input_len}, max_seq_len {self.max_seq_len}, "
                f"max_batch_size {self.max_batch_size}; rebuild with larger limits.")
        trt = importlib.import_module("tensorrt_llm")
        params = trt.SamplingParams(max_tokens=output_tokens, ignore_eos=True, n=batch,
                                    end_id=-1, pad_id=0)
        rng = np.random.default_rng(self.seed)
        prompt = rng.integers(0, self.arch.vocab, input_tokens).tolist()
        t_start, stamps, lengths, chunks = _stream(self.llm, prompt, params)
        if len(lengths) != batch or any(n != output_tokens for n in lengths):
            raise RuntimeError(f"tensorrt-llm returned {lengths} tokens for {batch} sequences; "
                               f"expected {output_tokens} each")
        edges = [t_start, *stamps]
        times = [(b - a) / 1e9 for a, b in itertools.pairwise(edges)]
        return RunResult(token_times_s=times, t_start_ns=t_start, t_first_ns=stamps[0],
                         t_end_ns=stamps[-1], peak_mem_bytes=None,
                         extra={"stream_chunks": chunks,
                                "coalesced_tokens": output_tokens - chunks,
                                "peak_mem_method": "not measured (KV pool preallocated at "
                                f"{self.kv_fraction:.0%} of free GPU memory)"})

    # ------------------------------------------------------------------ records
    def loaded_weight_bytes(self) -> int | None:
        """Bytes of the serialized TensorRT engine files (weights plus kernels)."""
        if self.llm is None or self.engine_dir is None:
            return None
        return sum(f.stat().st_size for f in self.engine_dir.glob("*.engine")) or None

    def versions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for mod in ("tensorrt_llm", "tensorrt", "torch"):
            try:
                out[mod] = str(importlib.import_module(mod).__version__)
            except (ImportError, AttributeError):
                continue
        return out

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device": self.device,
            "compute_capability": f"{self.capability[0]}.{self.capability[1]}",
            "kv_cache_free_gpu_memory_fraction": self.kv_fraction,
            "sampling": "greedy, ignore_eos, n parallel samples in one request",
            "timing": "perf_counter_ns per streamed chunk (generate_async streaming=True)",
        }
        if self.quant is not None:
            out.update({"quant": self.quant, "build": self.build_settings(self.quant),
                        "backend": self._backend, "engine_dir": str(self.engine_dir),
                        "engine": (f"built in {self._build_s:.1f}s" if self._built
                                   else "loaded from cache"),
                        "weights": ("local" if self.arch and self.arch.local_path
                                    else "random")})
        return out


def _detect_capability(device_id: int) -> tuple[int, int]:
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(f"The tensorrt-llm engine needs torch with CUDA; {_INSTALL}."
                                     ) from None
    if not torch.cuda.is_available():
        raise MissingDependencyError("The tensorrt-llm engine needs an NVIDIA GPU, and torch "
                                     "sees none; run it on a CUDA machine.")
    major, minor = torch.cuda.get_device_capability(device_id)
    return int(major), int(minor)


def _llm_class(trt: Any) -> Any:
    """The TensorRT-engine ``LLM``: ``tensorrt_llm._tensorrt_engine.LLM`` in releases whose
    default ``LLM`` is the PyTorch backend, else ``tensorrt_llm.LLM``."""
    try:
        return importlib.import_module("tensorrt_llm._tensorrt_engine").LLM
    except (ImportError, AttributeError):
        return trt.LLM


def _build_config(trt: Any, llmapi: Any, s: dict[str, Any]) -> Any:
    cls = getattr(llmapi, "BuildConfig", None) or trt.BuildConfig
    return cls(max_batch_size=s["max_batch_size"], max_input_len=s["max_input_len"],
               max_seq_len=s["max_seq_len"])


def _stream(llm: Any, prompt: list[int], params: Any) -> tuple[int, list[int], list[int], int]:
    """Run one streaming request: (t_start, stamp per token, tokens per sequence, chunks)."""
    stamps: list[int] = []
    lengths: list[int] = []
    chunks = 0

    def take(out: Any) -> None:
        nonlocal lengths, chunks
        now = time.perf_counter_ns()
        lengths = [len(o.token_ids) for o in out.outputs]
        new = max(lengths, default=0) - len(stamps)
        if new > 0:
            chunks += 1
            stamps.extend([now] * new)

    t_start = time.perf_counter_ns()
    result = llm.generate_async(prompt, params, streaming=True)
    if hasattr(result, "__iter__"):
        for out in result:
            take(out)
    else:
        async def consume() -> None:
            async for out in result:
                take(out)

        asyncio.run(consume())
    if not stamps:
        raise RuntimeError("tensorrt-llm streamed no tokens")
    return t_start, stamps, lengths, chunks


def _arch_key(arch: ArchSpec) -> dict[str, Any]:
    return {"config": arch.hf_config(), "local": arch.local_path}


def _hf_folder(arch: ArchSpec, root: Path, seed: int) -> Path:
    """A Hugging Face folder for ``arch``: its local folder, or random fp16 weights."""
    if arch.local_path and any(Path(arch.local_path).glob("*.safetensors")):
        return Path(arch.local_path)
    from safetensors.numpy import save_file

    from edgeprof.engines._random_weights import random_weights

    key = hashlib.sha256(json.dumps({"a": _arch_key(arch), "seed": seed},
                                    sort_keys=True).encode()).hexdigest()[:16]
    folder = root / key
    if (folder / "config.json").is_file():
        return folder
    tmp = folder.with_name(f"{key}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    shard: dict[str, np.ndarray] = {}
    index: dict[str, str] = {}
    size = 0

    def flush() -> None:
        nonlocal shard, size
        if shard:
            name = f"model-{len(set(index.values())) + 1:05d}.safetensors"
            save_file(shard, str(tmp / name))
            index.update(dict.fromkeys(shard, name))
            shard, size = {}, 0

    for name, array in random_weights(arch, np.dtype("float16"), seed):
        if name.endswith("proj.weight"):  # MatMul [in, out] -> nn.Linear [out, in]
            array = np.ascontiguousarray(array.T)
        shard[name] = array
        size += array.nbytes
        if size >= _SHARD_BYTES:
            flush()
    flush()
    (tmp / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": 0}, "weight_map": index}))
    (tmp / "config.json").write_text(json.dumps({**arch.hf_config(), "torch_dtype": "float16"},
                                                indent=1))
    try:
        os.replace(tmp, folder)
    except OSError:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return folder
