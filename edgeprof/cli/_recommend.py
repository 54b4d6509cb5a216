"""``edgeprof recommend``: the most accurate configuration under a latency SLO."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from edgeprof.cli._common import err, out, print_json
from edgeprof.errors import InfeasibleError, UserInputError
from edgeprof.units import (
    check_count,
    format_bytes,
    parse_duration,
    parse_energy,
    parse_int_axis,
    parse_size,
    parse_str_list,
)

if TYPE_CHECKING:
    from edgeprof.search._result import Recommendation

#: Accuracy used when ``--accuracy`` is left out: the shipped published figures modeled over
#: budget, N and quant (edgeprof.accuracy._published; provenance ``imported``, or ``prior`` for
#: a derived format), on MATH-500 — the benchmark with the best short-budget coverage —
#: unless ``--benchmark`` says otherwise.
DEFAULT_ACCURACY = "published-table"
DEFAULT_BENCHMARK = "MATH-500"
#: Prompt length assumed when the accuracy data has none and ``--input-tokens`` is left out.
DEFAULT_INPUT_TOKENS = 512


def load_profile(name_or_path: str) -> Any:
    """The fit package's Profile (a shipped device name gives a spec-only profile)."""
    from edgeprof.fit._profile import Profile

    return Profile.load(name_or_path)


def _print_human(rec: Recommendation, notes: list[str] | None = None) -> None:
    """The winner, runner-ups and fronts as tables; ``notes``: what the latency and memory
    were predicted with (engine, KV cache, memory limit), printed under the winner."""
    from edgeprof.search._present import winner_rows

    pr = rec.problem
    pct = pr.pct_label
    w = rec.winner
    if w is not None:
        t = Table(title=f"Recommendation for {pr.device} — SLO {pr.slo_s:g} s at {pct}, "
                        f"input {pr.input_tokens} tokens")
        t.add_column("quantity")
        t.add_column("value [90% interval] (provenance)")
        for row in winner_rows(w, pr):
            t.add_row(row.label, row.text if row.is_text else
                      f"{row.numbers()} ({row.estimate.provenance})" if row.estimate else "n/a")
        out.print(t)
        for note in notes or []:
            out.print(f"Note: {note}.")
    sources = rec.provenance.sources

    def source(c: Any) -> str:  # where the row's accuracy and latency come from
        s = sources.get(f"{c.model}/{c.quant}")
        return f"{s.accuracy} / {s.latency}" if s else "predicted"

    ru = Table(title="Runner-ups (why they lost)")
    for col in ("model", "quant", "budget", "N", "mode", "accuracy", f"{pct} s",
                f"{pct} bound s", "verdict", "provenance (accuracy / latency)"):
        ru.add_column(col)
    for c in rec.runner_ups:
        bound = c.latency_bound_s
        ru.add_row(c.model, c.quant, str(c.budget), str(c.samples), str(c.power_mode or "-"),
                   f"{c.accuracy:.3f}", f"{c.latency_s:.2f}",
                   "-" if bound is None else f"{bound:.2f}", c.verdict, source(c))
    out.print(ru)
    for title, front, attr in (("Pareto front: accuracy vs latency", rec.pareto_latency,
                                "latency_s"),
                               ("Pareto front: accuracy vs energy", rec.pareto_energy,
                                "energy_j")):
        if not front:
            continue
        pt = Table(title=title)
        for col in ("model", "quant", "budget", "N", "mode", "accuracy",
                    f"{pct} s" if attr == "latency_s" else "J", "memory", "meets all",
                    "provenance (accuracy / latency)"):
            pt.add_column(col)
        for c in front:
            pt.add_row(c.model, c.quant, str(c.budget), str(c.samples), str(c.power_mode or "-"),
                       f"{c.accuracy:.3f}", f"{getattr(c, attr):.2f}",
                       format_bytes(c.memory_bytes), "yes" if c.feasible else "no", source(c))
        out.print(pt)
    cc, s = rec.cross_check, rec.search
    if cc.enumerated:
        agree = "agrees" if cc.agrees else "DISAGREES"
        err.print(f"Cross-check: enumerated all {cc.space_size} configurations; the study "
                  f"{agree} with the enumerated optimum. Winner from: {cc.winner_source}; "
                  f"sampler-only regret {cc.sampler_regret:.4f}.")
    else:
        err.print(f"Space of {cc.space_size} configurations is too large to enumerate; the "
                  f"winner is the study's best ({cc.winner_source}).")
    err.print(f"Search: {s.sampler} sampler, {s.distinct_groups}/{s.groups_total} groups "
              f"(model × quant × samples) evaluated in {s.trials_asked} trials, "
              f"{s.accuracy_calls} accuracy evaluations, {s.wall_s:.2f} s; study "
              f"{s.study_name!r} on {s.storage}.")


def recommend(
    profile: str = typer.Option(None, "--profile", "-p",
                                help="Fitted profile (.yaml/.json) or a shipped device name."),
    device: str = typer.Option(None, "--device", help="Alias of --profile for a device name."),
    accuracy: str = typer.Option(None, "--accuracy", "-a",
                                 help="Accuracy data: traces .jsonl, lm-eval samples, table "
                                      ".csv, or synthetic-traces / published-table (default: "
                                      "published-table, MATH-500); yours always replaces the "
                                      "shipped data."),
    budget: str = typer.Option(..., "--budget", help="Latency SLO, e.g. 2s or 1500ms."),
    input_tokens: int = typer.Option(None, "--input-tokens",
                                     help="Prompt tokens (default: from the traces, else "
                                          f"{DEFAULT_INPUT_TOKENS})."),
    percentile: float = typer.Option(95.0, "--percentile", help="SLO percentile (0-100]."),
    confidence: float = typer.Option(0.9, "--confidence", help="Check latency and peak memory "
                                     "at this one-sided upper bound of their prediction "
                                     "(0: the point; see docs/recommend.md)."),
    energy_budget: str = typer.Option(None, "--energy-budget", help="Joules per request, "
                                      "e.g. 40J."),
    memory_limit: str = typer.Option(None, "--memory-limit", help="e.g. 8GiB (default: the "
                                     "device's memory)."),
    models: str = typer.Option(None, "--models", help="Restrict to these models (a,b)."),
    quants: str = typer.Option(None, "--quants", help="Restrict to these quant formats."),
    max_samples: int = typer.Option(None, "--max-samples", help="Largest N to consider."),
    budgets: str = typer.Option(None, "--budgets", help="Token budgets: 128,256 or "
                                "128..4096 (default: the accuracy data's, else 128..4096)."),
    power_modes: str = typer.Option(None, "--power-modes", help="Power modes to consider "
                                    "(default: all the profile has)."),
    trials: int = typer.Option(100, "--trials", help="Distinct (model, quant, N) groups the "
                               "sampler evaluates."),
    seed: int = typer.Option(0, "--seed", help="Sampler seed (reproducible)."),
    sampler: str = typer.Option("tpe", "--sampler", help="tpe | nsga2 | random | grid."),
    storage: str = typer.Option(None, "--storage", help="Optuna storage URL, e.g. "
                                "sqlite:///study.db (default in-memory)."),
    study_name: str = typer.Option(None, "--study-name", help="Study to create or join."),
    semantics: str = typer.Option("truncate-wrong", "--semantics",
                                  help="truncate-wrong | forced-answer."),
    benchmark: str = typer.Option(None, "--benchmark", help="Benchmark of the shipped or a "
                                  "table's figures: MATH-500 (default), AIME 2024, AIME 2025, "
                                  "GSM8K, GPQA-Diamond, MMLU-Redux …"),
    json_out: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
    plot: Path = typer.Option(None, "--plot", help="Write the Pareto plot (PNG)."),
    out_path: Path = typer.Option(None, "--out", help="Write recommendation.json (for "
                                  "`edgeprof export`)."),
    concurrency: int = typer.Option(1, "--concurrency", help="Requests in flight at once; "
                                    "> 1 scales latency by the profile's concurrency fit "
                                    "(`edgeprof load`, then `fit`)."),
    engine: str = typer.Option(None, "--engine", help="Serving engine to predict for: vllm, "
                               "trtllm, mlc, llama.cpp, torch, onnxruntime (default: the "
                               "profile's calibration engine)."),
    prefix_caching: bool = typer.Option(
        False, "--prefix-caching", help="The server's prefix cache shares the prompt's "
        "prefill among the N samples (vLLM V1's default, as the exported vLLM manifest "
        "deploys): TTFT of one prefill. Default: N prefills (pessimistic there)."),
    kv_cache_dtype: str = typer.Option(
        "auto", "--kv-cache-dtype", help="auto, fp8 (vLLM on compute capability 9.x; "
        "TensorRT-LLM / Edge-LLM on Ampere+ GPUs and Thor) or q8_0 (llama.cpp): memory (and "
        "the KV reads of engines that read it) at 8 bits; `export` writes the cache into "
        "each engine that keeps one here. Answer quality with it is not modelled."),
) -> None:
    """Find the most accurate model × quant × budget × samples under a latency SLO."""
    from edgeprof.accuracy import load_accuracy
    from edgeprof.report._pareto_figure import plot_pareto
    from edgeprof.search import Problem
    from edgeprof.search import recommend as run_search

    if profile and device and profile != device:
        raise UserInputError("Give --profile or --device, not both.")
    target = profile or device
    if not target:
        from edgeprof.device._spec import list_device_names

        raise UserInputError("Give --profile PROFILE.yaml or --device NAME (shipped: "
                             f"{', '.join(list_device_names())}).")
    slo = parse_duration(budget)
    energy = parse_energy(energy_budget) if energy_budget else None
    from edgeprof.files import atomic_write, check_output_path

    for flag, value in (("--out", out_path), ("--plot", plot)):
        if value is not None:
            check_output_path(value, flag)
    check_count(trials, "trials", maximum=100_000)
    check_count(max_samples, "max-samples", maximum=1024)
    check_count(input_tokens, "input-tokens")
    check_count(concurrency, "concurrency", maximum=4096)
    if storage:
        from edgeprof.search._storage import check_storage_url

        check_storage_url(storage)
    prof = load_profile(target)
    engine_note = None
    if hasattr(prof, "with_engine"):
        prof = prof.with_engine(engine)
        how = "--engine" if engine else "the profile's calibration engine"
        engine_note = f"latency predicted for engine {prof.resolved_engine()} ({how})"
        if prefix_caching:
            prof = prof.with_prefix_caching()
            engine_note += f"; {prof.prefill_note()}"
        prof = prof.with_kv_cache_dtype(kv_cache_dtype)
        kv_note = prof.kv_cache_note()  # refuses, in one line, a cache the engine cannot keep
        if kv_note:
            engine_note += f"; {kv_note}"
    if concurrency != 1:
        from edgeprof.fit._concurrency import ConcurrentProfile

        prof = ConcurrentProfile(prof, concurrency)
    notes: list[str] = []
    if accuracy is None:
        accuracy = DEFAULT_ACCURACY
        notes.append(f"no --accuracy given: using the shipped {DEFAULT_ACCURACY} (published "
                     "figures, provenance imported, modeled over budget/N/quant with "
                     "intervals; see docs/accuracy.md); your own traces or lm-eval logs "
                     "(--accuracy FILE) replace it")
    if accuracy == DEFAULT_ACCURACY and benchmark is None:
        benchmark = DEFAULT_BENCHMARK
        notes.append(f"{DEFAULT_ACCURACY}: benchmark {DEFAULT_BENCHMARK} (the default; choose "
                     "with --benchmark: MATH-500, AIME 2024, AIME 2025, GSM8K, GPQA-Diamond, "
                     "MMLU-Redux …)")
    data = load_accuracy(accuracy, benchmark=benchmark)
    limit = parse_size(memory_limit) if memory_limit else getattr(
        prof.device, "usable_memory_bytes", prof.device.memory_bytes)
    reserve = getattr(prof.device, "memory_reserve_bytes", None)
    late_notes: list[str] = []  # in the result only: stderr stays one line on bad input
    if not memory_limit and reserve:
        late_notes.append(f"memory limit {format_bytes(limit)} = device memory "
                     f"{format_bytes(prof.device.memory_bytes)} − reserve "
                     f"{format_bytes(reserve)} (OS + carveouts, the profile's "
                     "memory_reserve_bytes; --memory-limit overrides)")
    elif not memory_limit and getattr(prof.device, "kind", None) == "jetson":
        late_notes.append(f"memory limit {format_bytes(limit)} = the whole unified memory: "
                          "this board's profile has no sourced OS/carveout reserve, so the "
                          "OS's share is not subtracted; pass --memory-limit with what "
                          "`free -b` shows available on your board")
    if input_tokens is None:
        input_tokens = data.default_input_tokens()
        if input_tokens is None:
            input_tokens = DEFAULT_INPUT_TOKENS
            notes.append(f"the accuracy data has no prompt lengths: assuming "
                         f"--input-tokens {DEFAULT_INPUT_TOKENS}")
    for note in notes:
        err.print(f"Note: {note}.")
    modes: list[str | None] | None = None
    if power_modes:
        modes = [prof.device.power_mode(m).name for m in parse_str_list(power_modes,
                                                                          "power-modes")]
    problem = Problem(slo_s=slo, input_tokens=int(input_tokens), memory_limit_bytes=limit,
                      percentile=percentile, energy_budget_j=energy, semantics=semantics,
                      confidence=confidence)
    rec = run_search(
        prof, data, problem,
        models=parse_str_list(models, "models") if models else None,
        quants=parse_str_list(quants, "quants") if quants else None,
        budgets=parse_int_axis(budgets, "budgets") if budgets else None,
        max_samples=max_samples, power_modes=modes, trials=trials, seed=seed,
        sampler=sampler, storage=storage, study_name=study_name, accuracy_benchmark=benchmark,
        # engine and memory-limit notes go in the result only: stderr stays one line
        notes=[*notes, *([engine_note] if engine_note else []), *late_notes])
    if out_path:
        atomic_write(out_path, rec.model_dump_json(indent=2) + "\n")
        err.print(f"Wrote {out_path} (feed it to `edgeprof export`).")
    if plot:
        plot_pareto(rec, plot)
        err.print(f"Wrote {plot}.")
    if json_out:
        print_json(rec.model_dump(mode="json"))
    else:
        _print_human(rec, [*([engine_note] if engine_note else []), *late_notes])
    if rec.winner is not None and rec.winner.accuracy.value <= 0.0:
        err.print("Warning: the best configuration that meets the constraints has predicted "
                  "accuracy 0 — in practice nothing useful fits; relax --budget.")
    if not rec.feasible:
        f = rec.fastest
        budget_axis = rec.problem.axes["budgets"]
        hint = (f", or give --accuracy data with budgets below {max(budget_axis)} tokens"
                if f and f.budget == min(budget_axis) and
                f.latency_pct.value > slo and len(budget_axis) == 1
                else "")
        fastest = (f"the fastest is {f.model} {f.quant} budget {f.budget} N={f.samples}"
                   f"{' ' + f.power_mode if f.power_mode else ''} at "
                   f"{f.latency_pct.value:.2f} s ({rec.problem.percentile:g}th pct), "
                   f"accuracy {f.accuracy.value:.3f} [{f.accuracy.lo:.3f}, "
                   f"{f.accuracy.hi:.3f}] ({f.accuracy.provenance})"
                   if f else "no configuration fits in memory")
        smallest = rec.min_slo_s
        fastest += (f"; the smallest SLO that admits a real model (accuracy ≥ 1 %) is "
                    f"{smallest:.2f} s" if smallest is not None else
                    "; no real model reaches accuracy ≥ 1 % within the memory/energy limits")
        raise InfeasibleError(f"No configuration meets the constraints (SLO "
                              f"{slo:g} s, memory {format_bytes(limit)}"
                              f"{f', energy {energy:g} J' if energy else ''}); {fastest}; "
                              f"relax --budget or --memory-limit/--energy-budget"
                              f"{hint}.")


def register(app: typer.Typer) -> None:
    app.command("recommend")(recommend)
