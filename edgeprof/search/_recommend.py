"""``recommend``: the most accurate configuration under a latency SLO.

Steps: build the space; predict latency, memory and energy for all of it at once; when the
space has at most ``enumerate_limit`` configurations enumerate it exactly; run the Optuna
study over (pair, samples) groups; enqueue the enumerated optimum if the sampler missed it
(flagged); report winner, runner-ups, Pareto fronts and the cross-check.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import numpy as np

from edgeprof import __version__
from edgeprof.search._answer import candidate, config_out, pareto, runner_ups
from edgeprof.search._grid import evaluate_grid
from edgeprof.search._problem import Problem
from edgeprof.search._protocols import AccuracyModel, LatencyModel
from edgeprof.search._result import (
    CrossCheck,
    Recommendation,
    RecProblem,
    RecProvenance,
    RowSources,
    SearchInfo,
)
from edgeprof.search._solve import Pick, enumerate_optimum, fastest
from edgeprof.search._space import build_space
from edgeprof.search._study import GroupStudy

ENUMERATE_LIMIT = 10_000
LATENCY_RULE = ("constraint on the point prediction of e2e latency at the SLO percentile of "
                "the longest-of-N output length (batch = N); its interval is reported")


def recommend(profile: LatencyModel, accuracy: AccuracyModel, problem: Problem, *,
              models: list[str] | None = None, quants: list[str] | None = None,
              budgets: list[int] | None = None, max_samples: int | None = None,
              power_modes: list[str | None] | None = None, trials: int = 100,
              seed: int | None = 0, sampler: str = "tpe", storage: str | None = None,
              study_name: str | None = None, enumerate_limit: int = ENUMERATE_LIMIT,
              seed_with_enumeration: bool = True, notes: Sequence[str] = (),
              accuracy_benchmark: str | None = None) -> Recommendation:
    """Search the space for the most accurate configuration meeting ``problem``.

    ``notes`` (the caller's: defaults it chose, the engine predicted for) follow the
    search's own in the result; ``accuracy_benchmark`` names the benchmark the accuracy
    figures are for, when the caller chose one."""
    t0 = time.perf_counter()
    modes = power_modes if power_modes is not None else profile.power_modes()
    space = build_space(accuracy, power_modes=modes, models=models, quants=quants,
                        budgets=budgets, max_samples=max_samples,
                        input_tokens=problem.input_tokens)
    grid = evaluate_grid(profile, accuracy, space, problem)
    feas = grid.feasible()
    enumerated = space.size <= enumerate_limit
    optimum = enumerate_optimum(grid, feas) if enumerated else None
    fingerprint = problem.fingerprint(space.axes(), profile.hash(), accuracy.source)
    study = GroupStudy(grid, sampler=sampler, seed=seed, storage=storage,
                       study_name=study_name, fingerprint=fingerprint)
    enqueue = [optimum] if (optimum is not None and seed_with_enumeration) else []
    sampler_only = study.run(trials)
    outcome = study.run(0, enqueue=enqueue) if enqueue else sampler_only
    best = outcome.best
    check = _cross_check(grid, optimum, best, sampler_only.best, outcome.enqueued, enumerated,
                         space.size)
    if enumerated:  # complete fronts on small spaces
        grid.fill_accuracy(space.valid & (grid.mem_check <= problem.memory_limit_bytes).any(axis=1))
    groups = (sorted(zip(*np.nonzero(space.valid.any(axis=1)), strict=True)) if enumerated
              else sorted(outcome.evaluated))
    groups = [(int(k), int(n)) for k, n in groups]
    front_lat, points = pareto(grid, "latency")
    front_energy, _ = pareto(grid, "energy")
    all_notes = [*(f"dropped {k}: {v}" for k, v in space.dropped.items()), *space.notes,
                 *notes]
    fast = None if best is not None else fastest(grid)
    min_slo = None if best is not None else smallest_slo(grid)
    rec = Recommendation(
        feasible=best is not None,
        problem=RecProblem.of(problem, space_size=space.size, axes=space.axes(),
                              device=profile.device.name, latency_rule=LATENCY_RULE),
        winner=config_out(grid, profile, best) if best is not None else None,
        fastest=config_out(grid, profile, fast) if fast is not None else None,
        runner_ups=runner_ups(grid, best, groups),
        pareto_latency=front_lat, pareto_energy=front_energy, points=points,
        cross_check=check,
        search=SearchInfo(
            sampler=sampler, seed=seed, trials_requested=trials,
            trials_asked=sampler_only.trials_asked, distinct_groups=sampler_only.distinct,
            groups_total=int(space.valid.any(axis=1).sum()),
            groups_feasible=int(feas.any(axis=(1, 2)).sum()),
            study_trials=outcome.study_trials, storage=storage or "in-memory",
            study_name=outcome.study_name, accuracy_calls=grid.acc_calls,
            wall_s=round(time.perf_counter() - t0, 4)),
        provenance=RecProvenance(
            profile_hash=profile.hash(), device=profile.device.name,
            accuracy_source=accuracy.source, edgeprof_version=__version__,
            timestamp=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            accuracy_kind=getattr(accuracy, "kind", None), accuracy_benchmark=accuracy_benchmark,
            concurrency=int(getattr(profile, "concurrency", 1)),
            kv_cache_dtype=str(getattr(profile, "kv_cache_dtype", "auto"))),
        notes=all_notes, min_slo_s=min_slo)
    rec.provenance.sources = _sources(grid, profile, [*rec.runner_ups, *front_lat,
                                                      *front_energy, *points])
    return rec


#: Accuracy a configuration must reach to count as "admitting a real model" in the
#: infeasible answer (below it a model answers essentially nothing).
USEFUL_ACCURACY = 0.01


def smallest_slo(grid) -> float | None:
    """The smallest latency SLO (at the problem's percentile) that some real (not
    ``-scaled-``) model with accuracy ≥ USEFUL_ACCURACY meets, within the other limits."""
    pr = grid.problem
    ok = grid.valid5() & (grid.mem_check <= pr.memory_limit_bytes)
    for name, v in grid.constraints().items():
        if name not in ("memory",) and not name.startswith("latency"):
            ok &= v <= 0
    real = np.array(["-scaled-" not in m.lower() for m, _ in grid.space.pairs], dtype=bool)
    ok &= real[:, None, None, None]
    if not ok.any():
        return None
    grid.fill_accuracy(ok.any(axis=1))
    useful = np.nan_to_num(grid.acc, nan=0.0) >= USEFUL_ACCURACY
    ok &= useful[:, None]
    if not ok.any():
        return None
    return float(np.where(ok, grid.lat_check, np.inf).min())


def _sources(grid, profile: LatencyModel, cands: list) -> dict[str, RowSources]:
    """Provenance of the accuracy and the latency of each listed ``model/quant``, so that the
    runner-up and Pareto rows (plain numbers) say where their figures come from."""
    pr, out = grid.problem, {}
    for c in cands:
        key = f"{c.model}/{c.quant}"
        if key in out:
            continue
        acc = grid.accuracy.accuracy(c.model, c.quant, c.budget, c.samples, pr.semantics)
        lat = profile.predict(c.model, c.quant, pr.input_tokens, c.budget, batch=c.samples,
                              power_mode=c.power_mode)
        out[key] = RowSources(accuracy=str(acc.provenance), latency=str(lat.e2e_s.provenance))
    return out


def _cross_check(grid, optimum: Pick | None, best: Pick | None, sampler_best: Pick | None,
                 enqueued: set, enumerated: bool, size: int) -> CrossCheck:
    def acc(p: Pick | None) -> float | None:
        return None if p is None else float(grid.acc_at(p.k, p.b, p.n))

    if best is None:
        source = "none"
    elif best.group in enqueued:
        source = "enumeration (enqueued into the study after the sampler missed it)"
    else:
        source = "optuna-sampler"
    regret = None
    if enumerated:
        a_opt, a_s = acc(optimum), acc(sampler_best)
        regret = 0.0 if a_opt is None else (a_opt - (a_s if a_s is not None else 0.0))
    return CrossCheck(
        enumerated=enumerated, space_size=size,
        optimum=candidate(grid, optimum) if optimum is not None else None,
        agrees=(optimum == best) if enumerated else None, winner_source=source,
        sampler_best_accuracy=acc(sampler_best),
        sampler_regret=None if regret is None else round(float(np.float64(regret)), 12))
