"""The llama.cpp engine for real: edgeprof's GGUF writer, llama-cpp-python loading it, the
conformance suite, and a short ``edgeprof sweep --engine llama.cpp``."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (.[llamacpp])")
gguf = pytest.importorskip("gguf", reason="gguf is not installed (.[llamacpp])")

from edgeprof.catalog._architectures import resolve_model  # noqa: E402
from edgeprof.engines._conformance import CHECKS, check_exact_lengths, tiny_arch  # noqa: E402
from edgeprof.engines._gguf_build import (  # noqa: E402
    ensure_gguf,
    gguf_type,
    support_problem,
    tensor_types,
)
from edgeprof.engines._llamacpp_engine import LlamaCppEngine  # noqa: E402
from edgeprof.errors import UnknownQuantError, UserInputError  # noqa: E402
from edgeprof.table._schema import QuantImpl  # noqa: E402

LINEAR = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
BLOCK_BYTES = {"Q8_0": 34, "Q4_0": 18}  # per 32 weights: fp16 scale + 32 int8 / 16 bytes


@pytest.fixture(scope="module")
def gguf_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gguf")


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("quant,qtype", [("int8", "Q8_0"), ("int4", "Q4_0")])
def test_linear_tensors_really_are_the_gguf_type(gguf_root, quant, qtype):
    arch = tiny_arch()
    info = ensure_gguf(arch, quant, root=gguf_root)
    types = tensor_types(info.path)
    linears = {n: t for n, t in types.items()
               if n.endswith(".weight") and n.split(".")[-2] in LINEAR}
    assert len(linears) == 7 * arch.layers
    assert set(linears.values()) == {qtype}
    assert types["token_embd.weight"] == "F16" and types["blk.0.attn_norm.weight"] == "F32"
    reader = gguf.GGUFReader(str(info.path))
    q = next(t for t in reader.tensors if t.name == "blk.0.ffn_up.weight")
    assert list(q.shape) == [arch.hidden, arch.ffn]  # ne = [in, out]
    assert q.n_bytes == arch.hidden * arch.ffn // 32 * BLOCK_BYTES[qtype]
    values = gguf.quants.dequantize(q.data, gguf.GGMLQuantizationType[qtype])
    assert values.shape == (arch.ffn, arch.hidden)
    assert 0.01 < float(np.std(values)) < 0.04  # the writer's N(0, 0.02), quantized
    assert len(np.unique(values[0, :32])) <= (256 if qtype == "Q8_0" else 16)


def test_written_once_deterministic_and_content_addressed(tmp_path):
    arch = tiny_arch("llama")
    first = ensure_gguf(arch, "Q4_0", root=tmp_path / "a")
    mtime = first.path.stat().st_mtime_ns
    again = ensure_gguf(arch, "int4", root=tmp_path / "a")
    assert not first.cached and again.cached and again.path == first.path
    assert again.path.stat().st_mtime_ns == mtime
    other = ensure_gguf(arch, "int4", root=tmp_path / "b")
    assert _digest(other.path) == _digest(first.path)  # same seed, same bytes
    reseeded = ensure_gguf(arch, "int4", seed=1, root=tmp_path / "a")
    assert reseeded.path != first.path and _digest(reseeded.path) != _digest(first.path)


def test_quant_names_and_unsupported_architectures():
    assert [gguf_type(q) for q in ("fp32", "fp16", "bf16", "int8", "int4", "q4_0")] == [
        "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_0"]
    with pytest.raises(UnknownQuantError):
        gguf_type("int3")
    assert "phi3" in support_problem(resolve_model("phi-4-mini"), "int4")
    engine = LlamaCppEngine(threads=1)
    fp8 = engine.support(tiny_arch(), "fp8")
    assert fp8.impl == QuantImpl.NONE and "fp8" in fp8.reason
    assert "Q4_0" in engine.support(tiny_arch(), "int4").reason
    with pytest.raises(UserInputError, match="n_gpu_layers"):
        LlamaCppEngine(n_gpu_layers=-2)
    with pytest.raises(UserInputError, match="device"):
        LlamaCppEngine(device="tpu")


def test_catalog_model_loads_with_its_vocab_and_tokenizes():
    import llama_cpp

    arch = resolve_model("qwen2.5-0.5b-scaled-2L")
    path = ensure_gguf(arch, "int4").path  # edgeprof's GGUF cache, shared with the sweep
    llm = llama_cpp.Llama(str(path), n_ctx=64, n_threads=1, verbose=False, vocab_only=True)
    assert llm.n_vocab() == arch.vocab == 151936
    text = b"edgeprof measures llama.cpp"
    tokens = llm.tokenize(text, add_bos=False)
    assert 3 < len(tokens) < len(text) and all(0 <= t < arch.vocab for t in tokens)
    assert llm.detokenize(tokens).lstrip() == text  # SentencePiece adds a leading space


@pytest.fixture(scope="module")
def engine_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("llamacpp-cache"))


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_conformance(check, engine_cache):
    check(lambda: LlamaCppEngine(threads=1, cache_dir=engine_cache), tiny_arch(), "int4")


@pytest.mark.parametrize("family,quant", [("llama", "int8"), ("qwen2", "fp16")])
def test_exact_lengths_other_family_and_types(family, quant, engine_cache):
    check_exact_lengths(lambda: LlamaCppEngine(threads=1, cache_dir=engine_cache),
                        tiny_arch(family), quant)


@pytest.mark.slow
def test_sweep_writes_ok_rows_with_exact_lengths(run_cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("engine_options: {threads: 2, n_gpu_layers: 0}\n")
    out = tmp_path / "run"
    code, _, err = run_cli("sweep", "--spec", str(spec), "--engine", "llama.cpp", "--models",
                           "qwen2.5-0.5b-scaled-2L", "--quants", "int8,int4", "--inputs", "16",
                           "--outputs", "6", "--batches", "1,2", "--repeats", "2", "--warmup",
                           "1", "--idle-baseline", "0", "--out", str(out))
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "measurements.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * 2 * 2
    for row in rows:
        assert row["status"] == "ok", row.get("error")
        assert row["engine"] == "llama.cpp" and row["quant_impl"] == "native"
        assert len(row["token_times_s"]) == row["output_tokens"] == 6
        assert row["ttft_s"] > 0 and row["tbt_s"] > 0 and row["peak_mem_bytes"] > 0
        want = {"int8": "Q8_0", "int4": "Q4_0"}[row["quant"]]
        assert row["engine_extra"]["gguf_type"] == want
    run = json.loads((out / "run.json").read_text())
    text = json.dumps(run)
    assert "llama_cpp_python" in text and '"n_gpu_layers": 0' in text


def test_bad_engine_option_is_one_line(run_cli, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text("engine_options: {n_gpu_layers: all}\n")
    code, _, err = run_cli("sweep", "--spec", str(spec), "--engine", "llama.cpp", "--models",
                           "qwen2.5-0.5b-scaled-2L", "--quants", "int4", "--inputs", "8",
                           "--outputs", "2", "--out", str(tmp_path / "run"))
    assert code != 0 and "n_gpu_layers" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "measurements.jsonl").exists()


def test_server_helper_serves_the_gguf_and_always_stops_it():
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    import llama_server

    gguf_path = llama_server.random_gguf(Path("."), "qwen2.5-0.5b-scaled-2L", "Q4_0")
    assert gguf_path.name.startswith("qwen2.5-0.5b-scaled-2L-Q4_0-")
    with pytest.raises(RuntimeError, match="inside"), \
            llama_server.running_llama_server(gguf_path, n_ctx=256, timeout_s=60) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        with urllib.request.urlopen(url + "/models", timeout=5) as resp:
            assert gguf_path.name in resp.read().decode()
        raise RuntimeError("inside")  # the server must still be stopped
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/models", timeout=2)
