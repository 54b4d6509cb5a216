"""``edgeprof load``: serving under load — percentiles and goodput per concurrency level."""

from __future__ import annotations

import json
import platform
import statistics
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from edgeprof import __version__
from edgeprof.catalog import check_context, get_quant, resolve_model
from edgeprof.cli._common import err, out, print_json
from edgeprof.engines._openai_client import (
    OpenAIClient,
    ServerError,
    api_key_from_env,
    parse_request_extra,
)
from edgeprof.errors import UserInputError
from edgeprof.load import SLO, LoadRunner, RequestResult, summarize_level
from edgeprof.load._runner import read_length_lines
from edgeprof.sweep._record import now_iso, one_line
from edgeprof.sweep._store import SweepStore
from edgeprof.table import Measurement, QuantImpl, RunConditions, Status
from edgeprof.units import parse_duration, parse_int_axis

LOAD_FILE = "load.json"


def _row(r: RequestResult, base: dict[str, Any], offset: int) -> Measurement:
    flags = ["load", "power-unavailable"]  # no power sampler runs beside a load
    if r.prompt_method and not r.prompt_method.startswith("tokenizer"):
        flags.append("prompt-length-approx")
    if r.prompt_tokens is not None and r.prompt_tokens != r.input_tokens:
        flags.append("prompt-length-off")
    ttft, e2e = r.ttft_s, r.e2e_s
    timed = ttft is not None and e2e is not None
    decode = e2e - ttft if ttft is not None and e2e is not None and r.ok else None
    return Measurement(
        **base, input_tokens=r.input_tokens, output_tokens=r.output_tokens, batch=1,
        repeat=offset + r.index, concurrency=r.concurrency,
        status=Status.OK if r.ok else Status.ERROR, error=one_line(r.error) if r.error else None,
        ttft_s=ttft or None, decode_s=decode, e2e_s=e2e or None,
        tbt_s=float(statistics.median(r.itl_s)) if r.itl_s and r.ok else None,
        token_times_s=([ttft, *r.itl_s] if timed else None), quant_impl=QuantImpl.NATIVE,
        flags=flags, timestamp=now_iso(), tpot_s=r.tpot_s, completion_tokens=r.produced,
        token_count_method=r.count_method, prompt_tokens=r.prompt_tokens,
        prompt_method=r.prompt_method)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1e3:.1f}"


def _print_table(levels: list[dict[str, Any]], slo: SLO) -> None:
    table = Table(title="edgeprof load (measured; ms, p50 / p95 / p99)")
    for col in ("conc.", "ok/n", "TTFT", "TPOT", "ITL p50", "e2e", "req/s", "tok/s",
                "goodput req/s", "SLO met"):
        table.add_column(col, justify="right")

    def trio(d: dict[str, float | None]) -> str:
        return " / ".join(_ms(d[k]) for k in ("p50", "p95", "p99"))

    for lv in levels:
        rps, tps, good = (lv["request_throughput_rps"], lv["output_throughput_tps"],
                          lv["goodput_rps"])
        table.add_row(str(lv["concurrency"]), f"{lv['ok']}/{lv['requests']}",
                      trio(lv["ttft_s"]), trio(lv["tpot_s"]), _ms(lv["itl_s"]["p50"]),
                      trio(lv["e2e_s"]), "—" if rps is None else f"{rps:.2f}",
                      "—" if tps is None else f"{tps:.1f}",
                      "—" if good is None else f"{good:.2f}",
                      "—" if lv["slo_attainment"] is None
                      else f"{100 * lv['slo_attainment']:.0f} %")
    out.print(table)
    given = {k: v for k, v in slo.as_dict().items() if v is not None}
    out.print(f"  SLO: {', '.join(f'{k} ≤ {v * 1e3:g} ms' for k, v in given.items()) or 'none'}"
              " (goodput counts requests meeting all of them)")
    for lv in levels:
        for message in lv["errors"]:
            out.print(f"  note (c={lv['concurrency']}): {message}")


def load(
    url: str = typer.Option(..., "--url", help="The server, http://HOST:PORT/v1."),
    model: str = typer.Option(..., "--model", help="Catalog model the server runs (for the "
                              "rows; `edgeprof models`)."),
    quant: str = typer.Option(..., "--quant", help="Quant format the server runs (a Q4_0 "
                              "GGUF: int4)."),
    concurrency: str = typer.Option("1,2,4,8", "--concurrency", help="Levels: 1,2,4,8."),
    requests: int = typer.Option(16, "--requests", help="Requests per level."),
    input_tokens: int = typer.Option(None, "--input-tokens", help="Prompt tokens per request "
                                     "[default: 128, or the --lengths file's]."),
    output_tokens: int = typer.Option(None, "--output-tokens", help="Output tokens per "
                                      "request [default: 64]."),
    lengths: Path = typer.Option(None, "--lengths", help="JSONL with output_tokens (and "
                                 "input_tokens) per line, e.g. accuracy traces; requests "
                                 "cycle through it."),
    slo_ttft: str = typer.Option(None, "--slo-ttft", help="TTFT objective, e.g. 500ms."),
    slo_tpot: str = typer.Option(None, "--slo-tpot", help="TPOT objective, e.g. 50ms."),
    slo_e2e: str = typer.Option(None, "--slo-e2e", help="End-to-end objective, e.g. 5s."),
    endpoint: str = typer.Option("chat", "--endpoint", help="chat | completions."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Env variable with the key."),
    served_model: str = typer.Option(None, "--served-model", help="Model id to request "
                                     "[default: first of /v1/models]."),
    request_timeout: str = typer.Option("60s", "--request-timeout", help="Max wait for any "
                                        "data from the server."),
    level_timeout: str = typer.Option("10min", "--level-timeout", help="Stop sending new "
                                      "requests at a level after this long."),
    no_force: bool = typer.Option(False, "--no-force-length", help="Do not send ignore_eos/"
                                  "min_tokens (for servers that reject them)."),
    request_extra: str = typer.Option(None, "--request-extra", help="JSON fields added to "
                                      "every request, e.g. '{\"debug_config\": "
                                      "{\"ignore_eos\": true}}' (MLC)."),
    out_dir: Path = typer.Option(None, "--out", help="Folder: rows appended to "
                                 "measurements.jsonl (concurrency column), summary in "
                                 "load.json."),
    device: str = typer.Option("cpu", "--device", help="Device column of the rows: this "
                               "machine's cpu or cuda:N (where the server runs)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Measure TTFT, TPOT, ITL and e2e percentiles and goodput per concurrency level.

    Closed loop: at concurrency c, c clients each send a request, wait for its last token,
    and send the next, until --requests have been sent (or --level-timeout passes).

    Examples:

      edgeprof load --url http://127.0.0.1:8080/v1 --model qwen2.5-0.5b --quant int4
      --concurrency 1,2,4,8 --requests 32 --input-tokens 256 --output-tokens 64
      --slo-ttft 500ms --slo-tpot 50ms --out runs/server

      edgeprof load --url http://127.0.0.1:8080/v1 --model qwen2.5-0.5b --quant int4
      --lengths traces.jsonl --requests 64 --json
    """
    levels = parse_int_axis(concurrency, "concurrency")
    if any(c < 1 for c in levels):
        raise UserInputError("--concurrency levels must be ≥ 1.")
    if requests < 1 or requests > 100_000:
        raise UserInputError(f"--requests must be in 1..100000, got {requests}.")
    for label, v in (("--input-tokens", input_tokens), ("--output-tokens", output_tokens)):
        if v is not None and v < 1:
            raise UserInputError(f"{label} must be ≥ 1, got {v}.")
    arch, q = resolve_model(model), get_quant(quant).name
    slo = SLO(*(parse_duration(s) if s else None for s in (slo_ttft, slo_tpot, slo_e2e)))
    planned = _planned_lengths(lengths, input_tokens, output_tokens)
    for inp, outp, names in planned:  # within the model's context, before any request
        check_context(arch, inp, outp, **names)
    pairs = [(inp, outp) for inp, outp, _ in planned]
    jobs = [pairs[k % len(pairs)] for k in range(requests)]
    extra = parse_request_extra(request_extra) or {}
    client = OpenAIClient(url, api_key=api_key_from_env(api_key_env), endpoint=endpoint,
                          model=served_model, timeout_s=parse_duration(request_timeout))
    try:
        identity = client.identity()
    except ServerError as exc:
        raise UserInputError(f"The server at {url} does not answer /v1/models ({exc}); "
                             "start it or fix --url.") from None
    served = identity.get("context")
    if isinstance(served, dict):  # the server's own context, when it reports one
        for inp, outp, names in planned:
            check_context(arch, inp, outp, **names, limit=served["tokens"],
                          limit_name=served["source"])
    runner = LoadRunner(client, force_length=not no_force,
                        level_timeout_s=parse_duration(level_timeout),
                        extra=extra)
    runner.calibrate(jobs[0][0])
    store = base = None
    offset = 0
    if out_dir is not None:
        store, base, offset = _open_store(out_dir, device, arch.name, q, identity, client)
    summaries = []
    for c in levels:
        err.print(f"load: concurrency {c}, {len(jobs)} requests …", highlight=False)

        def write(r: RequestResult, start: int = offset) -> None:
            if store is not None and base is not None:
                store.append(_row(r, base, start))

        results, wall, cut = runner.level(c, jobs, on_done=write)
        summaries.append(summarize_level(results, wall, slo, cut))
        offset += len(jobs)
    record = {"started_at": now_iso(), "url": url, "model": arch.name, "quant": q,
              "endpoint": endpoint, "requests_per_level": requests, "lengths":
              str(lengths) if lengths else None, "slo": slo.as_dict(),
              "tokenizer": client.tokenizer, "prompt_overhead_tokens": runner._overhead,
              "server": identity, "levels": summaries}
    if out_dir is not None:
        path = out_dir / LOAD_FILE
        from edgeprof.files import atomic_write, load_mapping

        old = (load_mapping(path, "load record", "move it away to start afresh").get("runs", [])
               if path.exists() else [])
        atomic_write(path, json.dumps({"runs": [*old, record]}, indent=2, default=str) + "\n")
    if as_json:
        print_json(record)
        return
    _print_table(summaries, slo)
    if out_dir is not None:
        err.print(f"Rows in {out_dir / 'measurements.jsonl'} (concurrency column); summary in "
                  f"{out_dir / LOAD_FILE}; next: edgeprof fit {out_dir}", soft_wrap=True)


def _planned_lengths(lengths: Path | None, input_tokens: int | None,
                     output_tokens: int | None) -> list[tuple[int, int, dict[str, str]]]:
    """``(input, output, names)`` per distinct request shape; ``names`` say where each
    length came from (a flag, or a line of the --lengths file) for the context check."""
    flags = {"inputs": "--input-tokens", "outputs": "--output-tokens", "where": ""}
    if lengths is None:
        return [(input_tokens or 128, output_tokens or 64, flags)]
    planned = []
    for line, inp, file_out in read_length_lines(lengths):
        names = {"inputs": "--input-tokens" if inp is None else "input_tokens",
                 "outputs": "output_tokens" if output_tokens is None else "--output-tokens",
                 "where": f"--lengths {lengths}:{line}: "}
        planned.append((inp if inp is not None else input_tokens or 128,
                        output_tokens if output_tokens is not None else file_out, names))
    return planned


def _open_store(out_dir: Path, device: str, model: str, quant: str, identity: dict,
                client: OpenAIClient) -> tuple[SweepStore, dict[str, Any], int]:
    """The folder's store, the rows' shared columns and the first free repeat index."""
    from edgeprof.device._machine import snapshot

    store = SweepStore(out_dir)
    store.open()
    old = store.read_conditions()
    machine = snapshot(device, with_spec=not (old or {}).get("device_spec"))
    if old is None:
        store.write_conditions(RunConditions(
            edgeprof_version=__version__, device=machine.name,
            device_fingerprint=machine.fingerprint, engine="openai",
            library_versions={"edgeprof": __version__, "python": platform.python_version(),
                              "openai-client": "edgeprof stdlib http.client"},
            started_at=now_iso(), device_spec=machine.spec,
            engine_settings={"url": client.url, "endpoint": client.endpoint,
                             "served_model": client.model, "server": identity}))
    rows = store.rows()
    offset = 1 + max((r.repeat for r in rows), default=-1)
    base = {"device": machine.name, "engine": "openai", "model": model, "quant": quant,
            "source": "measured", "power_source": "none"}
    return store, base, offset


def register(app: typer.Typer) -> None:
    app.command("load")(load)
