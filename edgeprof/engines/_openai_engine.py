"""``--engine openai``: measure any OpenAI-compatible server by streaming (SSE).

One run is one request (``n`` = batch where the server honours it) or ``batch`` concurrent
requests (where it does not, e.g. llama-server rejects n > 1). Timings, all
``perf_counter_ns`` on this machine, so they include the network (127.0.0.1 or the LAN):

- TTFT: request sent → first content chunk. With batch > 1 the batch's TTFT is when *every*
  sequence has its first token (the torch engine's prefill-of-the-batch meaning).
- step k: when every sequence has its token k; ``token_times_s[k]`` is step k − step k−1.
- decode = last token − first token.

The output length is forced with ``max_tokens`` plus ``ignore_eos``/``min_tokens``; a server
that still stops early raises :class:`ShortAnswer`, which the sweep records as an ``error``
row naming the counts (never averaged in). Token counts come from ``usage`` when the server
sends it, else from counted chunks; the method is in the row (``engine_extra``).
"""

from __future__ import annotations

import threading
from itertools import pairwise
from typing import Any

from edgeprof.catalog import get_quant
from edgeprof.catalog._architectures import ArchSpec
from edgeprof.engines._base import Engine, RunResult, Support
from edgeprof.engines._openai_client import (
    OpenAIClient,
    ServerError,
    StreamResult,
    api_key_from_env,
)
from edgeprof.errors import UserInputError
from edgeprof.table._schema import QuantImpl


class ShortAnswer(Exception):
    """The server produced fewer tokens than asked (the point is not what it claims)."""


class OpenAIEngine(Engine):
    """A remote OpenAI-compatible server as an engine. ``quant`` is what the user declares
    the server runs (a Q4_0 GGUF → ``int4``); the server does the work, not this process."""

    name = "openai"

    def __init__(self, device: str = "cpu", url: str | None = None,
                 api_key_env: str | None = None, endpoint: str = "chat",
                 served_model: str | None = None, request_timeout_s: float = 60.0,
                 parallel: str = "auto", force_length: bool = True,
                 request_extra: dict[str, Any] | None = None) -> None:
        super().__init__(device)
        if not url:
            raise UserInputError("--engine openai needs --url http://HOST:PORT/v1.")
        if parallel not in ("auto", "n", "requests"):
            raise UserInputError(f"parallel must be auto, n or requests, got {parallel!r}.")
        self.client = OpenAIClient(url, api_key=api_key_from_env(api_key_env),
                                   endpoint=endpoint, model=served_model,
                                   timeout_s=request_timeout_s)
        self.parallel = parallel
        self.force_length = force_length
        if request_extra is not None and not isinstance(request_extra, dict):
            raise UserInputError("request_extra must be a JSON object, e.g. "
                                 '\'{"debug_config": {"ignore_eos": true}}\'.')
        self.request_extra = dict(request_extra or {})
        self.identity: dict[str, Any] | None = None
        self._prompts: dict[int, tuple[str, str]] = {}
        self._overhead: int | None = None  # prompt tokens the server adds (BOS, template)
        self._loaded = False
        self._arch: ArchSpec | None = None

    # ------------------------------------------------------------------ Engine API
    def support(self, arch: ArchSpec, quant: str) -> Support:
        get_quant(quant)  # an unknown name is an UnknownQuantError, as for every engine
        return Support(QuantImpl.NATIVE, "run by the server; quant as declared by --quants")

    def load(self, arch: ArchSpec, quant: str) -> None:
        """Ask the server who it is (raises ServerError when it does not answer)."""
        self.require_support(arch, quant)
        self.identity = self.client.identity()
        self._arch = arch
        self._loaded = True

    def unload(self) -> None:
        self._loaded = False
        self._arch = None

    def versions(self) -> dict[str, str]:
        return {"openai-client": "edgeprof stdlib http.client"}

    def settings(self) -> dict[str, Any]:
        return {"url": self.client.url, "endpoint": self.client.endpoint,
                "served_model": self.client.model, "parallel": self.parallel,
                "force_length": self.force_length, "request_extra": self.request_extra,
                "tokenizer": self.client.tokenizer,
                "prompt_overhead_tokens": self._overhead, "server": self.identity}

    def is_loaded(self) -> bool:
        return self._loaded

    def context_limit(self) -> tuple[int, str] | None:
        """The model's context, or the server's own when it reports a smaller one."""
        if self._arch is None:
            return None
        limit = (self._arch.max_position, f"{self._arch.name}'s context length")
        served = (self.identity or {}).get("context")
        if isinstance(served, dict) and isinstance(served.get("tokens"), int) and \
                served["tokens"] < limit[0]:
            limit = (served["tokens"],
                     str(served.get("source") or "the server's context length"))
        return limit

    def _run(self, input_tokens: int, output_tokens: int, batch: int) -> RunResult:
        prompt, prompt_method = self.prompt(input_tokens)
        mode = self.parallel
        if batch == 1:
            results, mode = [self._one(prompt, output_tokens, 1)], "single"
        elif mode in ("auto", "n"):
            try:
                res = self._one(prompt, output_tokens, batch)
            except ServerError as exc:
                if mode == "n" or "HTTP 4" not in str(exc):
                    raise
                res = None  # the server refuses n > 1: fall back to concurrent requests
            if res is not None and res.choices >= batch:
                results, mode = [res], "n"
                self.parallel = "n"
            elif mode == "n":
                got = res.choices if res else 0
                raise ServerError(f"asked n={batch}, the server returned {got} choice(s); "
                                  "use parallel=requests")
            else:
                self.parallel = mode = "requests"
                results = self._concurrent(prompt, output_tokens, batch)
        else:
            results = self._concurrent(prompt, output_tokens, batch)
        return self._result(results, input_tokens, output_tokens, batch, mode, prompt_method)

    # ------------------------------------------------------------------ helpers
    def prompt(self, tokens: int) -> tuple[str, str]:
        """A prompt whose server-side length is ``tokens`` (cached per length)."""
        target = max(1, tokens - (self._overhead or 0))
        if target not in self._prompts:
            self._prompts[target] = self.client.make_prompt(target)
        return self._prompts[target]

    def _one(self, prompt: str, output_tokens: int, n: int) -> StreamResult:
        body = self.client.body(prompt, output_tokens, n=n, force=self.force_length,
                                extra=self.request_extra)
        return self.client.stream(body)

    def _concurrent(self, prompt: str, output_tokens: int, batch: int) -> list[StreamResult]:
        """``batch`` requests at once, one thread each (bounded: batch threads, each with the
        client's timeouts, joined with a deadline)."""
        results: list[StreamResult | None] = [None] * batch
        errors: list[BaseException] = []
        barrier = threading.Barrier(batch)

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=self.client.connect_timeout_s)
                results[i] = self._one(prompt, output_tokens, 1)
            except BaseException as exc:  # reported below, one line
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(batch)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=11 * self.client.timeout_s)
        if errors:
            first = errors[0]
            raise first if isinstance(first, ServerError) else ServerError(
                f"{type(first).__name__}: {first}")
        if any(r is None for r in results):
            raise ServerError(f"a concurrent request did not finish in "
                              f"{11 * self.client.timeout_s:g}s")
        return [r for r in results if r is not None]

    def _result(self, results: list[StreamResult], input_tokens: int, output_tokens: int,
                batch: int, mode: str, prompt_method: str) -> RunResult:
        seqs = [stamps for r in results for _, stamps in sorted(r.arrivals.items())]
        usage = [r.usage for r in results if r.usage]
        completion = (sum(int(u.get("completion_tokens") or 0) for u in usage)
                      if len(usage) == len(results) else None)
        prompt_tokens = [int(u["prompt_tokens"]) for u in usage if u.get("prompt_tokens")]
        per_seq = [len(s) for s in seqs]
        method = "usage"
        if completion is None:  # no usage: count chunks, or trust finish_reason "length"
            reasons = [fr for r in results for _, fr in sorted(r.finish_reasons.items())]
            stopped_at_max = len(reasons) == len(seqs) and all(fr == "length" for fr in reasons)
            method = "finish_reason:length" if stopped_at_max else "chunks"
            completion = output_tokens * len(seqs) if stopped_at_max else sum(per_seq)
        produced = completion
        if len(seqs) < batch or produced < output_tokens * batch or min(per_seq or [0]) < 1:
            raise ShortAnswer(f"asked {batch}×{output_tokens} tokens, the server produced "
                              f"{produced} ({method}) in {len(seqs)} sequence(s); pass its "
                              "ignore-EOS switch (docs/engines.md)")
        if prompt_tokens and self._overhead is None:
            counted = input_tokens - (self._overhead or 0)
            self._overhead = max(0, prompt_tokens[0] - counted)
        width = min(per_seq)
        steps = [max(s[k] for s in seqs) for k in range(width)]
        # TTFT of the batch: the slowest sequence's own send → first token (concurrent
        # requests leave one client thread at a time, so their sends are not one instant)
        worst = max(stamps[0] - r.t_send_ns for r in results
                    for _, stamps in sorted(r.arrivals.items()))
        t_start = steps[0] - worst
        times = [(steps[0] - t_start) / 1e9] + [(b - a) / 1e9 for a, b in pairwise(steps)]
        t_end = max(s[-1] for s in seqs)
        times[-1] += (t_end - steps[-1]) / 1e9  # sequences with more chunks end later
        flags = []
        if completion != sum(per_seq):
            flags.append("multi-token-chunks")  # times are per chunk, counts per usage
        if not prompt_method.startswith("tokenizer"):
            flags.append("prompt-length-approx")
        if prompt_tokens and any(p != input_tokens for p in prompt_tokens):
            flags.append("prompt-length-off")
        extra = {"remote": True, "parallel": mode, "token_count_method": method,
                 "completion_tokens": produced, "prompt_tokens": prompt_tokens[0]
                 if prompt_tokens else None, "prompt_method": prompt_method,
                 "chunks_per_seq": per_seq, "finish_reasons":
                 [fr for r in results for _, fr in sorted(r.finish_reasons.items())],
                 "flags": flags}
        return RunResult(token_times_s=times, t_start_ns=t_start, t_first_ns=steps[0],
                         t_end_ns=t_end, peak_mem_bytes=None, extra=extra)
