"""The engine interface: how tokens are produced and timed.

An engine knows nothing of fitting or sweeps. The sweep calls, in this order::

    engine = get_engine("torch", device="cpu")
    support = engine.support(arch, quant)        # native / emulated / unsupported (+ reason)
    engine.load(arch, quant)                     # build or load weights, apply the format
    result = engine.run(input_tokens, output_tokens, batch)   # warm-ups and repeats
    engine.unload()

``run`` is a template (checks, OOM translation) around each engine's own ``_run``; an engine
implements ``support``, ``load``, ``_run`` and ``is_loaded``, and may override
``context_limit`` and ``is_oom``.

``run`` prefills ``batch`` sequences of ``input_tokens`` tokens, then decodes exactly
``output_tokens`` tokens per sequence with the KV cache, ignoring EOS. Clocks are read with
``time.perf_counter_ns`` after synchronizing the device.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.table._schema import QuantImpl


@dataclass(frozen=True)
class Support:
    """Whether and how an engine runs a quant format on this device."""

    impl: QuantImpl
    reason: str = ""

    @property
    def runnable(self) -> bool:
        return self.impl in (QuantImpl.NATIVE, QuantImpl.EMULATED)


@dataclass
class RunResult:
    """Timings of one prefill + decode run. Times in seconds, clock stamps in ns.

    ``token_times_s[0]`` is the TTFT (prefill and first token); ``token_times_s[i]`` for
    i ≥ 1 is the time of decode step i. ``t_start_ns``/``t_first_ns``/``t_end_ns`` are
    ``perf_counter_ns`` stamps of the start, the first token and the last token, so that
    telemetry can integrate power over each phase.
    """

    token_times_s: list[float]
    t_start_ns: int
    t_first_ns: int
    t_end_ns: int
    peak_mem_bytes: int | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ttft_s(self) -> float:
        return (self.t_first_ns - self.t_start_ns) / 1e9

    @property
    def decode_s(self) -> float:
        return (self.t_end_ns - self.t_first_ns) / 1e9

    @property
    def e2e_s(self) -> float:
        return (self.t_end_ns - self.t_start_ns) / 1e9

    @property
    def tbt_s(self) -> float | None:
        """Median time between tokens (None for a single output token)."""
        steps = sorted(self.token_times_s[1:])
        if not steps:
            return None
        mid = len(steps) // 2
        return steps[mid] if len(steps) % 2 else 0.5 * (steps[mid - 1] + steps[mid])


class Engine(ABC):
    """Base class for engines. Subclasses set ``name`` and implement the abstract methods."""

    name: ClassVar[str]

    def __init__(self, device: str = "cpu") -> None:
        self.device = device

    @classmethod
    def is_available(cls) -> bool:
        """Whether the engine's libraries import on this machine."""
        return True

    @abstractmethod
    def support(self, arch: ArchSpec, quant: str) -> Support:
        """How (or whether) ``quant`` runs for ``arch`` on this device; no loading."""

    @abstractmethod
    def load(self, arch: ArchSpec, quant: str) -> None:
        """Build the model (random or local weights) and apply the quant format."""

    def run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        """One timed prefill + decode of exactly ``output_tokens`` tokens.

        The template every engine shares: refuses a run before ``load`` and lengths or
        batches below 1, refuses ``input + output`` beyond :meth:`context_limit`, calls the
        engine's own :meth:`_run`, and turns a failure that :meth:`is_oom` recognises into
        ``EngineOOM`` (a row with status ``oom``, never a crash).
        """
        from edgeprof.catalog._context import context_message
        from edgeprof.errors import ContextLengthError, EngineOOM

        self.check_run_args(self.is_loaded(), input_tokens, output_tokens, batch)
        limit = self.context_limit()
        if limit is not None and input_tokens + output_tokens > limit[0]:
            raise ContextLengthError(context_message(limit[1], limit[0], input_tokens,
                                                     output_tokens, inputs="--inputs",
                                                     outputs="--outputs"))
        try:
            return self._run(input_tokens, output_tokens, batch)
        except EngineOOM:
            raise
        except Exception as exc:
            if self.is_oom(exc):
                raise EngineOOM(f"Out of memory at input {input_tokens}, output "
                                f"{output_tokens}, batch {batch}; lower them.") from None
            raise

    @abstractmethod
    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        """The engine's own timed run (arguments already checked by :meth:`run`)."""

    @abstractmethod
    def is_loaded(self) -> bool:
        """Whether ``load`` has built a model that ``run`` can time."""

    def context_limit(self) -> tuple[int, str] | None:
        """``(tokens, what)``: the most input + output tokens a run may hold and what sets
        it (e.g. "qwen2.5-0.5b's context length"); ``None`` when the engine cannot tell."""
        return None

    def is_oom(self, exc: BaseException) -> bool:
        """Whether ``exc`` is an out-of-memory failure (hook; ``MemoryError`` by default)."""
        return isinstance(exc, MemoryError)

    def unload(self) -> None:
        """Release the model (hook; does nothing by default)."""
        return None

    # -- shared checks for subclasses ----------------------------------------------
    def require_support(self, arch: ArchSpec, quant: str) -> Support:
        """:meth:`support`, raising ``UnsupportedError`` when the format cannot run."""
        from edgeprof.errors import UnsupportedError

        support = self.support(arch, quant)
        if not support.runnable:
            raise UnsupportedError(f"{quant} cannot run {arch.name} on {self.device} with "
                                   f"{self.name}: {support.reason}.")
        return support

    @staticmethod
    def check_run_args(loaded: bool, input_tokens: int, output_tokens: int, batch: int) -> None:
        """One-line errors for a run before load, or a length or batch below 1."""
        from edgeprof.errors import UserInputError

        if not loaded:
            raise UserInputError("Call load(arch, quant) before run().")
        for label, value in (("input_tokens", input_tokens), ("output_tokens", output_tokens),
                             ("batch", batch)):
            if value < 1:
                raise UserInputError(f"{label} must be ≥ 1, got {value}.")

    def loaded_weight_bytes(self) -> int | None:
        """Bytes of the weights as loaded (after quantization), if the engine can tell."""
        return None

    def versions(self) -> dict[str, str]:
        """Versions of the libraries the engine runs on."""
        return {}

    def settings(self) -> dict[str, Any]:
        """Engine settings worth recording with the run (threads, build flags)."""
        return {}


_REGISTRY: dict[str, str] = {
    # name -> "module:Class", imported lazily so the core never imports torch
    "torch": "edgeprof.engines._torch_engine:TorchEngine",
    "onnxruntime": "edgeprof.engines._onnx_engine:OnnxEngine",
    "tensorrt-llm": "edgeprof.engines._trtllm_engine:TrtLlmEngine",
    "openai": "edgeprof.engines._openai_engine:OpenAIEngine",
    "llama.cpp": "edgeprof.engines._llamacpp_engine:LlamaCppEngine",
}


def register_engine(name: str, target: str) -> None:
    _REGISTRY[name] = target


def engine_names() -> list[str]:
    return list(_REGISTRY)


def get_engine(name: str, device: str = "cpu", **options: Any) -> Engine:
    """Instantiate an engine by name; unknown names and missing libraries are clear errors."""
    import importlib

    from edgeprof.errors import MissingDependencyError, UserInputError

    if name not in _REGISTRY:
        raise UserInputError(f"Unknown engine {name!r}; choose one of {', '.join(_REGISTRY)}.")
    module_name, cls_name = _REGISTRY[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"The {name} engine needs {exc.name or 'an optional package'}; "
            f"install it with: pip install -e '.[{name}]'."
        ) from None
    cls = getattr(module, cls_name)
    from edgeprof.engines._options import check_engine_options

    check_engine_options(name, options)
    return cls(device=device, **options)
