"""The torch engine: a real transformers model, real torch kernels per quant format.

``TorchEngine(device="cpu" | "cuda" | "cuda:N", threads=None, seed=0)``. ``load`` builds the
architecture (random weights, or local safetensors when ``arch.local_path`` has them) and
replaces the decoder projections with the format's kernel (:mod:`torch_quant`); ``support``
answers from the platform alone (:mod:`torch_support`). ``run`` prefills, samples the first
token greedily, then decodes ``output_tokens - 1`` tokens one step at a time on the KV cache
(``DynamicCache``), ignoring EOS, reading ``perf_counter_ns`` after each token (after
``torch.cuda.synchronize`` on CUDA).
"""

from __future__ import annotations

import gc
import inspect
import itertools
import platform as _platform
import re
import time
from typing import Any

import torch
from torch import nn

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import INT4_GROUP_SIZE, get_quant
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.engines._torch_build import build_model, has_local_weights
from edgeprof.engines._torch_onednn import onednn_available, prepack_dense_linears
from edgeprof.engines._torch_quant import quantize_decoder_linears, tensor_bytes
from edgeprof.engines._torch_support import KernelPlan, Platform, detect_platform, plan_quant
from edgeprof.errors import EngineOOM, UnsupportedError, UserInputError
from edgeprof.table._schema import QuantImpl
from edgeprof.telemetry._memory import PeakRSS

_DEVICE = re.compile(r"^(cpu|cuda)(:\d+)?$")
_OOM_TEXT = ("out of memory", "can't allocate memory", "not enough memory")
_LOAD_WARMUP = (8, 3)  # a tiny prefill + decode at load so oneDNN/cuBLAS set up once


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(t in str(exc).lower() for t in _OOM_TEXT)


class TorchEngine(Engine):
    """transformers + torch eager, on CPU or CUDA.

    ``cpu_linear``: ``"onednn"`` (default) runs the dense linears on CPU through oneDNN with
    prepacked weights (:mod:`torch_onednn`); ``"aten"`` keeps ``aten.linear`` (MKL).
    """

    name = "torch"

    def __init__(self, device: str = "cpu", threads: int | None = None, seed: int = 0,
                 platform: Platform | None = None, cpu_linear: str = "onednn") -> None:
        if cpu_linear not in ("onednn", "aten"):
            raise UserInputError(f"cpu_linear must be onednn or aten, got {cpu_linear!r}.")
        self.cpu_linear = cpu_linear
        self._packed = 0
        if not _DEVICE.match(device):
            raise UserInputError(f"Unknown device {device!r} for the torch engine; "
                                 "use cpu, cuda or cuda:N.")
        if device.startswith("cuda") and platform is None and not torch.cuda.is_available():
            raise UnsupportedError(f"Device {device} asked for, but torch sees no CUDA GPU; "
                                   "install a CUDA build of torch or use --device cpu.")
        if threads is not None and threads < 1:
            raise UserInputError(f"threads must be ≥ 1, got {threads}.")
        super().__init__(device=device)
        self.threads = threads
        self.seed = seed
        self._platform = platform
        self.model: nn.Module | None = None
        self.arch: ArchSpec | None = None
        self.plan: KernelPlan | None = None
        self._quantized = 0
        self._peak_method = ""

    # ------------------------------------------------------------------ support
    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = detect_platform(self.device)
        return self._platform

    def support(self, arch: ArchSpec, quant: str) -> Support:
        plan = plan_quant(quant, self.platform)
        problem = _shape_problem(arch, plan)
        if problem:
            return Support(QuantImpl.NONE, problem)
        return Support(plan.impl, f"{plan.kernel}; {plan.reason}".rstrip("; "))

    # ------------------------------------------------------------------ load
    def load(self, arch: ArchSpec, quant: str) -> None:
        self.unload()
        self.require_support(arch, quant)
        plan = plan_quant(quant, self.platform)
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        dtype = getattr(torch, plan.dense_dtype)
        try:
            with torch.no_grad():
                model = build_model(arch, dtype, torch.device(self.device), self.seed)
                self._quantized = quantize_decoder_linears(model, plan, dtype)
                self._packed = 0
                if (not self.device.startswith("cuda") and self.cpu_linear == "onednn"
                        and onednn_available()):
                    self._packed = prepack_dense_linears(model)
        except Exception as exc:
            if _is_oom(exc):
                raise EngineOOM(f"Out of memory loading {arch.name} {quant} on {self.device}; "
                                "try a smaller model or quant format.") from None
            raise
        self.model, self.arch, self.plan = model, arch, plan
        gc.collect()
        self.run(*_LOAD_WARMUP, batch=1)

    def unload(self) -> None:
        self.model = None
        self.plan = None
        gc.collect()
        if self.device.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ------------------------------------------------------------------ run
    def is_loaded(self) -> bool:
        return self.model is not None and self.arch is not None

    def context_limit(self) -> tuple[int, str] | None:
        return None if self.arch is None else (self.arch.max_position,
                                               f"{self.arch.name}'s context length")

    def is_oom(self, exc: BaseException) -> bool:
        return _is_oom(exc)

    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        model, arch = self.model, self.arch
        assert model is not None and arch is not None  # run() checked is_loaded()
        from transformers import DynamicCache

        cuda = self.device.startswith("cuda")
        gen = torch.Generator().manual_seed(self.seed)
        ids = torch.randint(arch.vocab, (batch, input_tokens), generator=gen).to(self.device)
        sync = torch.cuda.synchronize if cuda else _no_sync
        stamps: list[int] = []
        if cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        peak = PeakRSS() if not cuda else None
        with torch.inference_mode(), (peak or _Null()):
            cache = DynamicCache(config=model.config)
            kv = {_cache_kwarg(model): cache}
            sync()
            t_start = time.perf_counter_ns()
            out = model(input_ids=ids, **kv, use_cache=True, logits_to_keep=1)
            token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
            sync()
            stamps.append(time.perf_counter_ns())
            for _ in range(output_tokens - 1):
                out = model(input_ids=token, **kv, use_cache=True)
                token = out.logits[:, -1, :].argmax(dim=-1, keepdim=True)
                sync()
                stamps.append(time.perf_counter_ns())
            if token.shape != (batch, 1):
                raise RuntimeError(f"decode produced shape {tuple(token.shape)}")
            del out, cache, kv
        if cuda:
            peak_bytes: int | None = int(torch.cuda.max_memory_allocated(self.device))
            self._peak_method = "torch.cuda.max_memory_allocated"
        else:
            assert peak is not None
            peak_bytes, self._peak_method = peak.bytes, peak.method
        edges = [t_start, *stamps]
        times = [(b - a) / 1e9 for a, b in itertools.pairwise(edges)]
        return RunResult(token_times_s=times, t_start_ns=t_start, t_first_ns=stamps[0],
                         t_end_ns=stamps[-1], peak_mem_bytes=peak_bytes,
                         extra={"peak_mem_method": self._peak_method,
                                "context_tokens": input_tokens + output_tokens})

    # ------------------------------------------------------------------ records
    def loaded_weight_bytes(self) -> int | None:
        return None if self.model is None else tensor_bytes(self.model)

    def versions(self) -> dict[str, str]:
        import transformers

        out = {"torch": torch.__version__, "transformers": transformers.__version__,
               "python": _platform.python_version()}
        if torch.version.cuda:
            out["cuda"] = str(torch.version.cuda)
        if torch.backends.mkldnn.is_available():
            out["onednn"] = "available"
        return out

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "device": self.device,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "seed": self.seed,
            "mode": "eager, torch.inference_mode",
            "kv_cache": "transformers.DynamicCache",
            "sampling": "greedy argmax, EOS ignored",
        }
        if self.device.startswith("cuda") and self._platform is not None:
            out["compute_capability"] = ".".join(map(str, self._platform.capability or ()))
        if self.plan is not None and self.arch is not None and self.model is not None:
            out.update({
                "quant": self.plan.quant,
                "quant_impl": self.plan.impl.value,
                "kernel": ("mkldnn._linear_pointwise (prepacked oneDNN) "
                           f"{self.plan.dense_dtype}" if self._packed and self.plan.method ==
                           "dense" else self.plan.kernel),
                "kernel_note": self.plan.reason,
                "dense_dtype": self.plan.dense_dtype,
                "quantized_linears": self._quantized,
                "onednn_packed_linears": self._packed,
                "dense_linear_kernel": ("mkldnn._linear_pointwise (prepacked)" if self._packed
                                        else "aten.linear"),
                "weights": "local" if has_local_weights(self.arch) else "random",
                "attn_implementation": getattr(self.model.config, "_attn_implementation", ""),
            })
        if self._peak_method:
            out["peak_mem_method"] = self._peak_method
        return out


def _shape_problem(arch: ArchSpec, plan: KernelPlan) -> str:
    """Why this architecture's shapes do not fit the plan's kernel ('' when they do)."""
    if get_quant(plan.quant).name != "int4":
        return ""
    ins = {arch.hidden, arch.heads * arch.head_dim, arch.ffn}
    outs = {arch.heads * arch.head_dim, arch.kv_heads * arch.head_dim, arch.ffn, arch.hidden}
    if any(k % INT4_GROUP_SIZE for k in ins):
        return f"int4 groups of {INT4_GROUP_SIZE} need input widths {sorted(ins)} divisible by it"
    if plan.method != "dequant" and any(n % 16 for n in outs):
        return f"int4 packing needs output widths {sorted(outs)} divisible by 16"
    return ""


def _no_sync() -> None:
    return None


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _cache_kwarg(model: nn.Module) -> str:
    """The forward argument that takes the KV cache: ``cache`` in recent transformers
    (which deprecates ``past_key_values``), ``past_key_values`` before."""
    params = inspect.signature(type(model).forward).parameters
    return "cache" if "cache" in params else "past_key_values"
