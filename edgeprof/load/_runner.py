"""Serving under load: closed-loop clients at fixed concurrency against one server.

At concurrency ``c``, ``c`` client threads each send one streamed request, wait for its last
token, and send the next, until ``requests`` requests have been sent or the level's time
limit is reached (both bounds always apply). Per request, as ``vllm bench serve`` and AIPerf
define them: TTFT (send → first content token), TPOT ((e2e − TTFT) / (tokens − 1)), ITL
(the gaps between content chunks) and e2e. A level reports their p50/p90/p95/p99, the
request and output-token throughput, and the goodput: requests per second that met every
SLO given (TTFT, TPOT, e2e), as vLLM's ``--goodput`` counts them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.engines._openai_client import OpenAIClient, ServerError
from edgeprof.errors import DataFormatError, UserInputError

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class SLO:
    """Latency objectives per request (seconds); None = not constrained."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def met(self, r: RequestResult) -> bool:
        if not r.ok:
            return False
        pairs = ((self.ttft_s, r.ttft_s), (self.tpot_s, r.tpot_s), (self.e2e_s, r.e2e_s))
        return all(limit is None or (value is not None and value <= limit)
                   for limit, value in pairs)

    def as_dict(self) -> dict[str, float | None]:
        return {"ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "e2e_s": self.e2e_s}


@dataclass
class RequestResult:
    """One request at one concurrency level. Stamps are ``perf_counter_ns``."""

    concurrency: int
    index: int
    input_tokens: int
    output_tokens: int
    t_send_ns: int
    t_done_ns: int
    ok: bool
    error: str | None = None
    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    produced: int | None = None
    count_method: str | None = None
    prompt_tokens: int | None = None
    prompt_method: str | None = None


def read_length_lines(path: Path) -> list[tuple[int, int | None, int]]:
    """``(line, input_tokens or None, output_tokens)`` per request of a ``--lengths`` JSONL
    file (``output_tokens``, optionally ``input_tokens``, per line — the accuracy traces'
    format works as is)."""
    from edgeprof.files import read_text_checked

    text = read_text_checked(path, "--lengths file", "one JSON object per line with "
                             "output_tokens")
    rows: list[tuple[int, int | None, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out = int(obj["output_tokens"])
            raw = obj.get("input_tokens")
            inp = None if raw is None else int(raw)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError,
                AttributeError):
            raise DataFormatError(f"{path}:{number} needs a JSON object with an integer "
                                  "output_tokens (and input_tokens, or pass "
                                  "--input-tokens).") from None
        if out < 1 or (inp is not None and inp < 1):
            raise DataFormatError(f"{path}:{number}: input_tokens and output_tokens must be "
                                  "≥ 1 (give --input-tokens when the file has none).")
        rows.append((number, inp, out))
    if not rows:
        raise DataFormatError(f"{path} holds no lengths; one JSON object per line.")
    return rows


def read_lengths(path: Path, default_input: int | None) -> list[tuple[int, int]]:
    """(input, output) tokens per request of a ``--lengths`` file (:func:`read_length_lines`;
    ``default_input`` where a line has no input_tokens)."""
    pairs = []
    for number, inp, out in read_length_lines(path):
        if inp is None and not default_input:
            raise DataFormatError(f"{path}:{number}: input_tokens and output_tokens must be "
                                  "≥ 1 (give --input-tokens when the file has none).")
        pairs.append((inp if inp is not None else int(default_input or 0), out))
    return pairs


@dataclass
class LoadRunner:
    """Run levels of concurrency against one client. Prompts are built once per length."""

    client: OpenAIClient
    force_length: bool = True
    level_timeout_s: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)  # fields added to every body
    _prompts: dict[int, tuple[str, str]] = field(default_factory=dict)
    _overhead: int | None = None

    def prompt(self, tokens: int) -> tuple[str, str]:
        target = max(1, tokens - (self._overhead or 0))
        if target not in self._prompts:
            self._prompts[target] = self.client.make_prompt(target)
        return self._prompts[target]

    def calibrate(self, input_tokens: int) -> None:
        """One untimed request: learns the tokens the server adds to a prompt (BOS, chat
        template) from ``usage.prompt_tokens``, so later prompts have the length asked."""
        text, _ = self.prompt(input_tokens)
        try:
            res = self.client.stream(self.client.body(text, 2, force=self.force_length,
                                                      extra=self.extra))
        except ServerError:
            return  # the level itself will record what is wrong
        pt = (res.usage or {}).get("prompt_tokens")
        if isinstance(pt, int):
            self._overhead = max(0, pt - input_tokens)
            self._prompts.clear()

    def one(self, concurrency: int, index: int, inp: int, out: int) -> RequestResult:
        text, method = self.prompt(inp)
        body = self.client.body(text, out, force=self.force_length, extra=self.extra)
        t0 = time.perf_counter_ns()
        try:
            res = self.client.stream(body)
        except ServerError as exc:
            return RequestResult(concurrency, index, inp, out, t0, time.perf_counter_ns(),
                                 False, error=str(exc), prompt_method=method)
        stamps = res.arrivals.get(0, [])
        usage = res.usage or {}
        produced = usage.get("completion_tokens")
        count_method = "usage"
        if not isinstance(produced, int):  # no usage: trust finish_reason "length", else chunks
            at_max = res.finish_reasons.get(0) == "length"
            count_method = "finish_reason:length" if at_max else "chunks"
            produced = out if at_max else len(stamps)
        r = RequestResult(concurrency, index, inp, out, res.t_send_ns, res.t_done_ns, True,
                          produced=produced, count_method=count_method,
                          prompt_tokens=usage.get("prompt_tokens"), prompt_method=method)
        if not stamps:
            r.ok, r.error = False, "the server streamed no content"
            return r
        r.ttft_s = (stamps[0] - res.t_send_ns) / 1e9
        r.e2e_s = (stamps[-1] - res.t_send_ns) / 1e9
        r.itl_s = [(b - a) / 1e9 for a, b in pairwise(stamps)]
        r.tpot_s = (r.e2e_s - r.ttft_s) / (produced - 1) if produced > 1 else None
        if produced < out:
            r.ok = False
            r.error = (f"short answer: asked {out} tokens, the server produced {produced} "
                       f"({count_method}); pass its ignore-EOS switch (docs/engines.md)")
        return r

    def level(self, concurrency: int, jobs: Sequence[tuple[int, int]],
              on_done: Callable[[RequestResult], None] | None = None) -> tuple[
                  list[RequestResult], float, bool]:
        """Run ``jobs`` with ``concurrency`` closed-loop clients. Returns the results (in
        send order), the wall time from the first send to the last answer, and whether the
        level's time limit cut it short."""
        if concurrency < 1:
            raise UserInputError(f"concurrency must be ≥ 1, got {concurrency}.")
        lock = threading.Lock()
        results: list[RequestResult] = []
        state = {"next": 0, "cut": False}
        deadline = time.monotonic() + self.level_timeout_s

        def worker() -> None:
            while True:
                with lock:
                    i = state["next"]
                    if i >= len(jobs):
                        return
                    if time.monotonic() > deadline:
                        state["cut"] = True
                        return
                    state["next"] = i + 1
                r = self.one(concurrency, i, *jobs[i])
                with lock:
                    results.append(r)
                if on_done is not None:
                    on_done(r)

        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(min(concurrency, len(jobs)))]
        for t in threads:
            t.start()
        for t in threads:  # each request is bounded by the client's own deadline
            t.join(timeout=self.level_timeout_s + 11 * self.client.timeout_s)
        with lock:
            done = sorted(results, key=lambda r: r.index)
        if not done:
            return done, 0.0, bool(state["cut"])
        wall = (max(r.t_done_ns for r in done) - min(r.t_send_ns for r in done)) / 1e9
        return done, wall, bool(state["cut"] or any(t.is_alive() for t in threads))


def _pcts(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {f"p{p}": None for p in ("mean", *PERCENTILES)}
    arr = np.asarray(values, float)
    out: dict[str, float | None] = {"mean": float(arr.mean())}
    out.update({f"p{p}": float(np.percentile(arr, p)) for p in PERCENTILES})
    return out


def summarize_level(results: list[RequestResult], wall_s: float, slo: SLO,
                    cut: bool = False) -> dict[str, Any]:
    """Percentiles, throughput and goodput of one level (what ``vllm bench serve`` prints)."""
    ok = [r for r in results if r.ok]
    good = [r for r in ok if slo.met(r)]
    errors = sorted({r.error for r in results if r.error})
    c = results[0].concurrency if results else None
    return {
        "concurrency": c, "requests": len(results), "ok": len(ok),
        "failed": len(results) - len(ok), "cut_by_time_limit": cut, "duration_s": wall_s,
        "request_throughput_rps": len(ok) / wall_s if wall_s > 0 else None,
        "output_throughput_tps": (sum(r.produced or 0 for r in ok) / wall_s
                                  if wall_s > 0 else None),
        "goodput_rps": len(good) / wall_s if wall_s > 0 else None,
        "slo_attainment": len(good) / len(results) if results else None,
        "ttft_s": _pcts([r.ttft_s for r in ok if r.ttft_s is not None]),
        "tpot_s": _pcts([r.tpot_s for r in ok if r.tpot_s is not None]),
        "itl_s": _pcts([x for r in ok for x in r.itl_s]),
        "e2e_s": _pcts([r.e2e_s for r in ok if r.e2e_s is not None]),
        "errors": errors[:5],
    }
