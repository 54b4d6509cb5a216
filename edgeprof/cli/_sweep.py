"""``edgeprof sweep``: measure prefill/decode latency, memory and power over a grid."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from edgeprof.cli._common import err, out, print_json
from edgeprof.engines._openai_client import parse_request_extra
from edgeprof.engines._plugins import load_engine_plugins
from edgeprof.errors import UserInputError
from edgeprof.sweep import all_points, build_spec, prepare, read_spec_file, summarize
from edgeprof.sweep._grid import Point
from edgeprof.sweep._store import SweepStore
from edgeprof.units import format_bytes, parse_duration


class RichProgress:
    """A progress bar with ETA on stderr."""

    def __init__(self) -> None:
        self.bar = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            TextColumn("{task.description}"), console=err, transient=False)
        self.task = self.bar.add_task("", total=None)
        self.total = self.done = self.first = 0
        self.notice = ""
        self.t0 = time.monotonic()

    def begin(self, total: int, done: int) -> None:
        if self.notice:  # said once the folder is known to be usable
            err.print(self.notice, highlight=False, soft_wrap=True)
        self.total, self.done, self.t0 = total, done, time.monotonic()
        self.first = done
        self.bar.start()
        self.bar.update(self.task, total=total, completed=done)
        if done:
            err.print(f"Resuming: {done} of {total} rows already measured.")

    def current(self, label: str) -> None:
        self.bar.update(self.task, description=label)
        # logs (CI, nohup): one plain line per loaded model or power mode, not per point
        if not err.is_terminal and (label.endswith("loading") or label.startswith("power")):
            err.print(f"sweep {self.done}/{self.total}: {label}", highlight=False)

    def advance(self, point: Point, status: str) -> None:
        self.bar.advance(self.task)
        self.done += 1
        if status != "ok" and point.repeat == 0:
            self.bar.console.print(f"[yellow]{status}[/]: {point.label()}")
        step = max(1, self.total // 10)
        if not err.is_terminal and (self.done % step == 0 or self.done == self.total):
            elapsed = time.monotonic() - self.t0
            rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            err.print(f"sweep {self.done}/{self.total} rows, {elapsed:.0f} s elapsed, "
                      f"ETA {eta:.0f} s", highlight=False)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1e3:.1f}"


def _print_summary(entries: list[dict]) -> None:
    table = Table(title="sweep summary (median over repeats, measured)")
    for col in ("model", "quant", "mode", "batch", "in", "out", "ok/n", "impl", "TTFT ms",
                "TBT ms", "e2e ms", "peak mem", "status"):
        table.add_column(col, justify="left" if col in ("model", "quant", "mode", "impl",
                                                         "status") else "right")
    for e in entries:
        status = ", ".join(f"{k}×{v}" for k, v in e["statuses"].items()) or "missing"
        table.add_row(e["model"], e["quant"], e["power_mode"] or "", str(e["batch"]),
                      str(e["input_tokens"]), str(e["output_tokens"]),
                      f"{e['ok']}/{e['repeats']}", e["quant_impl"] or "", _ms(e["ttft_s"]),
                      _ms(e["tbt_s"]), _ms(e["e2e_s"]), format_bytes(e["peak_mem_bytes"]),
                      status)
    out.print(table)
    errors = {e["error"] for e in entries if e["error"]}
    for message in sorted(errors)[:5]:
        out.print(f"  note: {message}")


def sweep(
    spec_file: Path | None = typer.Option(None, "--spec", help="YAML spec file (same keys)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Output folder (resumable)."),
    engine: str | None = typer.Option(None, help="Engine name [default: torch]."),
    device: str | None = typer.Option(None, help="cpu, cuda or cuda:N [default: cpu]."),
    models: str | None = typer.Option(None, help="Comma list of models (edgeprof models)."),
    quants: str | None = typer.Option(None, help="Comma list: fp32,fp16,bf16,fp8,int8,int4."),
    inputs: str | None = typer.Option(None, help="Input tokens: 128,512 or 128:1024:128."),
    outputs: str | None = typer.Option(None, help="Output tokens: 64,256 or 64..512."),
    batches: str | None = typer.Option(None, help="Parallel sequences: 1,4."),
    repeats: int | None = typer.Option(None, help="Timed repeats per point [default: 3]."),
    warmup: int | None = typer.Option(None, help="Untimed runs per loaded model [default: 1]."),
    power_modes: str | None = typer.Option(None, "--power-modes", help="Jetson modes: 15W,MAXN."),
    cooldown: str | None = typer.Option(None, help="Pause between shapes, e.g. 10s [0s]."),
    timeout_per_point: str | None = typer.Option(
        None, "--timeout-per-point", help="Give up on a point after this long, e.g. 10min."),
    idle_baseline: str = typer.Option("2s", "--idle-baseline",
                                      help="Idle power sampling before the sweep (0 skips)."),
    url: str | None = typer.Option(None, "--url", help="--engine openai: the server, "
                                   "http://HOST:PORT/v1."),
    api_key_env: str | None = typer.Option(None, "--api-key-env", help="--engine openai: "
                                           "environment variable holding the API key."),
    endpoint: str | None = typer.Option(None, "--endpoint", help="--engine openai: chat | "
                                        "completions [default: chat]."),
    served_model: str | None = typer.Option(None, "--served-model", help="--engine openai: "
                                            "model id to request [default: first of "
                                            "/v1/models]."),
    request_timeout: str | None = typer.Option(None, "--request-timeout", help="--engine "
                                               "openai: max wait for any data, e.g. 60s."),
    request_extra: str | None = typer.Option(None, "--request-extra", help="--engine openai: "
                                             "JSON fields added to every request."),
    retry_killed: bool = typer.Option(False, "--retry-killed", help="Measure again the points "
                                      "whose process died (killed rows)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the points and exit."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Measure TTFT, decode time, memory and power over model × quant × tokens × batch.

    Each repeat is one row in OUT/measurements.jsonl (fsync'ed); OUT/run.json records the
    machine, engine and spec. Rerunning the same command measures only missing points.

    Examples:

      edgeprof sweep --models qwen2.5-0.5b-scaled-4L --quants fp32,int8 --inputs 128,512
      --outputs 32 --batches 1,4 --out runs/cpu

      edgeprof sweep --spec sweep.yaml --out runs/orin --power-modes 15W,MAXN

      edgeprof sweep --spec sweep.yaml --out runs/x --dry-run

      edgeprof sweep --engine openai --url http://127.0.0.1:8080/v1 --models qwen2.5-0.5b
      --quants int4 --inputs 64,256 --outputs 24 --batches 1,4 --out runs/server
    """
    load_engine_plugins()
    file_keys = read_spec_file(spec_file) if spec_file else {}
    server = {k: v for k, v in (("url", url), ("api_key_env", api_key_env),
                                ("endpoint", endpoint), ("served_model", served_model),
                                ("request_timeout_s", request_timeout and
                                 parse_duration(request_timeout)),
                                ("request_extra", parse_request_extra(request_extra)))
              if v is not None}
    if server:  # --engine openai's options (edgeprof.engines._openai_engine)
        server = {**(file_keys.get("engine_options") or {}), **server}
    spec = build_spec(file_keys, engine=engine, device=device, models=models, quants=quants,
                      inputs=inputs, outputs=outputs, batches=batches, repeats=repeats,
                      warmup=warmup, power_modes=power_modes, cooldown_s=cooldown,
                      timeout_per_point_s=timeout_per_point, engine_options=server or None)
    if spec.engine == "openai" and quants is None and "quants" not in file_keys:
        raise UserInputError("--engine openai: pass --quants with the format the server runs "
                             "(a Q4_0 GGUF is int4, an FP16 checkpoint fp16); rows record it.")
    points = all_points(spec)
    if dry_run:
        _dry_run(spec.model_dump(), points, as_json)
        return
    if out_dir is None:
        raise UserInputError("No output folder; pass --out DIR (or --dry-run to list points).")
    idle_s = 0.0 if idle_baseline.strip() in ("0", "0s") else parse_duration(idle_baseline)
    progress = RichProgress()
    runner = prepare(spec, out_dir, idle_s=idle_s, progress=progress, retry_killed=retry_killed)
    progress.notice = (f"power: {runner.sampler.source}" if runner.sampler.available else
                       "power: no sensor found (NVML, Jetson rails, RAPL); rows record power "
                       "as unavailable (check with `edgeprof telemetry`)")
    try:
        result = runner.run()
    finally:
        progress.bar.stop()
    entries = summarize(SweepStore(out_dir).rows(), points, result.device, runner.engine.name)
    if as_json:
        print_json({"out": str(out_dir), "device": result.device, "engine": spec.engine,
                    "total_rows": result.total, "already_measured": result.skipped,
                    "measured_now": result.measured, "warmup_runs": result.warmup_runs,
                    "points": entries})
        return
    _print_summary(entries)
    err.print(f"Rows in {out_dir / 'measurements.jsonl'}; next: edgeprof fit {out_dir}",
              soft_wrap=True)


def _dry_run(spec: dict, points: list[Point], as_json: bool) -> None:
    if as_json:
        print_json({"spec": spec, "rows": len(points),
                    "points": [p.__dict__ for p in points]})
        return
    table = Table(title=f"{len(points)} rows (each repeat is a row), in run order")
    for col in ("model", "quant", "mode", "batch", "in", "out", "repeats"):
        table.add_column(col)
    shapes: dict[tuple, int] = {}
    for p in points:
        key = (p.model, p.quant, p.power_mode or "", p.batch, p.input_tokens, p.output_tokens)
        shapes[key] = shapes.get(key, 0) + 1
    for key, n in shapes.items():
        table.add_row(*(str(k) for k in key), str(n))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
