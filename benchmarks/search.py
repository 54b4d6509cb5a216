"""Search benchmark: wall time and regret vs exhaustive enumeration for spaces of 10^2..10^5.

Uses the synthetic latency and accuracy models (edgeprof.search._synthetic), so it measures the
search itself, not a profile. Prints JSON. Run: ``python benchmarks/search.py [--trials 100]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from edgeprof.search import (
    Problem,
    SyntheticAccuracy,
    SyntheticProfile,
    build_space,
    enumerate_optimum,
    evaluate_grid,
    recommend,
    synthetic_device,
)

# (models, budgets, samples, power modes); 3 quants each
SHAPES = {100: (2, 4, 4, 1), 1000: (3, 8, 12, 1), 10_000: (4, 13, 16, 4),
          100_000: (8, 32, 16, 8)}


def instance(models: int, modes: int, seed: int) -> tuple[SyntheticProfile, SyntheticAccuracy]:
    rng = np.random.default_rng(seed)
    names = [f"m{i}-{s:.1f}b" for i, s in enumerate(np.geomspace(0.5, 14, models))]
    sizes = dict(zip(names, np.geomspace(0.5, 14, models), strict=True))
    dev = synthetic_device(memory_gib=16, modes=tuple((f"P{i}", 1 - 0.08 * i)
                                                      for i in range(modes)))
    prof = SyntheticProfile({n: float(s) for n, s in sizes.items()}, device=dev)
    acc = SyntheticAccuracy({n: float(min(0.95, 0.3 + 0.04 * s + rng.uniform(0, 0.05)))
                             for n, s in sizes.items()},
                            {n: float(rng.uniform(400, 1500)) for n in names})
    return prof, acc


def run(target: int, trials: int, seed: int, sampler: str) -> dict:
    models, n_budgets, n_samples, modes = SHAPES[target]
    prof, acc = instance(models, modes, seed)
    acc.samples_max = n_samples
    budgets = [int(b) for b in np.unique(np.geomspace(64, 16384, n_budgets).astype(int))]
    problem = Problem(slo_s=30.0, input_tokens=512, memory_limit_bytes=16 * 2**30)
    t0 = time.perf_counter()
    rec = recommend(prof, acc, problem, budgets=budgets, trials=trials, seed=seed,
                    sampler=sampler)
    wall = time.perf_counter() - t0
    # regret of the returned winner against exhaustive enumeration (timed separately)
    space = build_space(acc, power_modes=prof.power_modes(), budgets=budgets)
    grid = evaluate_grid(prof, acc, space, problem)
    t1 = time.perf_counter()
    opt = enumerate_optimum(grid)
    enum_s = time.perf_counter() - t1
    best = grid.acc_at(opt.k, opt.b, opt.n) if opt else None
    won = rec.winner.accuracy.value if rec.winner else None
    return {"space": rec.problem.space_size, "wall_s": round(wall, 3),
            "enumeration_s": round(enum_s, 3), "enumerated_in_search": rec.cross_check.enumerated,
            "regret": None if best is None or won is None else round(best - won, 6),
            "sampler_only_regret": rec.cross_check.sampler_regret,
            "winner_source": rec.cross_check.winner_source,
            "groups": rec.search.groups_total, "groups_evaluated": rec.search.distinct_groups,
            "trials_asked": rec.search.trials_asked, "accuracy_calls": rec.search.accuracy_calls}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sampler", default="tpe")
    args = ap.parse_args()
    rows = [run(t, args.trials, args.seed, args.sampler) for t in SHAPES]
    print(json.dumps({"benchmark": "search", "sampler": args.sampler, "trials": args.trials,
                      "results": rows}, indent=2))


if __name__ == "__main__":
    main()
