"""End to end with a real server: llama-cpp-python's ``python -m llama_cpp.server`` on
127.0.0.1 over a random-weight Q4_0 GGUF (tests/llama_server.py), swept with
``--engine openai`` and loaded with ``edgeprof load``. Shapes are smaller than the issue's
(--inputs 64,256 --outputs 24 --batches 1,4): on the 2-core CI VM those took > 2 min."""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
llama_server = pytest.importorskip("llama_server", reason="tests/llama_server.py is missing")

pytestmark = pytest.mark.slow

MODEL = "qwen2.5-0.5b-scaled-2L"


def _v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


# llama.cpp's CPU "extra buffers" (repacked / AMX weight layouts) segfault in llama_decode
# on this project's AMX-capable CI VM with Q4_0 and Q8_0 GGUFs (F16 runs); llama-cpp-python's
# server has no switch for ``use_extra_bufts``, so the server process gets it turned off by
# a sitecustomize on its PYTHONPATH. The kernels are then llama.cpp's plain Q4_0 CPU path.
NO_EXTRA_BUFTS = """
try:
    import llama_cpp.llama_cpp as _l

    _default = _l.llama_model_default_params

    def _params():
        p = _default()
        p.use_extra_bufts = False
        return p

    _l.llama_model_default_params = _params
except Exception:
    pass
"""


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gguf = llama_server.random_gguf(tmp_path_factory.mktemp("gguf"), MODEL, "Q4_0")
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(NO_EXTRA_BUFTS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(
            p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p))
        with llama_server.running_llama_server(gguf) as url:
            yield _v1(str(url))


def test_sweep_llama_cpp_python_server(run_cli, tmp_path, server_url):
    code, _, err = run_cli("sweep", "--engine", "openai", "--url", server_url, "--endpoint",
                           "completions", "--models", MODEL, "--quants", "int4", "--inputs",
                           "16,64", "--outputs", "8", "--batches", "1,2", "--repeats", "2",
                           "--warmup", "1", "--idle-baseline", "0", "--out", str(tmp_path))
    assert code == 0, err
    rows = [json.loads(x) for x in (tmp_path / "measurements.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    assert [r["error"] for r in rows if r["status"] != "ok"] == []
    for r in rows:
        ex = r["engine_extra"]
        assert r["ttft_s"] > 0 and r["decode_s"] > 0 and r["tbt_s"] > 0
        assert ex["completion_tokens"] == 8 * r["batch"]
        assert ex["prompt_method"] == "tokenizer:extras/tokenize"  # llama-cpp-python's
        # llama-cpp-python ignores n: a batch is concurrent requests
        assert ex["parallel"] == ("single" if r["batch"] == 1 else "requests")
    ttft = {i: statistics.median(r["ttft_s"] for r in rows
                                 if r["input_tokens"] == i and r["batch"] == 1)
            for i in (16, 64)}
    assert ttft[64] > ttft[16], ttft  # a longer prompt takes longer to prefill
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["engine_settings"]["server"]["models"]["data"]
    code, _, err = run_cli("fit", str(tmp_path), "--out", str(tmp_path / "p.yaml"))
    assert code == 0, err


def test_load_ttft_grows_with_concurrency(run_cli, server_url):
    code, out, err = run_cli("load", "--url", server_url, "--endpoint", "completions",
                             "--model", MODEL, "--quant", "int4", "--concurrency", "1,2,4",
                             "--requests", "4", "--input-tokens", "32", "--output-tokens",
                             "8", "--json")
    assert code == 0, err
    levels = json.loads(out)["levels"]
    assert all(lv["ok"] == lv["requests"] == 4 for lv in levels), levels
    p50 = [lv["ttft_s"]["p50"] for lv in levels]
    assert p50[0] < p50[1] < p50[2], p50
