"""An in-process fake OpenAI-compatible SSE server with known timing, for tests.

Listens on 127.0.0.1 on a random port. Each streamed request waits ``ttft_s`` before its
first token and then emits one token every ``tpot_s`` on an absolute schedule (no drift).
Configurable: ``n`` support, ``usage`` in the last chunk, a tokenize endpoint in the style of
llama.cpp / vLLM / llama-cpp-python (or none), HTTP errors on demand, early stops (a server
that ignores the forcing switches), and ``slots``: how many requests it serves at once
(others queue, so TTFT grows with concurrency like a real server's).

Its tokenizer counts whitespace-separated words; the chat template adds ``CHAT_OVERHEAD``
tokens and a completion ``BOS`` 1, as real servers' usage.prompt_tokens would.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_OVERHEAD = 3
BOS = 1


@dataclass
class FakeConfig:
    ttft_s: float = 0.15
    tpot_s: float = 0.03
    supports_n: bool = True
    usage: bool = True
    tokenize: str | None = "llama.cpp"  # llama.cpp | vllm | extras | None
    fail_status: int | None = None  # answer every completion with this HTTP status
    stop_after: int | None = None  # stop early (ignores ignore_eos/min_tokens)
    slots: int = 64  # requests served at once; the rest wait for a slot
    model: str = "fake-model"
    max_model_len: int | None = None  # reported in /v1/models, as vLLM does
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)  # Authorization header per request


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def _json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        cfg = self.server.cfg
        if self.path == "/v1/models":
            entry: dict[str, Any] = {"id": cfg.model, "object": "model"}
            if cfg.max_model_len is not None:
                entry["max_model_len"] = cfg.max_model_len
            self._json(200, {"object": "list", "data": [entry]})
        elif self.path == "/props" and cfg.tokenize == "llama.cpp":
            self._json(200, {"total_slots": cfg.slots, "build_info": "fake"})
        elif self.path == "/version" and cfg.tokenize == "vllm":
            self._json(200, {"version": "0.0.fake"})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        cfg = self.server.cfg
        body = self._body()
        style = {"/tokenize": ("llama.cpp", "vllm"), "/extras/tokenize": ("extras",)}
        if self.path in style:
            if cfg.tokenize not in style[self.path]:
                self._json(404, {"error": {"message": "no tokenizer"}})
                return
            text = body.get({"llama.cpp": "content", "vllm": "prompt",
                             "extras": "input"}[cfg.tokenize])
            tokens = list(range(len(str(text or "").split())))
            self._json(200, {"tokens": tokens, "count": len(tokens)} if cfg.tokenize == "vllm"
                       else {"tokens": tokens})
            return
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        cfg.requests.append(body)
        cfg.auth.append(self.headers.get("Authorization"))
        if cfg.fail_status:
            self._json(cfg.fail_status, {"error": {"message": "failing on purpose"}})
            return
        n = int(body.get("n") or 1)
        if n > 1 and not cfg.supports_n:
            self._json(400, {"error": {"message": "n > 1 is not supported"}})
            return
        chat = self.path.endswith("chat/completions")
        with self.server.slots:
            self._stream(body, n, chat)

    def _stream(self, body: dict[str, Any], n: int, chat: bool) -> None:
        cfg = self.server.cfg
        t0 = time.perf_counter()
        want = int(body.get("max_tokens") or 16)
        count = want if cfg.stop_after is None else min(want, cfg.stop_after)
        text = (body["messages"][-1]["content"] if chat else body.get("prompt", ""))
        prompt_tokens = len(str(text).split()) + (CHAT_OVERHEAD if chat else BOS)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for k in range(count):
            if _sleep_until(t0 + cfg.ttft_s + k * cfg.tpot_s, self.server.stopping):
                return  # the server is shutting down
            for i in range(n):
                last = "length" if count == want else "stop"
                piece = {"index": i, "finish_reason": last if k == count - 1 else None}
                piece.update({"delta": {"content": f" t{k}"}} if chat else {"text": f" t{k}"})
                self._event({"id": "x", "object": "chunk", "model": cfg.model,
                             "choices": [piece]})
        if cfg.usage and (body.get("stream_options") or {}).get("include_usage"):
            self._event({"id": "x", "choices": [], "usage": {
                "prompt_tokens": prompt_tokens, "completion_tokens": count * n,
                "total_tokens": prompt_tokens + count * n}})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, obj: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
        self.wfile.flush()


def _sleep_until(t: float, stop: threading.Event) -> bool:
    """Sleep until perf_counter() reaches ``t``; True if ``stop`` was set meanwhile."""
    delay = t - time.perf_counter()
    return stop.wait(delay) if delay > 0 else stop.is_set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cfg: FakeConfig) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cfg = cfg
        self.slots = threading.BoundedSemaphore(cfg.slots)
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hung up (timeout tests) is not the test's failure


def _serve(cfg: FakeConfig, port_q: Any, stop: Any) -> None:
    """Child-process body: serve until ``stop`` is set."""
    server = _Server(cfg)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    port_q.put(server.server_address[1])
    stop.wait(600)  # bounded: a forgotten server ends by itself
    server.stopping.set()
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def fake_openai_server(cfg: FakeConfig | None = None, *, process: bool = False,
                       **kw: Any) -> Iterator[tuple[str, FakeConfig]]:
    """Run the fake server; yields (``http://127.0.0.1:PORT/v1``, its config).

    In a thread of this process by default (the config then records requests); with
    ``process=True`` in a child process — an independent server that shares no interpreter
    lock with the client, for timing checks (its ``requests`` stay in the child).
    """
    cfg = cfg or FakeConfig(**kw)
    if process:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        port_q, stop = ctx.Queue(), ctx.Event()
        child = ctx.Process(target=_serve, args=(cfg, port_q, stop), daemon=True)
        child.start()
        try:
            port = port_q.get(timeout=30)
            yield f"http://127.0.0.1:{port}/v1", cfg
        finally:
            stop.set()
            child.join(timeout=10)
            if child.is_alive():
                child.terminate()
        return
    server = _Server(cfg)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", cfg
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
