"""The ONNX Runtime engine on this CPU: the graph is the real architecture, the quant formats
are real kernels, the cache works, the weight bytes add up."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edgeprof.catalog import resolve_model
from edgeprof.engines._conformance import tiny_arch
from edgeprof.engines._onnx_build import LM_HEAD_NODE
from edgeprof.engines._onnx_engine import OnnxEngine
from edgeprof.engines._onnx_quant import Variant, ensure_model, initializer_bytes, weight_breakdown
from edgeprof.engines._random_weights import random_weights
from edgeprof.errors import UnsupportedError, UserInputError
from edgeprof.table._schema import QuantImpl

LLAMA3_ROPE = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx")


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _feeds(arch, ids, past=None, past_len=0):
    b, s = ids.shape
    feeds = {"input_ids": ids, "seqlens_k": np.full(b, past_len + s - 1, np.int32),
             "total_sequence_length": np.array(past_len + s, np.int32)}
    for i in range(arch.layers):
        for kind in ("key", "value"):
            name = f"past_key_values.{i}.{kind}"
            feeds[name] = (past[f"present.{i}.{kind}"] if past else
                           np.zeros((b, arch.kv_heads, 0, arch.head_dim), np.float32))
    return feeds


def _prefill_and_decode(sess, arch, ids, next_ids):
    names = [o.name for o in sess.get_outputs()]
    out = dict(zip(names, sess.run(None, _feeds(arch, ids)), strict=True))
    out2 = dict(zip(names, sess.run(None, _feeds(arch, next_ids, out, ids.shape[1])),
                    strict=True))
    return out["logits"], out2["logits"]


@pytest.mark.parametrize("family", ["qwen2", "llama"])
def test_graph_matches_transformers(cache, family):
    """fp32 logits of prefill and one cached decode step equal transformers' with the same
    weights: the graph is the architecture, rotary (llama3 scaling too) and GQA included."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    arch = tiny_arch(family)
    if family == "llama":
        arch = arch.model_copy(update={"rope_scaling": LLAMA3_ROPE})
    path, _ = ensure_model(arch, Variant("fp32"), root=cache)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, arch.vocab, (2, 11))
    nxt = rng.integers(0, arch.vocab, (2, 1))
    got_prefill, got_decode = _prefill_and_decode(_session(path), arch, ids, nxt)

    config = transformers.AutoConfig.for_model(**arch.hf_config())
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    state = {}
    for name, array in random_weights(arch, np.dtype("float32")):
        t = torch.from_numpy(np.array(array))
        state[name] = t.T.contiguous() if name.endswith("proj.weight") else t
    model.load_state_dict(state, strict=not arch.tied_embeddings)
    if arch.tied_embeddings:
        model.tie_weights()
    with torch.no_grad():
        ref = model(torch.from_numpy(np.concatenate([ids, nxt], axis=1))).logits.numpy()
    np.testing.assert_allclose(got_prefill, ref[:, 10], atol=2e-5)
    np.testing.assert_allclose(got_decode, ref[:, 11], atol=2e-5)


def test_quantized_graphs_use_real_kernels_and_stay_close(cache):
    arch = tiny_arch()
    ops = {}
    logits = {}
    rng = np.random.default_rng(2)
    ids, nxt = rng.integers(0, arch.vocab, (1, 9)), rng.integers(0, arch.vocab, (1, 1))
    for variant in (Variant("fp32"), Variant("int8"), Variant("int4", accuracy_level=4)):
        path, _ = ensure_model(arch, variant, root=cache)
        graph = onnx.load(str(path), load_external_data=False).graph
        ops[variant.quant] = {n.op_type for n in graph.node}
        assert any(n.name == LM_HEAD_NODE and n.op_type == "Gemm" for n in graph.node)
        logits[variant.quant] = _prefill_and_decode(_session(path), arch, ids, nxt)[1]
    assert "MatMulInteger" in ops["int8"] and "DynamicQuantizeLinear" in ops["int8"]
    assert "MatMulNBits" in ops["int4"]
    assert "MatMul" not in ops["int8"] | ops["int4"]  # every projection was rewritten
    for quant in ("int8", "int4"):
        diff = logits[quant] - logits["fp32"]
        assert np.abs(diff).max() > 0, f"{quant} equals fp32: not quantized"
        corr = np.corrcoef(logits[quant].ravel(), logits["fp32"].ravel())[0, 1]
        assert corr > 0.95, f"{quant} logits drifted from fp32 (r={corr:.3f})"


@pytest.mark.parametrize(("block", "lo", "hi"), [(128, 0.25, 0.275), (32, 0.28, 0.30)])
def test_int4_linear_bytes_are_a_quarter_of_fp16(cache, block, lo, hi):
    arch = tiny_arch()
    sizes = {}
    for variant in (Variant("fp16", dtype="float16"),
                    Variant("int4", dtype="float16", block_size=block)):
        path, _ = ensure_model(arch, variant, root=cache)
        sizes[variant.quant] = weight_breakdown(arch, initializer_bytes(path))
    ratio = sizes["int4"]["linear"] / sizes["fp16"]["linear"]
    assert lo < ratio < hi, f"int4/fp16 linear bytes {ratio:.3f}"
    assert sizes["int4"]["other"] == sizes["fp16"]["other"]  # embeddings and norms stay dense


def test_engine_weight_bytes_and_cache(tmp_path):
    arch = tiny_arch()
    engine = OnnxEngine(device="cpu", threads=1, cache_dir=str(tmp_path))
    engine.load(arch, "int4")
    first = engine.settings()
    assert first["export"].startswith("exported") and first["int4_block_size"] == 128
    total = engine.loaded_weight_bytes()
    assert total == first["weight_bytes"]["total"]
    stored = {p.name: p.stat().st_size for p in tmp_path.rglob("model.onnx.data")}
    assert stored and all(total <= s for s in stored.values())  # nothing counted twice
    engine.unload()
    again = OnnxEngine(device="cpu", threads=1, cache_dir=str(tmp_path))
    again.load(arch, "int4")
    assert again.settings()["export"] == "cached"
    assert again.loaded_weight_bytes() == total


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEPROF_CACHE_DIR", str(tmp_path))
    engine = OnnxEngine(device="cpu", threads=1)
    engine.load(tiny_arch(), "fp32")
    assert str(engine.model_path).startswith(str(tmp_path / "onnx"))
    assert engine.model_path.name == "model.onnx" and engine.model_path.parent.name == "fp32"


def test_support_on_cpu_and_missing_gpu():
    arch = tiny_arch()
    cpu = OnnxEngine(device="cpu")
    assert cpu.support(arch, "int8").impl == QuantImpl.NATIVE
    assert cpu.support(arch, "int4").impl == QuantImpl.NATIVE
    assert cpu.support(arch, "fp16").impl == QuantImpl.EMULATED
    assert cpu.support(arch, "fp8").impl == QuantImpl.NONE
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        gpu = OnnxEngine(device="cuda")
        s = gpu.support(arch, "int4")
        assert s.impl == QuantImpl.NONE and "onnxruntime-gpu" in s.reason
        with pytest.raises(UnsupportedError, match="onnxruntime-gpu"):
            gpu.load(arch, "int4")
    with pytest.raises(UserInputError):
        OnnxEngine(device="tpu")
    with pytest.raises(UserInputError):
        OnnxEngine(int4_block_size=48)


def test_unknown_rope_is_unsupported():
    arch = tiny_arch("llama").model_copy(update={"rope_scaling": {"rope_type": "yarn",
                                                                  "factor": 4.0}})
    s = OnnxEngine().support(arch, "fp32")
    assert s.impl == QuantImpl.NONE and "yarn" in s.reason


def test_registered():
    from edgeprof.engines import engine_names, get_engine

    assert "onnxruntime" in engine_names()
    assert isinstance(get_engine("onnxruntime", device="cpu"), OnnxEngine)


@pytest.mark.slow
def test_scaled_qwen_int8_int4_for_real(tmp_path):
    """The acceptance case: qwen2.5-0.5b-scaled-2L at INT8 and INT4 on this CPU."""
    arch = resolve_model("qwen2.5-0.5b-scaled-2L")
    engine = OnnxEngine(device="cpu", cache_dir=str(tmp_path))
    linear = {}
    for quant in ("fp16", "int8", "int4"):
        engine.load(arch, quant)
        linear[quant] = engine.weight_breakdown()["linear"]
        r = engine.run(64, 16, 1)
        assert len(r.token_times_s) == 16 and r.ttft_s > 0 and r.tbt_s > 0
        engine.unload()
    assert 0.24 < linear["int4"] / linear["fp16"] < 0.30
    assert 0.49 < linear["int8"] / linear["fp16"] < 0.52


def test_missing_onnxruntime_is_one_line(monkeypatch):
    from edgeprof.engines import _onnx_engine as onnx_engine
    from edgeprof.errors import MissingDependencyError

    monkeypatch.setattr(onnx_engine, "ort", None)
    with pytest.raises(MissingDependencyError, match=r"pip install -e '\.\[onnx\]'"):
        OnnxEngine(device="cpu")
    assert not OnnxEngine.is_available()
