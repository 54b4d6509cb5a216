"""A small streaming client for OpenAI-compatible servers (stdlib only, bounded everywhere).

Used by the ``openai`` engine (one request = one sweep point) and by ``edgeprof load`` (many
requests at once). Each request is streamed (SSE); the client stamps, with
``time.perf_counter_ns``, the moment the request is sent and the arrival of every chunk that
carries content, per choice index. Every read has a socket timeout and every stream an
overall deadline, so no loop can wait forever.

Endpoints probed (whatever answers is recorded): ``/v1/models``; llama.cpp's ``/props``,
``/health``; vLLM's ``/version``; tokenizers at ``/tokenize`` (llama.cpp: ``{"content"}``,
vLLM: ``{"model", "prompt"}``), ``/extras/tokenize`` (llama-cpp-python: ``{"input"}``) and
``/_internal/tokenize`` (trtllm-serve: ``{"model", "prompt"}``).
"""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from edgeprof.errors import UserInputError

# One word that is a single token in the GPT-2, Llama and Qwen BPE vocabularies (with its
# leading space): the approximation used when a server has no tokenize endpoint.
APPROX_WORD = " hello"
PROMPT_WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
                "seven", "small", "birds", "sing", "about", "rivers", "mountains", "and",
                "cities", "far", "away", "in", "time")
MAX_PROMPT_ITER = 24  # tokenize calls per prompt length, at most


class ServerError(Exception):
    """A request the server refused, failed or never answered (one line, becomes a row)."""


@dataclass
class StreamResult:
    """What one streamed request produced. Stamps are ``perf_counter_ns``."""

    t_send_ns: int
    t_done_ns: int
    arrivals: dict[int, list[int]] = field(default_factory=dict)  # choice index -> stamps
    text_chars: dict[int, int] = field(default_factory=dict)
    finish_reasons: dict[int, str | None] = field(default_factory=dict)
    usage: dict[str, Any] | None = None

    @property
    def choices(self) -> int:
        return len(self.arrivals)


def _ns() -> int:
    return time.perf_counter_ns()


class OpenAIClient:
    """One server: ``base_url`` ends in ``/v1`` (the OpenAI convention) or is the host root."""

    def __init__(self, base_url: str, *, api_key: str | None = None,
                 endpoint: str = "chat", model: str | None = None,
                 timeout_s: float = 60.0, connect_timeout_s: float = 10.0) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserInputError(f"--url {base_url!r} must look like http://HOST:PORT/v1.")
        if endpoint not in ("chat", "completions"):
            raise UserInputError(f"--endpoint must be chat or completions, got {endpoint!r}.")
        if timeout_s <= 0:
            raise UserInputError(f"The request timeout must be > 0 s, got {timeout_s}.")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path.rstrip("/")
        self.v1 = path if path.endswith("/v1") else f"{path}/v1"
        self.root = self.v1[: -len("/v1")]
        self.url = base_url
        self.api_key = api_key
        self.endpoint = endpoint
        self.model = model
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.tokenizer: str | None = None  # which tokenize endpoint answered, once probed

    # ------------------------------------------------------------------ plumbing
    def _conn(self, timeout: float) -> http.client.HTTPConnection:
        cls = (http.client.HTTPSConnection if self.scheme == "https"
               else http.client.HTTPConnection)
        return cls(self.host, self.port, timeout=timeout)

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def _where(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def request_json(self, method: str, path: str, body: dict | None = None,
                     timeout: float | None = None) -> Any:
        """One JSON request; ServerError (one line) on refusal, timeout or HTTP ≥ 400."""
        wait = timeout or self.connect_timeout_s
        with self._connection(path, wait, f"timed out after {wait:g}s waiting for "
                              f"{self._where(path)}") as conn:
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers=self._headers())
            resp = conn.getresponse()
            data = resp.read(4 << 20)
            if resp.status >= 400:
                raise ServerError(f"HTTP {resp.status} from {path}: {_reason(data)}")
            try:
                return json.loads(data or b"null")
            except json.JSONDecodeError:
                raise ServerError(f"{path} answered with something that is not JSON") from None

    @contextmanager
    def _connection(self, path: str, timeout: float,
                    timed_out: str) -> Iterator[http.client.HTTPConnection]:
        """A connection that is always closed, with every transport failure turned into one
        ServerError line (``timed_out`` is the message for a socket timeout)."""
        conn = self._conn(timeout)
        try:
            yield conn
        except TimeoutError:
            raise ServerError(timed_out) from None
        except ConnectionRefusedError:
            raise ServerError(f"connection refused at {self._where(path)}; is the server "
                              "running?") from None
        except (OSError, http.client.HTTPException) as exc:
            raise ServerError(f"{type(exc).__name__} talking to {self._where(path)}: "
                              f"{exc}") from None
        finally:
            conn.close()

    def _try(self, path: str, body: dict | None = None) -> Any:
        try:
            return self.request_json("POST" if body is not None else "GET", path, body)
        except ServerError:
            return None

    # ------------------------------------------------------------------ identity
    def identity(self) -> dict[str, Any]:
        """What the server says it is: /v1/models, /props (llama.cpp), /version (vLLM)."""
        models = self.request_json("GET", f"{self.v1}/models")  # must answer: it is OpenAI
        ident: dict[str, Any] = {"url": self.url, "models": models}
        raw: dict[str, Any] = {}
        for key, path in (("props", f"{self.root}/props"), ("version", f"{self.root}/version")):
            value = self._try(path)
            if value is not None:
                raw[key], ident[key] = value, _trim(value)
        ids = [m.get("id") for m in (models or {}).get("data", []) if isinstance(m, dict)]
        if self.model is None and ids:
            self.model = str(ids[0])
        ident["served_model"] = self.model
        context = server_context(models, raw.get("props"), self.model)
        if context is not None:
            ident["context"] = {"tokens": context[0], "source": context[1]}
        return ident

    # ------------------------------------------------------------------ tokenizing
    def count_tokens(self, text: str) -> int | None:
        """Tokens of ``text`` by the server's tokenizer (no special tokens), or None."""
        tries = {
            "tokenize": (f"{self.root}/tokenize", {"content": text, "prompt": text,
                                                   "model": self.model or "",
                                                   "add_special": False,
                                                   "add_special_tokens": False}),
            "extras/tokenize": (f"{self.root}/extras/tokenize", {"input": text}),
            "_internal/tokenize": (f"{self.root}/_internal/tokenize",  # trtllm-serve
                                   {"model": self.model or "", "prompt": text}),
        }
        order = [self.tokenizer] if self.tokenizer else list(tries)
        for name in order:
            if name is None or name == "none":
                continue
            path, body = tries[name]
            answer = self._try(path, body)
            count = _token_count(answer)
            if count is not None:
                self.tokenizer = name
                return count
        self.tokenizer = "none"
        return None

    def make_prompt(self, tokens: int) -> tuple[str, str]:
        """A prompt of ``tokens`` tokens and how its length was made (``tokenizer:<endpoint>``
        when the server counted it, else ``approx:1-token-per-word``)."""
        if tokens < 1:
            raise UserInputError(f"prompt length must be ≥ 1 token, got {tokens}.")
        words = [PROMPT_WORDS[i % len(PROMPT_WORDS)] for i in range(tokens)]
        n = self.count_tokens(" ".join(words[:1]))
        if n is None:
            return APPROX_WORD.lstrip() + APPROX_WORD * (tokens - 1), "approx:1-token-per-word"
        lo, hi = 1, tokens  # most words are ≥ 1 token: the word count lies in [1, tokens]
        best = (1, n)
        for _ in range(MAX_PROMPT_ITER):
            if lo > hi:
                break
            mid = (lo + hi) // 2
            c = self.count_tokens(" ".join(words[:mid])) or 0
            if c <= tokens:
                best = (mid, c)
                lo = mid + 1
            else:
                hi = mid - 1
        text = " ".join(words[: best[0]])
        short = tokens - best[1]  # pad with single-token words to the exact length
        for _ in range(min(short, MAX_PROMPT_ITER)):
            candidate = text + APPROX_WORD
            c = self.count_tokens(candidate) or 0
            if c > tokens:
                break
            text = candidate
            if c == tokens:
                break
        return text, f"tokenizer:{self.tokenizer}"

    # ------------------------------------------------------------------ streaming
    def body(self, prompt: str, max_tokens: int, *, n: int = 1, force: bool = True,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """The request body: streaming, usage in the last chunk, greedy, length forced
        (``ignore_eos`` for vLLM/llama.cpp, ``min_tokens`` for vLLM/llama-cpp-python)."""
        body: dict[str, Any] = {"model": self.model or "default", "max_tokens": max_tokens,
                                "stream": True, "stream_options": {"include_usage": True},
                                "temperature": 0.0}
        if self.endpoint == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        if n > 1:
            body["n"] = n
        if force:
            body["ignore_eos"] = True
            body["min_tokens"] = max_tokens
        body.update(extra or {})
        return body

    def stream(self, body: dict[str, Any], deadline_s: float | None = None) -> StreamResult:
        """Send ``body`` and read its SSE stream to ``[DONE]`` (or the end of the stream).

        Bounded: every socket read waits at most ``timeout_s``; the whole stream at most
        ``deadline_s`` (default 10 × timeout_s); at most 1 MiB per line.
        """
        path = f"{self.v1}/{'chat/completions' if self.endpoint == 'chat' else 'completions'}"
        deadline = _ns() + int(1e9 * (deadline_s or 10 * self.timeout_s))
        with self._connection(path, self.timeout_s, f"timed out: no data for "
                              f"{self.timeout_s:g}s from {self._where(path)}") as conn:
            payload = json.dumps(body)
            t_send = _ns()
            conn.request("POST", path, body=payload, headers=self._headers())
            resp = conn.getresponse()
            if resp.status >= 400:
                raise ServerError(f"HTTP {resp.status} from {path}: {_reason(resp.read(65536))}")
            result = StreamResult(t_send_ns=t_send, t_done_ns=t_send)
            self._read_events(resp, result, deadline, path)
            result.t_done_ns = _ns()
            return result

    def _read_events(self, resp: http.client.HTTPResponse, result: StreamResult,
                     deadline: int, path: str) -> None:
        chat = self.endpoint == "chat"
        while True:
            if _ns() > deadline:
                raise ServerError(f"stream from {path} still going at its deadline; raise "
                                  "--request-timeout")
            line = resp.readline(1 << 20)
            if not line:
                return  # the server closed the stream (some omit [DONE])
            stamp = _ns()
            text = line.decode("utf-8", "replace").strip()
            if not text.startswith("data:"):
                continue  # blank separators, comments, "event:" lines
            data = text[5:].strip()
            if data == "[DONE]":
                return
            try:
                event = json.loads(data)
            except json.JSONDecodeError:
                raise ServerError(f"{path} streamed a line that is not JSON: "
                                  f"{data[:80]!r}") from None
            if not isinstance(event, dict):
                continue
            if "error" in event:
                raise ServerError(f"error event from {path}: {_reason(json.dumps(event))}")
            if event.get("usage"):
                result.usage = event["usage"]
            for choice in event.get("choices") or []:
                idx = int(choice.get("index", 0))
                content = ((choice.get("delta") or {}).get("content") if chat
                           else choice.get("text"))
                if content:
                    result.arrivals.setdefault(idx, []).append(stamp)
                    result.text_chars[idx] = result.text_chars.get(idx, 0) + len(content)
                else:
                    result.arrivals.setdefault(idx, [])
                if choice.get("finish_reason"):
                    result.finish_reasons[idx] = choice["finish_reason"]


def api_key_from_env(var: str | None) -> str | None:
    """The API key in environment variable ``var`` (an unset variable is an error)."""
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise UserInputError(f"--api-key-env {var}: that environment variable is not set; "
                             f"export {var}=... first.")
    return value


def parse_request_extra(text: str | None) -> dict[str, Any] | None:
    """``--request-extra '{"k": v}'``: fields merged into every request body."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise UserInputError(f"--request-extra must be a JSON object, got {text!r}; e.g. "
                             '\'{"debug_config": {"ignore_eos": true}}\'.')
    return value


def _token_count(answer: Any) -> int | None:
    if not isinstance(answer, dict):
        return None
    if isinstance(answer.get("count"), int):
        return int(answer["count"])
    tokens = answer.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


def _reason(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        obj = json.loads(text)
        err = obj.get("error", obj) if isinstance(obj, dict) else obj
        msg = err.get("message") if isinstance(err, dict) else None
        text = str(msg or err)
    except (json.JSONDecodeError, AttributeError):
        pass
    line = " ".join(text.split())
    return (line[:200] + "…") if len(line) > 200 else (line or "no body")


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None


def server_context(models: Any, props: Any, served: str | None) -> tuple[int, str] | None:
    """``(tokens, where)``: the context a server says one request may hold — vLLM's
    ``max_model_len`` in /v1/models, llama.cpp's per-slot ``n_ctx`` in /props — or None."""
    entries = [m for m in (models.get("data") if isinstance(models, dict) else None) or []
               if isinstance(m, dict)]
    for m in sorted(entries, key=lambda m: m.get("id") != served):  # the served one first
        n = _positive_int(m.get("max_model_len"))
        if n is not None:
            return n, f"the server's context length (max_model_len of {m.get('id')})"
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        n = _positive_int(settings.get("n_ctx") if isinstance(settings, dict) else None) or \
            _positive_int(props.get("n_ctx"))
        if n is not None:
            return n, "the server's per-slot context length (n_ctx in /props)"
    return None


def _trim(value: Any, limit: int = 4000) -> Any:
    """Keep identity records small: long JSON is cut to a string of ``limit`` chars."""
    text = json.dumps(value, default=str)
    return value if len(text) <= limit else text[:limit] + "…"
