"""The ONNX Runtime engine: the architecture as one ONNX graph with its KV cache.

``OnnxEngine(device="cpu" | "cuda" | "cuda:N", provider=None, threads=None, seed=0,
int4_block_size=128, int4_accuracy_level=None, cache_dir=None, isolate_export=True)``.
Exports run in a spawned child process (``isolate_export``) so the measuring process keeps
none of the exporter's memory.

``load`` exports (or finds in the cache, :mod:`onnx_quant`) the graph of
:mod:`onnx_build` in the quant format and opens an ``InferenceSession`` on the execution
provider the device asks for: ``CPUExecutionProvider`` on ``cpu``; on ``cuda`` the
``CUDAExecutionProvider`` (``provider="tensorrt"`` puts ``TensorrtExecutionProvider`` first),
chosen from ``onnxruntime.get_available_providers()``. ``run`` prefills, samples the first token
greedily, then decodes ``output_tokens - 1`` tokens one at a time, binding each step's
``present.*`` outputs as the next step's ``past_key_values.*`` inputs (``IOBinding``, so the
cache stays on the device), ignoring EOS, and reads ``perf_counter_ns`` after each token.
"""

from __future__ import annotations

import gc
import itertools
import platform as _platform
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import INT4_GROUP_SIZE, get_quant
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.errors import (
    EngineOOM,
    MissingDependencyError,
    UnsupportedError,
    UserInputError,
)
from edgeprof.table._schema import QuantImpl

try:
    import onnx  # noqa: F401 - the exporter needs it
    import onnxruntime as ort
except ImportError:  # pragma: no cover - the constructor reports the missing extra
    ort = None

_DEVICE = re.compile(r"^(cpu|cuda)(?::(\d+))?$")
_OOM_TEXT = ("bad_alloc", "bad allocation", "failed to allocate memory", "out of memory",
             "cudaerrormemoryallocation")
_LOAD_WARMUP = (8, 3)
_INSTALL_GPU = "pip uninstall onnxruntime && pip install onnxruntime-gpu"


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or any(t in str(exc).lower() for t in _OOM_TEXT)


class OnnxEngine(Engine):
    """ONNX Runtime with fused GQA attention; INT8 via ``quantize_dynamic``, INT4 via
    ``MatMulNBits``; fp32 (and fp16) graphs."""

    name = "onnxruntime"

    def __init__(self, device: str = "cpu", provider: str | None = None,
                 threads: int | None = None, seed: int = 0, int4_block_size: int = 128,
                 int4_accuracy_level: int | None = None, cache_dir: str | None = None,
                 isolate_export: bool = True) -> None:
        if ort is None:
            raise MissingDependencyError("The onnxruntime engine needs onnxruntime and onnx; "
                                         "install them with: pip install -e '.[onnx]'.")
        match = _DEVICE.match(device)
        if not match:
            raise UserInputError(f"Unknown device {device!r} for the onnxruntime engine; "
                                 "use cpu, cuda or cuda:N.")
        if provider not in (None, "cpu", "cuda", "tensorrt"):
            raise UserInputError(f"provider must be cpu, cuda or tensorrt, got {provider!r}.")
        if int4_block_size not in (32, 64, 128, 256):
            raise UserInputError(f"int4_block_size must be 32, 64, 128 or 256, "
                                 f"got {int4_block_size}.")
        if threads is not None and threads < 1:
            raise UserInputError(f"threads must be ≥ 1, got {threads}.")
        super().__init__(device=device)
        self.cuda = match.group(1) == "cuda"
        self.device_id = int(match.group(2) or 0)
        self.provider = provider or ("cuda" if self.cuda else "cpu")
        if self.cuda and self.provider == "cpu":
            raise UserInputError("provider cpu contradicts device cuda; use --device cpu.")
        self.threads = threads
        self.seed = seed
        self.int4_block_size = int4_block_size
        # CPU: accuracy level 4 = the MLAS kernel quantizes activations to INT8 per block
        self.int4_accuracy_level = (int4_accuracy_level if int4_accuracy_level is not None
                                    else (None if self.cuda else 4))
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else None
        self.isolate_export = isolate_export
        self.session: Any = None
        self.arch: ArchSpec | None = None
        self.quant: str | None = None
        self.model_path: Path | None = None
        self._impl: QuantImpl | None = None
        self._sizes: dict[str, int] = {}
        self._cached = False
        self._export_s = 0.0
        self._peak_method = ""

    @classmethod
    def is_available(cls) -> bool:
        return ort is not None

    # ------------------------------------------------------------------ support
    def _provider_problem(self) -> str:
        have = ort.get_available_providers()
        need = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider",
                "tensorrt": "TensorrtExecutionProvider"}[self.provider]
        if need in have:
            return ""
        return (f"onnxruntime {ort.__version__} here offers {', '.join(have)}, not {need}; "
                f"install the GPU build: {_INSTALL_GPU}")

    def support(self, arch: ArchSpec, quant: str) -> Support:
        q = get_quant(quant).name
        problem = self._provider_problem()
        if problem:
            return Support(QuantImpl.NONE, problem)
        from edgeprof.engines._onnx_build import inv_freq

        if arch.qk_norm or arch.partial_rotary_factor < 1:
            return Support(QuantImpl.NONE, f"the ONNX graph builder has no q/k norm or partial "
                           f"rotary ({arch.family}); run {arch.name} with the torch engine")
        try:
            inv_freq(arch)
        except UnsupportedError as exc:
            return Support(QuantImpl.NONE, str(exc))
        return _SUPPORT["cuda" if self.cuda else "cpu"][q]

    def _variant(self, quant: str):  # -> onnx_quant.Variant
        from edgeprof.engines._onnx_quant import Variant

        if quant == "int4":
            return Variant("int4", dtype="float16" if self.cuda else "float32",
                           block_size=self.int4_block_size,
                           accuracy_level=self.int4_accuracy_level)
        if quant == "fp16":
            return Variant("fp16", dtype="float16")
        return Variant(quant, dtype="float32")

    # ------------------------------------------------------------------ load
    def load(self, arch: ArchSpec, quant: str) -> None:
        from edgeprof.engines._onnx_quant import ensure_model, initializer_bytes

        self.unload()
        q = get_quant(quant).name
        support = self.require_support(arch, q)
        root = self.cache_dir / "onnx" if self.cache_dir else None
        t0 = time.perf_counter()
        try:
            path, self._cached = ensure_model(arch, self._variant(q), self.seed, root,
                                              isolate=self.isolate_export)
            self._export_s = time.perf_counter() - t0
            session = ort.InferenceSession(str(path), sess_options=self._session_options(),
                                           providers=self._providers())
        except Exception as exc:
            if _is_oom(exc):
                raise EngineOOM(f"Out of memory loading {arch.name} {q} on {self.device}; "
                                "try a smaller model or quant format.") from None
            raise
        self.session, self.arch, self.quant, self.model_path = session, arch, q, path
        self._impl = support.impl
        self._sizes = initializer_bytes(path)
        gc.collect()
        self.run(*_LOAD_WARMUP, batch=1)

    def _session_options(self) -> Any:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if self.threads is not None:
            opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        return opts

    def _providers(self) -> list[Any]:
        if not self.cuda:
            return ["CPUExecutionProvider"]
        cuda = ("CUDAExecutionProvider", {"device_id": self.device_id})
        if self.provider != "tensorrt":
            return [cuda, "CPUExecutionProvider"]
        from edgeprof.engines._onnx_quant import cache_root

        trt_cache = (self.cache_dir / "onnx" if self.cache_dir else cache_root()) / "trt"
        trt = ("TensorrtExecutionProvider", {
            "device_id": self.device_id, "trt_fp16_enable": self.quant in ("fp16", "int4"),
            "trt_engine_cache_enable": True, "trt_engine_cache_path": str(trt_cache),
        })
        return [trt, cuda, "CPUExecutionProvider"]

    def unload(self) -> None:
        self.session = None
        self.arch = None
        self.quant = None
        self._sizes = {}
        gc.collect()

    # ------------------------------------------------------------------ run
    def is_loaded(self) -> bool:
        return self.session is not None and self.arch is not None

    def context_limit(self) -> tuple[int, str] | None:
        if self.arch is None:
            return None
        from edgeprof.engines._onnx_build import rope_cache_len

        return rope_cache_len(self.arch), f"the context the ONNX graph of {self.arch.name} " \
            "was built for"

    def is_oom(self, exc: BaseException) -> bool:
        return _is_oom(exc)

    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        session, arch = self.session, self.arch
        assert session is not None and arch is not None  # run() checked is_loaded()
        from edgeprof.telemetry._memory import PeakRSS

        dev = ("cuda", self.device_id) if self.cuda else ("cpu", 0)
        kv_dtype = np.float16 if self.quant == "fp16" or (self.cuda and self.quant == "int4") \
            else np.float32
        rng = np.random.default_rng(self.seed)
        ids = rng.integers(0, arch.vocab, (batch, input_tokens), dtype=np.int64)
        empty = np.zeros((batch, arch.kv_heads, 0, arch.head_dim), dtype=kv_dtype)
        past = {f"past_key_values.{i}.{kind}": ort.OrtValue.ortvalue_from_numpy(empty, *dev)
                for i in range(arch.layers) for kind in ("key", "value")}
        out_names = [o.name for o in session.get_outputs()]
        present_to_past = {n: "past_key_values." + n.removeprefix("present.")
                           for n in out_names if n.startswith("present.")}
        stamps: list[int] = []
        peak = None if self.cuda else PeakRSS()
        if peak is not None:
            peak.__enter__()
        try:
            t_start = time.perf_counter_ns()
            total = input_tokens
            tokens = ids
            for _step in range(output_tokens):
                binding = session.io_binding()
                binding.bind_cpu_input("input_ids", tokens)
                binding.bind_cpu_input("seqlens_k", np.full(batch, total - 1, dtype=np.int32))
                binding.bind_cpu_input("total_sequence_length", np.array(total, dtype=np.int32))
                for name, value in past.items():
                    binding.bind_ortvalue_input(name, value)
                for name in out_names:
                    binding.bind_output(name, dev[0], dev[1])
                session.run_with_iobinding(binding)
                outs = dict(zip(out_names, binding.get_outputs(), strict=True))
                logits = outs["logits"].numpy()  # copies to the host: synchronizes the device
                tokens = logits.argmax(axis=-1).astype(np.int64).reshape(batch, 1)
                stamps.append(time.perf_counter_ns())
                past = {present_to_past[n]: v for n, v in outs.items() if n in present_to_past}
                total += 1
        finally:
            if peak is not None:
                peak.__exit__(None, None, None)
        final_len = past["past_key_values.0.key"].shape()[2]
        if final_len != input_tokens + output_tokens - 1 or tokens.shape != (batch, 1):
            raise RuntimeError(f"KV cache holds {final_len} tokens after {output_tokens} "
                               f"outputs of {input_tokens} inputs")
        if peak is not None:
            peak_bytes, self._peak_method = peak.bytes, peak.method
        else:
            peak_bytes, self._peak_method = None, "not measured (onnxruntime CUDA allocator)"
        times = [(b - a) / 1e9 for a, b in itertools.pairwise([t_start, *stamps])]
        return RunResult(token_times_s=times, t_start_ns=t_start, t_first_ns=stamps[0],
                         t_end_ns=stamps[-1], peak_mem_bytes=peak_bytes,
                         extra={"peak_mem_method": self._peak_method,
                                "context_tokens": input_tokens + output_tokens})

    # ------------------------------------------------------------------ records
    def loaded_weight_bytes(self) -> int | None:
        """Stored bytes of the loaded graph's weight initializers (rotary tables excluded).

        ONNX Runtime may hold prepacked copies beside them; peak memory shows those.
        """
        return sum(self._sizes.values()) if self.session is not None else None

    def weight_breakdown(self) -> dict[str, int]:
        """Bytes of the decoder projections (``linear``), the rest, and the total."""
        from edgeprof.engines._onnx_quant import weight_breakdown

        if self.arch is None:
            return {}
        return weight_breakdown(self.arch, self._sizes)

    def versions(self) -> dict[str, str]:
        import onnx

        return {"onnxruntime": ort.__version__, "onnx": onnx.__version__,
                "numpy": np.__version__, "python": _platform.python_version()}

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device": self.device,
            "providers": (self.session.get_providers() if self.session is not None
                          else [p if isinstance(p, str) else p[0] for p in self._providers()]),
            "intra_op_threads": self.threads if self.threads is not None else "ort default",
            "graph_optimization": "ORT_ENABLE_ALL",
            "seed": self.seed,
            "kv_cache": "GroupQueryAttention past/present via IOBinding",
            "sampling": "greedy argmax on host, EOS ignored",
            "weights": "random",
        }
        if self.session is not None and self.arch is not None and self.quant is not None:
            variant = self._variant(self.quant)
            out.update({
                "quant": self.quant,
                "quant_impl": self._impl.value if self._impl else None,
                "kernel": _KERNEL[self.quant],
                "graph_dtype": variant.dtype,
                "model_path": str(self.model_path),
                "export": "cached" if self._cached else f"exported in {self._export_s:.1f}s",
                "weight_bytes": self.weight_breakdown(),
            })
            if self.quant == "int4":
                out["int4_block_size"] = variant.block_size
                out["int4_accuracy_level"] = variant.accuracy_level
        if self._peak_method:
            out["peak_mem_method"] = self._peak_method
        return out


_KERNEL = {
    "fp32": "MatMul fp32 (MLAS / cuBLAS)",
    "fp16": "MatMul fp16",
    "int8": "DynamicQuantizeLinear + MatMulInteger (fused DynamicQuantizeMatMul), "
            "per-channel s8 weights",
    "int4": "com.microsoft.MatMulNBits, 4-bit block-wise asymmetric weights",
    "bf16": "", "fp8": "",
}

_SUPPORT: dict[str, dict[str, Support]] = {
    "cpu": {
        "fp32": Support(QuantImpl.NATIVE, "MatMul fp32 on the CPU EP (MLAS)"),
        "fp16": Support(QuantImpl.EMULATED,
                        "weights stored fp16; the CPU EP inserts Casts to fp32 around nodes "
                        "that lack fp16 kernels (most on x86), so the math runs in fp32"),
        "bf16": Support(QuantImpl.NONE, "the CPU EP has no bfloat16 MatMul or attention kernels"),
        "fp8": Support(QuantImpl.NONE, "ONNX Runtime has no FP8 GEMM on CPU; on an "
                       "sm ≥ 8.9 GPU use the tensorrt-llm engine"),
        "int8": Support(QuantImpl.NATIVE, "quantize_dynamic: MatMulInteger u8×s8 "
                        "(MLAS QGEMM), per-channel weights, dynamic activations"),
        "nvfp4": Support(QuantImpl.NONE, "ONNX Runtime has no NVFP4 GEMM; use the "
                         "tensorrt-llm engine on a Blackwell GPU (sm ≥ 10.0)"),
        "int4": Support(QuantImpl.NATIVE, f"MatMulNBits 4-bit blocks (default "
                        f"{INT4_GROUP_SIZE}), MLAS SQNBit kernel, INT8 compute "
                        "(accuracy_level 4)"),
    },
    "cuda": {
        "fp32": Support(QuantImpl.NATIVE, "MatMul fp32 (cuBLAS) on the CUDA EP; untested here"),
        "fp16": Support(QuantImpl.NATIVE, "MatMul fp16 (cuBLAS) on the CUDA EP; untested here"),
        "bf16": Support(QuantImpl.NONE, "the engine exports fp32/fp16 graphs only"),
        "fp8": Support(QuantImpl.NONE, "ONNX Runtime's CUDA EP runs no FP8 GEMM for this "
                       "graph; use the tensorrt-llm engine (sm ≥ 8.9)"),
        "int8": Support(QuantImpl.NONE, "quantize_dynamic's uint8 DynamicQuantizeLinear has no "
                        "CUDA kernel (nodes would fall back to the CPU); use tensorrt-llm "
                        "W8A8 SmoothQuant"),
        "nvfp4": Support(QuantImpl.NONE, "ONNX Runtime's CUDA EP runs no NVFP4 GEMM; use the "
                         "tensorrt-llm engine (sm ≥ 10.0)"),
        "int4": Support(QuantImpl.NATIVE, "MatMulNBits 4-bit blocks on the CUDA EP, fp16 "
                        "activations; untested here"),
    },
}
