"""The TensorRT-LLM engine against a fake ``tensorrt_llm`` module (no GPU, no TensorRT here).

The fake LLM records how it was built and streams tokens whose arrival times the test
controls (a fake clock patched into ``time.perf_counter_ns``), so the timings the engine
reports can be checked to the nanosecond.
"""

from __future__ import annotations

import enum
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from edgeprof.catalog import resolve_model
from edgeprof.engines._conformance import tiny_arch
from edgeprof.errors import MissingDependencyError, UnsupportedError, UserInputError
from edgeprof.table._schema import QuantImpl

ENGINE_BYTES = 123_456


class FakeClock:
    """A perf_counter_ns whose time only moves when the fake engine says so."""

    def __init__(self) -> None:
        self.now = 1_000_000_000

    def __call__(self) -> int:
        return self.now


@dataclass
class _Completion:
    token_ids: list[int]


@dataclass
class _RequestOutput:
    outputs: list[_Completion]


class _AsyncStream:
    """Yields cumulative outputs; advances the clock by the scripted gap before each chunk."""

    def __init__(self, llm: FakeLLM, n: int, tokens: int) -> None:
        self.llm, self.n, self.tokens = llm, n, tokens

    def _chunks(self):
        done, step = 0, 0
        per_chunk = self.llm.tokens_per_chunk
        while done < self.tokens:
            gap = self.llm.gaps_ns[min(step, len(self.llm.gaps_ns) - 1)]
            self.llm.clock.now += gap
            done = min(self.tokens, done + per_chunk)
            step += 1
            yield _RequestOutput([_Completion(list(range(done))) for _ in range(self.n)])

    def __aiter__(self):
        async def agen():
            for chunk in self._chunks():
                yield chunk

        return agen()


class _Stream(_AsyncStream):
    """Also iterable synchronously, like tensorrt_llm's GenerationResult."""

    def __iter__(self):
        return self._chunks()


class FakeLLM:
    instances: ClassVar[list[FakeLLM]] = []
    gaps_ns: ClassVar[list[int]] = [50_000_000, 10_000_000]
    tokens_per_chunk = 1
    sync_iteration = True
    clock = FakeClock()

    def __init__(self, model: str, **kwargs: Any) -> None:
        self.model, self.kwargs = model, kwargs
        self.requests: list[tuple[list[int], Any]] = []
        self.closed = False
        FakeLLM.instances.append(self)

    def generate_async(self, prompt: list[int], params: Any, streaming: bool = False
                       ) -> _AsyncStream:
        assert streaming
        self.requests.append((prompt, params))
        cls = _Stream if self.sync_iteration else _AsyncStream
        return cls(self, params.n, params.max_tokens)

    def save(self, path: str) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "rank0.engine").write_bytes(b"\0" * ENGINE_BYTES)

    def shutdown(self) -> None:
        self.closed = True


@dataclass
class FakeSamplingParams:
    max_tokens: int = 32
    ignore_eos: bool = False
    n: int = 1
    end_id: int | None = None
    pad_id: int | None = None


@dataclass
class FakeBuildConfig:
    max_batch_size: int = 8
    max_input_len: int = 1024
    max_seq_len: int | None = None


@dataclass
class FakeQuantConfig:
    quant_algo: Any = None
    kv_cache_quant_algo: Any = None


@dataclass
class FakeCalibConfig:
    calib_dataset: str = "cnn_dailymail"
    calib_batches: int = 512


@dataclass
class FakeKvCacheConfig:
    free_gpu_memory_fraction: float | None = None
    extra: dict = field(default_factory=dict)


class FakeQuantAlgo(enum.StrEnum):
    FP8 = "FP8"
    W8A8_SQ_PER_CHANNEL = "W8A8_SQ_PER_CHANNEL"
    W4A16_AWQ = "W4A16_AWQ"


def install_fake_trtllm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> type[FakeLLM]:
    """Inject ``tensorrt_llm`` and ``tensorrt_llm.llmapi`` fakes; route the clock and cache."""
    trt = types.ModuleType("tensorrt_llm")
    trt.__version__ = "0.0-fake"
    trt.LLM = FakeLLM
    trt.SamplingParams = FakeSamplingParams
    llmapi = types.ModuleType("tensorrt_llm.llmapi")
    llmapi.BuildConfig = FakeBuildConfig
    llmapi.QuantConfig = FakeQuantConfig
    llmapi.QuantAlgo = FakeQuantAlgo
    llmapi.CalibConfig = FakeCalibConfig
    llmapi.KvCacheConfig = FakeKvCacheConfig
    trt.llmapi = llmapi
    monkeypatch.setitem(sys.modules, "tensorrt_llm", trt)
    monkeypatch.setitem(sys.modules, "tensorrt_llm.llmapi", llmapi)
    monkeypatch.setenv("EDGEPROF_CACHE_DIR", str(tmp_path / "cache"))
    clock = FakeClock()
    monkeypatch.setattr(FakeLLM, "clock", clock)
    monkeypatch.setattr(FakeLLM, "instances", [])
    monkeypatch.setattr(FakeLLM, "gaps_ns", [50_000_000, 10_000_000])
    monkeypatch.setattr(FakeLLM, "tokens_per_chunk", 1)
    monkeypatch.setattr(FakeLLM, "sync_iteration", True)
    monkeypatch.setattr("edgeprof.engines._trtllm_engine.time.perf_counter_ns", clock)
    return FakeLLM


@pytest.fixture
def fake(monkeypatch, tmp_path):
    return install_fake_trtllm(monkeypatch, tmp_path)


def make_engine(cc=(8, 9), **kw):
    from edgeprof.engines._trtllm_engine import TrtLlmEngine

    kw.setdefault("max_input_len", 256)
    kw.setdefault("max_seq_len", 512)
    return TrtLlmEngine(device="cuda", compute_capability=cc, **kw)


def test_timings_flow_from_the_stream(fake):
    engine = make_engine()
    engine.load(tiny_arch(), "fp16")
    fake.gaps_ns = [80_000_000, 5_000_000, 7_000_000]
    r = engine.run(32, 4, 1)
    assert r.token_times_s == pytest.approx([0.080, 0.005, 0.007, 0.007])
    assert r.ttft_s == pytest.approx(0.080)
    assert r.decode_s == pytest.approx(0.019)
    assert r.t_end_ns - r.t_start_ns == 99_000_000
    prompt, params = fake.instances[-1].requests[-1]
    assert len(prompt) == 32 and params.max_tokens == 4 and params.ignore_eos and params.n == 1


def test_async_stream_and_parallel_samples(fake):
    engine = make_engine()
    engine.load(tiny_arch(), "fp16")
    fake.sync_iteration = False
    fake.gaps_ns = [30_000_000, 2_000_000]
    r = engine.run(8, 3, 4)
    assert r.token_times_s == pytest.approx([0.030, 0.002, 0.002])
    assert fake.instances[-1].requests[-1][1].n == 4


def test_coalesced_chunks_share_a_stamp(fake):
    engine = make_engine()
    engine.load(tiny_arch(), "fp16")
    fake.tokens_per_chunk = 2
    fake.gaps_ns = [40_000_000, 10_000_000]
    r = engine.run(8, 5, 1)
    assert len(r.token_times_s) == 5
    assert r.token_times_s == pytest.approx([0.040, 0.0, 0.010, 0.0, 0.010])
    assert r.extra["coalesced_tokens"] == 2 and r.extra["stream_chunks"] == 3


@pytest.mark.parametrize(("quant", "algo", "dtype"), [
    ("fp8", "FP8", "float16"), ("int8", "W8A8_SQ_PER_CHANNEL", "float16"),
    ("int4", "W4A16_AWQ", "float16"), ("fp16", None, "float16"), ("bf16", None, "bfloat16"),
])
def test_build_settings_flow_into_the_llm(fake, quant, algo, dtype):
    engine = make_engine(max_batch_size=4, calib_dataset="/data/calib")
    engine.load(tiny_arch(), quant)
    kw = fake.instances[0].kwargs
    assert kw["dtype"] == dtype and kw["skip_tokenizer_init"]
    assert kw["build_config"] == FakeBuildConfig(max_batch_size=4, max_input_len=256,
                                                 max_seq_len=512)
    qc = kw.get("quant_config")
    assert (qc.quant_algo if qc else None) == algo
    if quant == "fp8":
        assert qc.kv_cache_quant_algo == FakeQuantAlgo.FP8
    if algo:
        assert kw["calib_config"].calib_dataset == "/data/calib"
    s = engine.settings()
    assert s["build"]["max_batch_size"] == 4 and s["build"]["quant_algo"] == algo
    assert s["engine"].startswith("built") and engine.loaded_weight_bytes() == ENGINE_BYTES
    meta = json.loads((Path(s["engine_dir"]) / "edgeprof.json").read_text())
    assert meta["build"] == s["build"]
    # the random-weight HF folder the engine was built from
    config = json.loads((Path(kw_model := fake.instances[0].model) / "config.json").read_text())
    assert config["num_hidden_layers"] == 2 and Path(kw_model).glob("*.safetensors")


def test_second_load_reuses_the_saved_engine(fake):
    make_engine().load(tiny_arch(), "int4")
    engine = make_engine()
    engine.load(tiny_arch(), "int4")
    second = fake.instances[-1]
    assert "build_config" not in second.kwargs and second.model == engine.settings()["engine_dir"]
    assert engine.settings()["engine"] == "loaded from cache"


def test_support_by_compute_capability(fake):
    arch = tiny_arch()
    ampere, ada = make_engine(cc=(8, 7)), make_engine(cc=(8, 9))  # Jetson Orin, L4/4090
    assert ampere.support(arch, "fp8").impl == QuantImpl.NONE
    assert "8.9" in ampere.support(arch, "fp8").reason
    assert ada.support(arch, "fp8").impl == QuantImpl.NATIVE
    assert make_engine(cc=(7, 5)).support(arch, "bf16").impl == QuantImpl.NONE
    with pytest.raises(UnsupportedError, match=r"8\.9"):
        ampere.load(arch, "fp8")


def test_limits_of_the_built_engine(fake):
    engine = make_engine(max_batch_size=2)
    engine.load(tiny_arch(), "fp16")
    with pytest.raises(UnsupportedError, match="rebuild"):
        engine.run(8, 4, 3)
    with pytest.raises(UnsupportedError, match="max_seq_len"):
        engine.run(500, 100, 1)


def test_short_stream_is_an_error(fake, monkeypatch):
    engine = make_engine()
    engine.load(tiny_arch(), "fp16")

    def short(self, prompt, params, streaming=False):
        return _Stream(self, params.n, params.max_tokens - 1)

    monkeypatch.setattr(fake, "generate_async", short)
    with pytest.raises(RuntimeError, match="expected 4"):
        engine.run(8, 4, 1)


def test_missing_library_or_gpu_is_one_line(monkeypatch):
    from edgeprof.engines import get_engine
    from edgeprof.engines._trtllm_engine import TrtLlmEngine

    monkeypatch.setitem(sys.modules, "tensorrt_llm", None)
    monkeypatch.setattr(TrtLlmEngine, "is_available", classmethod(lambda cls: False))
    with pytest.raises(MissingDependencyError, match=r"\.\[trtllm\]") as err:
        get_engine("tensorrt-llm", device="cuda")
    assert "\n" not in str(err.value)
    with pytest.raises(MissingDependencyError, match="NVIDIA GPU"):
        get_engine("tensorrt-llm", device="cpu")
    with pytest.raises(UserInputError):
        TrtLlmEngine(device="gpu")


def test_engines_are_cached_per_architecture(fake):
    a = make_engine()
    a.load(resolve_model("qwen2.5-0.5b-scaled-1L").model_copy(update={"vocab": 512}), "fp16")
    b = make_engine()
    b.load(tiny_arch(), "fp16")
    assert a.settings()["engine_dir"] != b.settings()["engine_dir"]
