"""``edgeprof accuracy``: accuracy under a token budget and N parallel samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from edgeprof.accuracy import AccuracyData, load_accuracy
from edgeprof.cli._common import err, out, print_json
from edgeprof.errors import UserInputError
from edgeprof.estimates import Estimate
from edgeprof.units import parse_int_axis

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def _est(e: Estimate | None) -> dict[str, Any] | None:
    if e is None:
        return None
    return {"value": e.value, "lo": e.lo, "hi": e.hi, "level": e.level,
            "provenance": e.provenance, "note": e.note}


def _row(data: AccuracyData, model: str, quant: str, budget: int, n: int,
         semantics: str) -> dict[str, Any] | None:
    try:
        maj = data.accuracy(model, quant, budget, n, semantics)
    except UserInputError:
        if data.kind in ("table", "published"):
            return None  # no such row / beyond what the published figures support
        raise
    try:
        best = data.accuracy(model, quant, budget, n, semantics, method="pass")
    except UserInputError:
        best = None
    lengths = {f"p{round(q * 100)}": data.length_quantile(model, quant, budget, n, q)
               for q in QUANTILES}
    return {"model": model, "quant": quant, "budget": budget, "samples": n,
            "semantics": semantics, "majority": _est(maj), "pass": _est(best),
            "length_tokens": lengths, "lengths_from": {
                "table": "budget (table has no lengths)",
                "published": "lognormal from published mean lengths (else the budget)"}
            .get(data.kind, "traces")}


def _fmt(e: dict[str, Any] | None) -> str:
    if e is None:
        return "—"
    return f"{e['value']:.3f} [{e['lo']:.3f}, {e['hi']:.3f}]"


def accuracy(
    traces: str = typer.Argument(..., help="Traces .jsonl, lm-eval samples file/folder, table "
                                 ".csv, 'synthetic-traces' or 'published-table'; 'synth' "
                                 "generates synthetic traces (with --out)."),
    budget: str = typer.Option(None, "--budget", "-b", help="Token budget(s): 1024, "
                               "512,1024 or 256..4096."),
    samples: str = typer.Option("1", "--samples", "-n", help="Parallel samples N (axis)."),
    model: str = typer.Option(None, "--model", help="Only this model (required for lm-eval)."),
    quant: str = typer.Option(None, "--quant", help="Only this quant (required for lm-eval)."),
    semantics: str = typer.Option("truncate-wrong", "--semantics",
                                  help="truncate-wrong | forced-answer."),
    missing_answers: str = typer.Option("distinct", "--missing-answers",
                                        help="Traces without answers: distinct (optimistic) "
                                        "or shared (pessimistic) wrong answers."),
    table: bool = typer.Option(False, "--table", help="Whole grid, incl. quant formats "
                               "derived as prior."),
    level: float = typer.Option(0.9, "--level", help="Interval coverage."),
    benchmark: str = typer.Option(None, "--benchmark", help="published-table or a table: "
                                  "MATH-500 (default for published-table), AIME 2024, GSM8K, "
                                  "MMLU-Redux …"),
    tokens_field: str = typer.Option(None, "--tokens-field", help="lm-eval: field with output "
                                     "token counts (else estimated as chars/4)."),
    lm_filter: str = typer.Option(None, "--filter", help="lm-eval: which filter's rows."),
    metric: str = typer.Option(None, "--metric", help="lm-eval: correctness metric."),
    out_path: Path = typer.Option(None, "--out", help="synth: where to write the traces."),
    seed: int = typer.Option(0, "--seed", help="synth: random seed."),
    questions: int = typer.Option(40, "--questions", help="synth: questions per model."),
    per_question: int = typer.Option(16, "--per-question", help="synth: samples per question."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Majority-vote and pass@N accuracy with intervals, and output-length percentiles.

    Examples:

      edgeprof accuracy synthetic-traces --budget 2048 --samples 4

      edgeprof accuracy traces.jsonl --budget 512..4096 --samples 1,4,8 --table --json

      edgeprof accuracy samples_gsm8k_2024-06-01T10-00-00.jsonl --model qwen2.5-1.5b
      --quant bf16 --filter strict-match --budget 1024

      edgeprof accuracy synth --out traces.jsonl --seed 1
    """
    if traces == "synth":
        _synth(out_path, seed, questions, per_question)
        return
    if not 0.0 < level < 1.0:
        raise UserInputError(f"--level must be in (0, 1); got {level}.")
    data = load_accuracy(traces, model=model, quant=quant, tokens_field=tokens_field,
                         lm_eval_filter=lm_filter, metric=metric,
                         missing_answers=missing_answers, benchmark=benchmark)
    ns = parse_int_axis(samples, "samples")
    pairs = data.pairs() if table else data.measured_pairs()
    rows = []
    for m, q in pairs:
        if budget is not None:
            budgets = parse_int_axis(budget, "budget")
        else:
            budgets = data.budgets(m, q) or []
            if not budgets:
                raise UserInputError("Give --budget (tokens), e.g. --budget 1024 or 256..4096.")
        for b in budgets:
            for n in ns:
                row = _row(data, m, q, b, n, semantics)
                if row is not None:
                    rows.append(row)
    if getattr(data, "kind", "") == "published":
        err.print(f"Benchmark: {data.benchmark} (choose with --benchmark).")
    if not rows:
        raise UserInputError(f"{data.source} has no rows for that budget and N; see "
                             "`edgeprof accuracy <file> --table` without --budget.")
    if as_json:
        print_json({"source": data.source, "rows": rows})
        return
    t = Table(title=f"Accuracy from {data.source} ({semantics}, {round(level * 100)} % intervals)")
    for col in ("model", "quant", "budget", "N", "majority vote", "pass@N", "p50", "p90",
                "p95", "p99", "provenance"):
        t.add_column(col, justify="left" if col in ("model", "quant", "provenance") else "right")
    for r in rows:
        lt = r["length_tokens"]
        t.add_row(r["model"], r["quant"], str(r["budget"]), str(r["samples"]),
                  _fmt(r["majority"]), _fmt(r["pass"]),
                  *(f"{lt[k]:.0f}" for k in ("p50", "p90", "p95", "p99")),
                  r["majority"]["provenance"])
    out.print(t)
    err.print("Lengths: tokens of the longest of N samples, capped at the budget. "
              "'prior' rows are derived from 16-bit data with published quantization ratios.")


def _synth(out_path: Path | None, seed: int, questions: int, per_question: int) -> None:
    from edgeprof.accuracy._synth import generate, write_jsonl

    if out_path is None:
        raise UserInputError("edgeprof accuracy synth needs --out, e.g. --out traces.jsonl.")
    if questions < 1 or per_question < 1 or questions * per_question > 10**7:
        raise UserInputError("--questions and --per-question must be ≥ 1, with at most 10^7 "
                             "samples in all.")
    records, _ = generate(questions=questions, samples=per_question, seed=seed)
    write_jsonl(records, out_path)
    err.print(f"Wrote {len(records)} synthetic trace records to {out_path} (labeled synthetic).")


def register(app: typer.Typer) -> None:
    app.command("accuracy")(accuracy)
