"""Every engine runs the shared conformance suite (edgeprof.engines._conformance).

onnxruntime and torch run for real on this CPU with a tiny architecture; tensorrt-llm runs
against the fake ``tensorrt_llm`` module of test_trtllm_engine.
"""

from __future__ import annotations

import importlib

import pytest

from edgeprof.engines._conformance import CHECKS, tiny_arch

ENGINES = ("onnxruntime", "torch", "tensorrt-llm")


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("onnx-cache"))


@pytest.fixture
def factory(request, monkeypatch, tmp_path, onnx_cache):
    name = request.param
    if name == "onnxruntime":
        pytest.importorskip("onnxruntime")
        from edgeprof.engines._onnx_engine import OnnxEngine

        return lambda: OnnxEngine(device="cpu", threads=1, cache_dir=onnx_cache), "int8"
    if name == "torch":
        try:
            module = importlib.import_module("edgeprof.engines._torch_engine")
        except ImportError as exc:
            pytest.skip(f"torch engine does not import yet: {exc}")
        return lambda: module.TorchEngine(device="cpu", threads=1), "fp32"
    from test_trtllm_engine import install_fake_trtllm, make_engine

    install_fake_trtllm(monkeypatch, tmp_path)
    return make_engine, "int4"


@pytest.mark.parametrize("factory", ENGINES, indirect=True)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_conformance(factory, check):
    make, quant = factory
    check(make, tiny_arch(), quant)


@pytest.mark.parametrize("factory", ["onnxruntime"], indirect=True)
def test_llama_family_runs(factory):
    from edgeprof.engines._conformance import check_exact_lengths

    check_exact_lengths(factory[0], tiny_arch("llama"), "int4")


def test_suite_catches_a_broken_engine(tmp_path):
    """The suite must be able to fail: an engine that drops the last token is caught."""
    from edgeprof.engines._base import RunResult
    from edgeprof.engines._conformance import check_exact_lengths
    from edgeprof.engines._onnx_engine import OnnxEngine

    class Short(OnnxEngine):
        def run(self, input_tokens, output_tokens, batch):
            r = super().run(input_tokens, output_tokens, batch)
            if output_tokens < 3:  # leave the load warm-up alone
                return r
            times = r.token_times_s[:-1]
            return RunResult(times, r.t_start_ns, r.t_first_ns, r.t_end_ns, r.peak_mem_bytes)

    with pytest.raises(AssertionError, match="token times for"):
        check_exact_lengths(lambda: Short(device="cpu", threads=1, cache_dir=str(tmp_path)),
                            tiny_arch(), "fp32")
