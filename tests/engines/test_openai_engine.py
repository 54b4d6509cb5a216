"""``--engine openai`` against the fake SSE server of known timing (tests/fake_openai_server)."""

from __future__ import annotations

import json
import socket
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from fake_openai_server import CHAT_OVERHEAD, FakeConfig, fake_openai_server

from edgeprof.catalog import resolve_model
from edgeprof.engines._base import get_engine
from edgeprof.engines._conformance import CHECKS, tiny_arch
from edgeprof.engines._openai_engine import ShortAnswer

MODEL = "qwen2.5-0.5b"
TTFT, TPOT = 0.2, 0.03  # long enough that a busy 2-core CI box stays inside 15 %


def _rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "measurements.jsonl").read_text().splitlines()]


def _sweep(run_cli, url: str, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli("sweep", "--engine", "openai", "--url", url, "--models", MODEL, "--quants",
                   "int4", "--idle-baseline", "0", "--out", str(out), *extra)


def _close(measured: float, truth: float, tol: float = 0.15) -> bool:
    return abs(measured - truth) <= tol * truth


@pytest.mark.parametrize("supports_n", [True, False])
def test_sweep_matches_server_timing(run_cli, tmp_path, supports_n):
    """The issue's command: every row ok, TTFT and TBT within 15 % of the server's timing
    (TTFT 25 % for N separate concurrent requests on this 2-core machine)."""
    with fake_openai_server(ttft_s=TTFT, tpot_s=TPOT, supports_n=supports_n,
                            process=True) as (url, _):  # an independent server process
        code, _, err = _sweep(run_cli, url, tmp_path, "--inputs", "64,256", "--outputs", "24",
                              "--batches", "1,4", "--repeats", "2", "--warmup", "1")
    assert code == 0, err
    rows = _rows(tmp_path)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"ok"}
    for r in rows:
        where = (r["input_tokens"], r["batch"], r["repeat"])
        # N concurrent requests on a 2-core machine that also runs the server: the last one's
        # first token can slip by a scheduling quantum (a clean-clone run here saw +15.4 %
        # once, with a benchmark running beside it); benchmarks/openai_fidelity.py measures
        # the real error (median 1.8 % at N = 4).
        tol = 0.15 if r["batch"] == 1 or supports_n else 0.25
        assert _close(r["ttft_s"], TTFT, tol), (where, r["ttft_s"])
        assert _close(r["tbt_s"], TPOT), (where, r["tbt_s"])
        assert _close(r["decode_s"], 23 * TPOT), r["decode_s"]
        assert len(r["token_times_s"]) == 24
        assert r["peak_mem_bytes"] is None  # the client's RSS is not the server's memory
        ex = r["engine_extra"]
        assert ex["token_count_method"] == "usage" and ex["completion_tokens"] == 24 * r["batch"]
        assert ex["prompt_method"] == "tokenizer:tokenize"
        want = "single" if r["batch"] == 1 else ("n" if supports_n else "requests")
        assert ex["parallel"] == want
    # the warm-up calibrated the chat template: prompts have the length asked
    assert all(r["engine_extra"]["prompt_tokens"] == r["input_tokens"] for r in rows)
    run = json.loads((tmp_path / "run.json").read_text())
    server = run["engine_settings"]["server"]
    assert server["served_model"] == "fake-model" and "props" in server
    assert run["engine_settings"]["prompt_overhead_tokens"] == CHAT_OVERHEAD
    # fit and predict treat the rows like any others
    code, out, err = run_cli("fit", str(tmp_path), "--out", str(tmp_path / "p.yaml"), "--json")
    assert code == 0, err
    code, out, err = run_cli("predict", "--profile", str(tmp_path / "p.yaml"), "--model", MODEL,
                             "--quant", "int4", "--input-tokens", "128", "--output-tokens", "24",
                             "--json")
    assert code == 0, err
    pred = json.loads(out)
    ttft = pred["ttft_s"]["value"] if isinstance(pred["ttft_s"], dict) else pred["ttft_s"]
    assert _close(ttft, TTFT, 0.3)


def test_requests_force_length_and_ask_for_usage():
    with fake_openai_server(ttft_s=0.01, tpot_s=0.002) as (url, cfg):
        eng = get_engine("openai", url=url)
        eng.load(resolve_model(MODEL), "int4")
        eng.run(16, 5, 2)
    assert cfg.requests and all(b["ignore_eos"] and b["min_tokens"] == b["max_tokens"] == 5
                                and b["temperature"] == 0 for b in cfg.requests)
    assert all(b["stream_options"] == {"include_usage": True} and b["stream"]
               for b in cfg.requests)
    assert cfg.requests[-1]["n"] == 2


@pytest.mark.parametrize("tokenize", ["vllm", "extras", None])
def test_completions_without_usage(tokenize):
    """No usage: the count is the chunks, or max_tokens when finish_reason says length."""
    cfg = FakeConfig(ttft_s=0.05, tpot_s=0.01, usage=False, tokenize=tokenize)
    with fake_openai_server(cfg) as (url, _):
        eng = get_engine("openai", url=url, endpoint="completions")
        eng.load(resolve_model(MODEL), "int4")
        res = eng.run(40, 6, 1)
        cfg.stop_after = 4  # stops early ("stop"): counted chunks say so
        with pytest.raises(ShortAnswer, match=r"produced 4 \(chunks\)"):
            eng.run(40, 6, 1)
    assert res.extra["token_count_method"] == "finish_reason:length"
    assert res.extra["completion_tokens"] == 6 and res.extra["chunks_per_seq"] == [6]
    if tokenize is None:
        assert res.extra["prompt_method"] == "approx:1-token-per-word"
        assert "prompt-length-approx" in res.extra["flags"]
        assert len(cfg.requests[-1]["prompt"].split()) == 40
    else:
        assert res.extra["prompt_method"].startswith("tokenizer:")
        assert len(cfg.requests[-1]["prompt"].split()) == 40
    assert _close(res.ttft_s, 0.05, 0.3) and _close(statistics.median(res.token_times_s[1:]),
                                                    0.01, 0.3)


def test_short_answer_is_an_error_row_never_averaged(run_cli, tmp_path):
    with fake_openai_server(ttft_s=0.02, tpot_s=0.005, stop_after=10) as (url, _):
        code, _, err = _sweep(run_cli, url, tmp_path, "--inputs", "16", "--outputs", "24",
                              "--repeats", "2", "--warmup", "0")
        eng = get_engine("openai", url=url)
        eng.load(resolve_model(MODEL), "int4")
        with pytest.raises(ShortAnswer, match="produced 10"):
            eng.run(16, 24, 1)
    assert code == 0, err
    rows = _rows(tmp_path)
    assert [r["status"] for r in rows] == ["error", "error"]
    assert all("asked 1×24 tokens" in r["error"] and "produced 10" in r["error"] for r in rows)
    assert all(r["ttft_s"] is None for r in rows)


def test_http_errors_refusals_and_timeouts_become_rows(run_cli, tmp_path):
    with fake_openai_server(fail_status=503) as (url, _):
        code, _, err = _sweep(run_cli, url, tmp_path / "a", "--inputs", "8", "--outputs", "4",
                              "--repeats", "2", "--warmup", "0")
    assert code == 0, err
    rows = _rows(tmp_path / "a")
    assert len(rows) == 2 and all(r["status"] == "error" and "HTTP 503" in r["error"]
                                  and "failing on purpose" in r["error"] for r in rows)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = _sweep(run_cli, f"http://127.0.0.1:{port}/v1", tmp_path / "b", "--inputs",
                          "8", "--outputs", "4", "--repeats", "2")
    assert code == 0, err
    rows = _rows(tmp_path / "b")
    assert len(rows) == 2 and all("connection refused" in r["error"] for r in rows)
    with fake_openai_server(ttft_s=3.0, tpot_s=0.01) as (url, _):
        code, _, err = _sweep(run_cli, url, tmp_path / "c", "--inputs", "8", "--outputs", "4",
                              "--repeats", "1", "--warmup", "0", "--request-timeout", "300ms")
    assert code == 0, err
    (row,) = _rows(tmp_path / "c")
    assert row["status"] == "error" and "timed out" in row["error"]


def test_api_key_from_env(run_cli, tmp_path, monkeypatch):
    code, _, err = run_cli("sweep", "--engine", "openai", "--url", "http://127.0.0.1:9/v1",
                           "--models", MODEL, "--quants", "int4",
                           "--api-key-env", "EDGEPROF_TEST_NO_SUCH_KEY",
                           "--out", str(tmp_path / "x"))
    assert code == 2 and err.startswith("Error: --api-key-env EDGEPROF_TEST_NO_SUCH_KEY")
    monkeypatch.setenv("EDGEPROF_TEST_KEY", "sekrit")
    with fake_openai_server(ttft_s=0.01, tpot_s=0.002) as (url, cfg):
        code, _, err = _sweep(run_cli, url, tmp_path / "y", "--inputs", "8", "--outputs", "4",
                              "--repeats", "1", "--api-key-env", "EDGEPROF_TEST_KEY",
                              "--request-extra", '{"debug_config": {"ignore_eos": true}}')
    assert code == 0, err
    assert cfg.auth and set(cfg.auth) == {"Bearer sekrit"}
    assert all(b["debug_config"] == {"ignore_eos": True} for b in cfg.requests)


def test_quants_must_be_declared(run_cli, tmp_path):
    code, _, err = run_cli("sweep", "--engine", "openai", "--url", "http://127.0.0.1:9/v1",
                           "--models", MODEL, "--out", str(tmp_path))
    assert code == 2 and "pass --quants" in err


@pytest.mark.parametrize("args,needle", [
    (("--url", "ftp://x"), "--url 'ftp://x' must look like"),
    (("--url", "http://127.0.0.1:9/v1", "--endpoint", "embeddings"), "--endpoint must be"),
    ((), "needs --url"),
    (("--url", "http://127.0.0.1:9/v1", "--request-extra", "[1]"), "must be a JSON object"),
])
def test_bad_flags_are_one_line(run_cli, tmp_path, args, needle):
    code, _, err = run_cli("sweep", "--engine", "openai", "--models", MODEL, "--quants",
                           "int4", "--out", str(tmp_path), *args)
    assert code == 2 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def fake_url():
    with fake_openai_server(ttft_s=0.003, tpot_s=0.001) as (url, _):
        yield url


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_conformance(check, fake_url):
    """The suite every engine runs (edgeprof.engines._conformance), against the fake."""
    check(lambda: get_engine("openai", url=fake_url), tiny_arch(), "int4")


def test_the_servers_reported_context_bounds_a_run():
    from edgeprof.errors import ContextLengthError

    with fake_openai_server(ttft_s=0.01, tpot_s=0.002, max_model_len=64) as (url, cfg):
        eng = get_engine("openai", url=url)
        eng.load(resolve_model(MODEL), "int4")
        assert eng.context_limit() == (64, "the server's context length (max_model_len of "
                                           "fake-model)")
        with pytest.raises(ContextLengthError) as exc:
            eng.run(60, 10, 1)
        assert str(exc.value).startswith(
            "--inputs 60 + --outputs 10 = 70 tokens exceeds the server's context length "
            "(max_model_len of fake-model) of 64; lower --outputs to at most 4")
        assert not cfg.requests  # refused before sending
        eng.run(16, 4, 1)
    assert len(cfg.requests) >= 1


def test_request_json_failures_are_one_line_server_errors():
    """Refused, non-JSON and timed-out requests each become one ServerError line."""
    import http.server
    import threading
    import time

    from edgeprof.engines._openai_client import OpenAIClient, ServerError

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.endswith("/slow"):
                time.sleep(1.0)
            body = b"<html>not json</html>"
            try:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout case)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = OpenAIClient(f"http://127.0.0.1:{server.server_port}/v1",
                              connect_timeout_s=0.2)
        with pytest.raises(ServerError, match="answered with something that is not JSON"):
            client.request_json("GET", "/v1/models")
        with pytest.raises(ServerError, match=r"timed out after 0.2s waiting for http://"):
            client.request_json("GET", "/slow")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ServerError, match=r"connection refused at http://127\.0\.0\.1"):
        client.request_json("GET", "/v1/models")
