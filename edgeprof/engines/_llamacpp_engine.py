"""The llama.cpp engine: llama-cpp-python's bindings, in process, on edgeprof's own GGUFs.

``LlamaCppEngine(device="cpu" | "cuda" | "cuda:N", threads=None, n_gpu_layers=None, seed=0,
cache_dir=None, extra_buffers=True, n_batch=2048, n_ubatch=512, flash_attn=False)``.

``load`` writes (or finds in the cache) a random-weight GGUF of the architecture with
:mod:`edgeprof.engines._gguf_build` (int8 → Q8_0, int4 → Q4_0, fp16 → F16, bf16 → BF16,
fp32 → F32) and loads it with ``llama_model_load_from_file``. ``n_gpu_layers`` is passed to
llama.cpp as is (``-1`` offloads every layer); it defaults to 0 on ``cpu`` and -1 on
``cuda``. ``extra_buffers`` is llama.cpp's ``use_extra_bufts`` (the repacked / AMX weight
layouts of the CPU backend).

``run`` uses the C API through llama-cpp-python's ctypes bindings rather than
``llama_cpp.Llama``, because ``Llama`` keeps one sequence per context and a batch of B
sequences needs a context with ``n_seq_max = B``: it prefills B sequences of random token
ids with ``llama_decode`` (chunks of ``n_batch`` tokens), takes the greedy argmax of each
sequence's last logits, then decodes one token per sequence per step, always feeding the
argmax back whatever it is, so EOS never ends a sequence and the output length is exact.
``perf_counter_ns`` is read after each step's logits are read (``llama_get_logits_ith``
synchronizes the backend). Peak memory on the CPU is the process's peak resident set during
the run (the mmap'ed weights count once touched); on a GPU it is not measured (``None``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import platform as _platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import get_quant
from edgeprof.engines import _gguf_build as gguf_build
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.errors import EngineOOM, MissingDependencyError, UserInputError
from edgeprof.table._schema import QuantImpl
from edgeprof.telemetry._memory import PeakRSS

try:
    import llama_cpp
except ImportError:  # pragma: no cover - the constructor reports the missing extra
    llama_cpp = None

_DEVICE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
_LOAD_WARMUP = (8, 3)
_CTX_ROUND = 256
_INSTALL = "pip install -e '.[llamacpp]' (see scripts/setup.sh for the build flags)"
_INSTALL_GPU = "CMAKE_ARGS='-DGGML_CUDA=on' pip install --force-reinstall llama-cpp-python"
_backend_ready = False


def _lib() -> Any:
    if llama_cpp is None:
        raise MissingDependencyError(f"The llama.cpp engine needs llama-cpp-python; {_INSTALL}.")
    global _backend_ready
    if not _backend_ready:
        llama_cpp.llama_backend_init()
        _backend_ready = True
    return llama_cpp


class LlamaCppEngine(Engine):
    """llama.cpp's own kernels (Q8_0, Q4_0, F16, BF16, F32) through llama-cpp-python."""

    name = "llama.cpp"

    def __init__(self, device: str = "cpu", threads: int | None = None,
                 n_gpu_layers: int | None = None, seed: int = 0, cache_dir: str | None = None,
                 extra_buffers: bool = True, n_batch: int = 2048, n_ubatch: int = 512,
                 flash_attn: bool = False, verbose: bool = False) -> None:
        super().__init__(device)
        match = _DEVICE.match(device)
        if not match:
            raise UserInputError(f"Unknown device {device!r} for llama.cpp; use cpu, cuda or "
                                 "cuda:N.")
        for label, value in (("threads", threads), ("n_batch", n_batch),
                             ("n_ubatch", n_ubatch)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise UserInputError(f"The {label!r} option of the llama.cpp engine must be an "
                                     f"integer ≥ 1. Got {value!r} instead.")
        if n_gpu_layers is not None and (not isinstance(n_gpu_layers, int) or n_gpu_layers < -1):
            raise UserInputError("The 'n_gpu_layers' option of the llama.cpp engine must be -1 "
                                 f"(all) or an integer ≥ 0. Got {n_gpu_layers!r} instead.")
        _lib()
        self.gpu = match.group(1) == "cuda"
        self.main_gpu = int(match.group(2) or 0)
        self.threads = threads or os.cpu_count() or 1
        self.n_gpu_layers = n_gpu_layers if n_gpu_layers is not None else (-1 if self.gpu else 0)
        self.seed = seed
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.extra_buffers = bool(extra_buffers)
        self.n_batch, self.n_ubatch = n_batch, min(n_ubatch, n_batch)
        self.flash_attn = bool(flash_attn)
        self.verbose = verbose
        logging.getLogger("llama-cpp-python").setLevel(logging.DEBUG if verbose
                                                        else logging.ERROR)
        self.arch: ArchSpec | None = None
        self.info: gguf_build.GgufInfo | None = None
        self._model: Any = None
        self._ctx: Any = None
        self._ctx_shape: tuple[int, int] = (0, 0)  # (n_seq_max, n_ctx)
        self._peak_method = ""

    @classmethod
    def is_available(cls) -> bool:
        return llama_cpp is not None

    # ------------------------------------------------------------------ support
    def support(self, arch: ArchSpec, quant: str) -> Support:
        name = get_quant(quant).name  # unknown names raise UnknownQuantError
        if name not in gguf_build.QUANT_TO_GGUF:
            return Support(QuantImpl.NONE, f"llama.cpp has no GGUF type for {name} here; use "
                           f"{', '.join(gguf_build.QUANT_TO_GGUF)}")
        problem = gguf_build.support_problem(arch, name)
        if problem:
            return Support(QuantImpl.NONE, problem)
        if self.gpu and self.n_gpu_layers != 0 and not _lib().llama_supports_gpu_offload():
            return Support(QuantImpl.NONE, "this llama-cpp-python build has no GPU backend; "
                           f"reinstall with {_INSTALL_GPU}")
        qtype = gguf_build.QUANT_TO_GGUF[name]
        where = "GPU" if self.gpu and self.n_gpu_layers != 0 else "CPU"
        return Support(QuantImpl.NATIVE, f"GGUF {qtype} with llama.cpp's {where} kernels")

    # ------------------------------------------------------------------ load
    def load(self, arch: ArchSpec, quant: str) -> None:
        self.unload()
        self.require_support(arch, quant)
        lib = _lib()
        root = self.cache_dir / "gguf" if self.cache_dir else None
        info = gguf_build.ensure_gguf(arch, quant, seed=self.seed, root=root)
        params = lib.llama_model_default_params()
        params.n_gpu_layers = self.n_gpu_layers
        params.main_gpu = self.main_gpu
        params.use_extra_bufts = self.extra_buffers
        model = lib.llama_model_load_from_file(str(info.path).encode(), params)
        if not model:
            raise EngineOOM(f"llama.cpp could not load {info.path.name} ({arch.name} "
                            f"{info.gguf_type}); out of memory or an unreadable file.")
        self._model, self.arch, self.info = model, arch, info
        self.run(*_LOAD_WARMUP, batch=1)

    def unload(self) -> None:
        lib = llama_cpp
        if self._ctx is not None and lib is not None:
            lib.llama_free(self._ctx)
        if self._model is not None and lib is not None:
            lib.llama_model_free(self._model)
        self._ctx, self._model, self._ctx_shape = None, None, (0, 0)
        self.arch = None

    def __del__(self) -> None:  # contexts hold native memory
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.unload()

    def _context(self, batch: int, tokens: int) -> Any:
        """A context with ``batch`` sequences and room for ``tokens`` each (reused if it
        fits)."""
        lib = _lib()
        need = -(-batch * tokens // _CTX_ROUND) * _CTX_ROUND
        n_seq, n_ctx = self._ctx_shape
        if self._ctx is not None and n_seq == batch and n_ctx >= need:
            return self._ctx
        if self._ctx is not None:
            lib.llama_free(self._ctx)
            self._ctx = None
        params = lib.llama_context_default_params()
        params.n_ctx, params.n_seq_max = need, batch
        params.n_batch, params.n_ubatch = self.n_batch, self.n_ubatch
        params.n_threads = params.n_threads_batch = self.threads
        params.kv_unified = True  # one cache of n_ctx cells shared by the sequences
        params.no_perf = True
        params.flash_attn_type = 1 if self.flash_attn else 0  # enabled / disabled
        ctx = lib.llama_init_from_model(self._model, params)
        if not ctx:
            raise EngineOOM(f"llama.cpp could not create a context of {need} cells for batch "
                            f"{batch}; lower the batch or the lengths.")
        self._ctx, self._ctx_shape = ctx, (batch, need)
        return ctx

    # ------------------------------------------------------------------ run
    def is_loaded(self) -> bool:
        return self._model is not None and self.arch is not None

    def context_limit(self) -> tuple[int, str] | None:
        return None if self.arch is None else (self.arch.max_position,
                                               f"{self.arch.name}'s context length")

    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        arch = self.arch
        assert arch is not None  # run() checked is_loaded()
        ctx = self._context(batch, input_tokens + output_tokens)
        lib = _lib()
        lib.llama_memory_clear(lib.llama_get_memory(ctx), True)
        rng = np.random.default_rng(self.seed)
        ids = rng.integers(3, arch.vocab, size=(batch, input_tokens)).tolist()
        cap = max(self.n_batch, batch)
        lbatch = lib.llama_batch_init(cap, 0, batch)
        peak = PeakRSS() if not self.gpu else None
        try:
            with peak or _Null():
                stamps, t_start = self._timed(lib, ctx, lbatch, ids, output_tokens, batch, arch)
        finally:
            lib.llama_batch_free(lbatch)
        if peak is not None:
            peak_bytes, self._peak_method = peak.bytes, f"process {peak.method}"
        else:
            peak_bytes, self._peak_method = None, "not measured on GPU"
        edges = [t_start, *stamps]
        times = [(b - a) / 1e9 for a, b in itertools.pairwise(edges)]
        assert self.info is not None
        return RunResult(token_times_s=times, t_start_ns=t_start, t_first_ns=stamps[0],
                         t_end_ns=stamps[-1], peak_mem_bytes=peak_bytes,
                         extra={"gguf_type": self.info.gguf_type,
                                "dense_type": self.info.dense_type,
                                "peak_mem_method": self._peak_method,
                                "context_tokens": input_tokens + output_tokens})

    def _timed(self, lib: Any, ctx: Any, lb: Any, ids: list[list[int]], output_tokens: int,
               batch: int, arch: ArchSpec) -> tuple[list[int], int]:
        """Prefill and decode; the perf_counter_ns stamps after each token and the start."""
        vocab = arch.vocab
        flat = [(s, p, t) for s, seq in enumerate(ids) for p, t in enumerate(seq)]
        last = len(ids[0]) - 1
        chunk = max(1, self.n_batch)
        nxt = [0] * batch
        stamps: list[int] = []

        def decode(items: list[tuple[int, int, int, bool]]) -> None:
            for i, (seq, pos, tok, want) in enumerate(items):
                lb.token[i], lb.pos[i], lb.n_seq_id[i] = tok, pos, 1
                lb.seq_id[i][0], lb.logits[i] = seq, want
            lb.n_tokens = len(items)
            code = lib.llama_decode(ctx, lb)
            if code == 1:
                raise EngineOOM("llama.cpp found no KV-cache slot; lower the batch or lengths.")
            if code != 0:
                raise RuntimeError(f"llama_decode returned {code}")
            for i, (seq, _, _, want) in enumerate(items):
                if want:
                    row = lib.llama_get_logits_ith(ctx, i)
                    nxt[seq] = int(np.ctypeslib.as_array(row, shape=(vocab,)).argmax())

        t_start = time.perf_counter_ns()
        for start in range(0, len(flat), chunk):
            decode([(s, p, t, p == last) for s, p, t in flat[start:start + chunk]])
        stamps.append(time.perf_counter_ns())
        for step in range(1, output_tokens):
            decode([(s, last + step, nxt[s], True) for s in range(batch)])
            stamps.append(time.perf_counter_ns())
        return stamps, t_start

    # ------------------------------------------------------------------ records
    def loaded_weight_bytes(self) -> int | None:
        if self._model is None:
            return None
        return int(_lib().llama_model_size(self._model))

    def versions(self) -> dict[str, str]:
        out = {"python": _platform.python_version()}
        if llama_cpp is not None:
            out["llama_cpp_python"] = llama_cpp.__version__
            out["llama_cpp_system_info"] = llama_cpp.llama_print_system_info().decode().strip()
        try:
            from importlib.metadata import version

            out["gguf"] = version("gguf")
        except Exception:  # pragma: no cover - gguf missing is reported at load
            pass
        return out

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device": self.device,
            "threads": self.threads,
            "n_gpu_layers": self.n_gpu_layers,
            "gpu_offload_supported": bool(llama_cpp and llama_cpp.llama_supports_gpu_offload()),
            "extra_buffers": self.extra_buffers,
            "n_batch": self.n_batch,
            "n_ubatch": self.n_ubatch,
            "flash_attn": self.flash_attn,
            "kv_cache": "llama.cpp unified KV cache, f16",
            "seed": self.seed,
            "sampling": "greedy argmax of the logits, EOS ignored",
            "api": "llama.cpp C API via llama-cpp-python ctypes (llama_decode)",
        }
        if self.info is not None:
            where = "GPU" if self.gpu and self.n_gpu_layers != 0 else "CPU"
            repack = " (extra buffers: repacked layouts allowed)" if self.extra_buffers else ""
            out.update({"kernel": f"ggml {where} mul_mat on {self.info.gguf_type}{repack}",
                        "gguf_file": self.info.path.name, "gguf_type": self.info.gguf_type,
                        "dense_type": self.info.dense_type, "weights": "random",
                        "tokenizer": "generated SentencePiece-style vocab (not the model's)"})
        if self._peak_method:
            out["peak_mem_method"] = self._peak_method
        return out


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


__all__ = ["LlamaCppEngine"]
