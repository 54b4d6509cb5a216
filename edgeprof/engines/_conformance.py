"""The conformance suite every engine runs (shipped in the package, like Optuna's).

Each check takes an engine factory (a zero-argument callable returning a fresh engine), a
small architecture and a quant format the engine runs, and raises ``AssertionError`` with a
message saying what broke. Run them all with :func:`run_conformance`, or parametrize a test
over :data:`CHECKS`::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_my_engine(check):
        check(lambda: MyEngine(device="cpu"), tiny_arch(), "fp32")

The checks load once per check; keep the architecture tiny (:func:`tiny_arch`).
"""

from __future__ import annotations

from collections.abc import Callable

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import QUANT_FORMATS
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.errors import EdgeprofError, UnknownQuantError, UnsupportedError, UserInputError
from edgeprof.table._schema import QuantImpl

EngineFactory = Callable[[], Engine]
Check = Callable[[EngineFactory, ArchSpec, str], None]

# (input_tokens, output_tokens, batch): single token, odd lengths, batch > 1
POINTS: tuple[tuple[int, int, int], ...] = ((1, 1, 1), (9, 5, 1), (16, 4, 3), (5, 7, 2))


def tiny_arch(family: str = "qwen2", layers: int = 2) -> ArchSpec:
    """A Qwen2/Llama-shaped architecture small enough for unit tests (widths divisible
    by 128 so every INT4 kernel's groups fit)."""
    llama = family == "llama"
    return ArchSpec(name=f"tiny-{family}", family=family, source="edgeprof.engines._conformance",
                    layers=layers, hidden=128, heads=4, kv_heads=2, head_dim=32, ffn=256,
                    vocab=512, tied_embeddings=not llama, qkv_bias=not llama,
                    rope_theta=500000.0 if llama else 1e6, max_position=1024)


def assert_run_result(r: RunResult, output_tokens: int) -> None:
    """The RunResult contract of :mod:`edgeprof.engines._base`."""
    assert isinstance(r, RunResult), f"run returned {type(r).__name__}, not RunResult"
    assert len(r.token_times_s) == output_tokens, (
        f"{len(r.token_times_s)} token times for {output_tokens} output tokens")
    assert r.t_start_ns < r.t_first_ns <= r.t_end_ns, (
        f"stamps out of order: start {r.t_start_ns}, first {r.t_first_ns}, end {r.t_end_ns}")
    assert r.ttft_s > 0, f"ttft {r.ttft_s} is not positive"
    assert all(t >= 0 for t in r.token_times_s), "a negative token time"
    assert abs(r.token_times_s[0] - r.ttft_s) < 1e-6, "token_times_s[0] is not the TTFT"
    assert abs(sum(r.token_times_s) - r.e2e_s) < 1e-6 * max(1, output_tokens), (
        f"token times sum to {sum(r.token_times_s)} s, e2e is {r.e2e_s} s")
    assert abs(sum(r.token_times_s[1:]) - r.decode_s) < 1e-6 * max(1, output_tokens), (
        "decode_s is not the sum of the decode steps")
    if output_tokens == 1:
        assert r.tbt_s is None and r.decode_s == 0, "one output token has no decode phase"
    assert r.peak_mem_bytes is None or r.peak_mem_bytes > 0, "peak memory 0: use None"


def check_support_answers(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """``support`` answers every catalog format without loading; unknown names raise."""
    engine = factory()
    for name in QUANT_FORMATS:
        s = engine.support(arch, name)
        assert isinstance(s, Support), f"support({name}) returned {type(s).__name__}"
        assert isinstance(s.impl, QuantImpl), f"support({name}).impl is {s.impl!r}"
        if not s.runnable:
            assert s.impl == QuantImpl.NONE and s.reason, (
                f"unsupported {name} needs impl none and a reason, got {s}")
    assert engine.support(arch, quant).runnable, f"the suite's quant {quant} must be runnable"
    assert engine.loaded_weight_bytes() is None, "support() loaded something"
    try:
        engine.support(arch, "int3")
    except UnknownQuantError:
        pass
    else:
        raise AssertionError("support('int3') must raise UnknownQuantError")


def check_unsupported_load_raises(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """Loading a format that ``support`` declines raises ``UnsupportedError``."""
    engine = factory()
    for name in QUANT_FORMATS:
        s = engine.support(arch, name)
        if s.runnable:
            continue
        try:
            engine.load(arch, name)
        except UnsupportedError:
            continue
        raise AssertionError(f"load({name}) succeeded although support said: {s.reason}")


def check_run_before_load(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """``run`` without ``load`` is a clear UserInputError."""
    try:
        factory().run(4, 2, 1)
    except UserInputError:
        return
    raise AssertionError("run() before load() must raise UserInputError")


def check_exact_lengths(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """Every (input, output, batch) point yields exactly ``output`` tokens and the contract."""
    engine = factory()
    engine.load(arch, quant)
    try:
        for input_tokens, output_tokens, batch in POINTS:
            r = engine.run(input_tokens, output_tokens, batch)
            try:
                assert_run_result(r, output_tokens)
            except AssertionError as exc:
                raise AssertionError(f"at {(input_tokens, output_tokens, batch)}: {exc}") from None
    finally:
        engine.unload()


def check_bad_arguments(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """Zero tokens or batch and an over-long context raise EdgeprofErrors, not crashes."""
    engine = factory()
    engine.load(arch, quant)
    try:
        for args in ((0, 4, 1), (4, 0, 1), (4, 4, 0), (arch.max_position, arch.max_position, 1)):
            try:
                engine.run(*args)
            except (UserInputError, UnsupportedError):
                continue
            except EdgeprofError as exc:
                raise AssertionError(f"run{args} raised {type(exc).__name__}") from None
            raise AssertionError(f"run{args} must raise UserInputError or UnsupportedError")
    finally:
        engine.unload()


def check_weight_bytes(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """``loaded_weight_bytes`` is None before load, near the catalog's figure when loaded."""
    engine = factory()
    assert engine.loaded_weight_bytes() is None, "weight bytes before load"
    engine.load(arch, quant)
    try:
        got = engine.loaded_weight_bytes()
        if got is None:
            return  # the engine cannot tell; allowed by the contract
        expect = arch.weight_bytes(quant)
        assert isinstance(got, int) and got > 0, f"loaded_weight_bytes {got!r}"
        # dense tensors may be kept in fp32 where the catalog assumes 16 bits: within 4×
        assert expect / 4 <= got <= expect * 4, (
            f"loaded {got} bytes, catalog expects about {expect} for {quant}")
    finally:
        engine.unload()


def check_unload_releases(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """After ``unload`` the engine holds no model: no weight bytes, ``run`` refuses; it can
    load again."""
    engine = factory()
    engine.load(arch, quant)
    engine.unload()
    assert engine.loaded_weight_bytes() is None, "weight bytes after unload"
    try:
        engine.run(4, 2, 1)
    except UserInputError:
        pass
    else:
        raise AssertionError("run() after unload() must raise UserInputError")
    engine.load(arch, quant)
    assert_run_result(engine.run(4, 2, 1), 2)
    engine.unload()


def check_records(factory: EngineFactory, arch: ArchSpec, quant: str) -> None:
    """``versions`` and ``settings`` are JSON-ready dicts; ``name`` is set."""
    import json

    engine = factory()
    assert isinstance(type(engine).name, str) and type(engine).name, "engine has no name"
    engine.load(arch, quant)
    try:
        for label, value in (("versions", engine.versions()), ("settings", engine.settings())):
            assert isinstance(value, dict), f"{label}() is not a dict"
            json.dumps(value)
        assert engine.versions(), "versions() is empty"
    finally:
        engine.unload()


CHECKS: tuple[Check, ...] = (
    check_support_answers, check_unsupported_load_raises, check_run_before_load,
    check_exact_lengths, check_bad_arguments, check_weight_bytes, check_unload_releases,
    check_records,
)


def run_conformance(factory: EngineFactory, arch: ArchSpec | None = None,
                    quant: str = "fp32") -> list[str]:
    """Run every check; return the names that passed (the first failure raises)."""
    arch = arch or tiny_arch()
    passed = []
    for check in CHECKS:
        check(factory, arch, quant)
        passed.append(check.__name__)
    return passed
