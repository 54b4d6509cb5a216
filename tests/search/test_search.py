"""The search finds the enumerated optimum; constraints reach Optuna; ties and infeasibility."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeprof.errors import InfeasibleError, UserInputError
from edgeprof.search import Problem, recommend
from edgeprof.search._grid import evaluate_grid
from edgeprof.search._solve import enumerate_optimum
from edgeprof.search._space import build_space
from edgeprof.search._study import GroupStudy
from edgeprof.search._synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

MODELS = {"a-1b": 1.0, "b-3b": 3.0, "c-8b": 8.0}


def make(seed: int = 0, modes: int = 2) -> tuple[SyntheticProfile, SyntheticAccuracy]:
    rng = np.random.default_rng(seed)
    dev = synthetic_device(memory_gib=float(rng.uniform(4, 24)),
                           modes=tuple((f"M{i}", 1.0 - 0.3 * i) for i in range(modes)))
    prof = SyntheticProfile({m: p * float(rng.uniform(0.5, 1.5)) for m, p in MODELS.items()},
                            device=dev)
    acc = SyntheticAccuracy({m: float(rng.uniform(0.2, 0.9)) for m in MODELS},
                            {m: float(rng.uniform(200, 1500)) for m in MODELS}, samples_max=6)
    return prof, acc


def brute_force(prof, acc, problem, budgets):
    """Independent scalar check: loop over every configuration with predict()."""
    best = None
    for m, q in acc.pairs():
        for mode in prof.power_modes():
            for b in budgets:
                for n in range(1, acc.samples_max + 1):
                    length = acc.length_quantile(m, q, b, n, problem.quantile)
                    lat = prof.predict(m, q, problem.input_tokens, max(1, round(length)),
                                       n, mode).e2e_s.value
                    mem = prof.predict(m, q, problem.input_tokens, b, n, mode)
                    if lat > problem.slo_s or mem.peak_mem_bytes.value > \
                            problem.memory_limit_bytes:
                        continue
                    a = round(acc.accuracy(m, q, b, n).value, 12)
                    key = (-a, lat)
                    if best is None or key < best[0]:
                        best = (key, (m, q, b, n))
    return best


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), slo=st.floats(1.0, 120.0),
       sampler=st.sampled_from(["tpe", "random", "grid"]))
def test_search_finds_enumerated_optimum(seed: int, slo: float, sampler: str) -> None:
    prof, acc = make(seed)
    budgets = [128, 256, 512, 1024, 2048]
    problem = Problem(slo_s=slo, input_tokens=200, memory_limit_bytes=prof.device.memory_bytes)
    rec = recommend(prof, acc, problem, budgets=budgets, trials=200, seed=seed,
                    sampler=sampler, seed_with_enumeration=False)
    brute = brute_force(prof, acc, problem, budgets)
    if brute is None:
        assert not rec.feasible and rec.fastest is not None
        return
    w = rec.winner
    assert w is not None
    # enough trials to cover every group: the sampler alone must reach the optimum
    assert rec.cross_check.agrees and rec.cross_check.sampler_regret == 0.0
    assert rec.cross_check.winner_source == "optuna-sampler"
    assert (w.model, w.quant, w.samples) == (*brute[1][:2], brute[1][3])
    assert round(w.accuracy.value, 9) == round(-brute[0][0], 9)
    assert w.latency_pct.value <= slo * (1 + 1e-9) and w.feasible


def test_nsga2_with_enumeration_seed_agrees() -> None:
    prof, acc = make(7)
    problem = Problem(slo_s=20, input_tokens=200, memory_limit_bytes=prof.device.memory_bytes)
    rec = recommend(prof, acc, problem, budgets=[256, 1024], trials=30, sampler="nsga2")
    assert rec.cross_check.agrees


def test_few_trials_are_rescued_by_enumeration_and_said_so() -> None:
    prof, acc = make(3)
    problem = Problem(slo_s=30, input_tokens=200, memory_limit_bytes=prof.device.memory_bytes)
    rec = recommend(prof, acc, problem, trials=1, seed=0, sampler="random")
    assert rec.cross_check.agrees
    assert rec.cross_check.sampler_regret is not None
    if rec.cross_check.sampler_regret > 0:  # one random trial missed: enumeration says so
        assert rec.cross_check.winner_source.startswith("enumeration")
    else:
        assert rec.cross_check.winner_source == "optuna-sampler"


def test_constraints_are_set_on_optuna_trials() -> None:
    prof, acc = make(1)
    space = build_space(acc, power_modes=prof.power_modes(), budgets=[256, 1024, 4096])
    grid = evaluate_grid(prof, acc, space, Problem(slo_s=5, input_tokens=100,
                                                  memory_limit_bytes=8 * 2**30))
    gs = GroupStudy(grid, sampler="random", seed=0, fingerprint="f")
    gs.run(10)
    trials = gs.study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    assert trials and all("latency_p95" in t.constraints and "memory" in t.constraints
                          for t in trials)
    feasible = [t for t in trials if all(v <= 0 for v in t.constraints.values())]
    infeasible = [t for t in trials if any(v > 0 for v in t.constraints.values())]
    assert feasible and infeasible  # SLO 5 s splits this space: both kinds are seen
    assert gs.study.best_trial.number in {t.number for t in feasible}


def test_duplicates_are_not_reevaluated() -> None:
    prof, acc = make(2)
    space = build_space(acc, power_modes=prof.power_modes(), budgets=[256, 1024])
    grid = evaluate_grid(prof, acc, space, Problem(slo_s=50, input_tokens=100,
                                                  memory_limit_bytes=8 * 2**30))
    gs = GroupStudy(grid, sampler="tpe", seed=0, fingerprint="f")
    out = gs.run(1000, max_asks=400)
    groups = int(space.valid.any(axis=1).sum())
    assert out.distinct == groups == len(gs.cache)
    assert grid.acc_calls <= groups * len(space.budgets)


def test_enumeration_breaks_accuracy_ties_by_latency() -> None:
    prof, acc = make(4)
    acc.skill = dict.fromkeys(MODELS, 0.5)  # every model equally accurate
    space = build_space(acc, power_modes=prof.power_modes(), budgets=[8192])
    problem = Problem(slo_s=1e6, input_tokens=100, memory_limit_bytes=10**15)
    grid = evaluate_grid(prof, acc, space, problem)
    best = enumerate_optimum(grid)
    feas = grid.feasible()
    top = np.nanmax(np.where(feas, grid.acc[:, None], -1))
    same = feas & np.isclose(grid.acc[:, None], top, rtol=0, atol=1e-12)
    assert grid.lat_pct[best.k, best.p, best.b, best.n] == grid.lat_pct[same].min()


def test_infeasible_names_the_fastest() -> None:
    prof, acc = make(5)
    problem = Problem(slo_s=1e-4, input_tokens=100, memory_limit_bytes=prof.device.memory_bytes)
    rec = recommend(prof, acc, problem, trials=5)
    assert not rec.feasible and rec.winner is None
    assert rec.fastest is not None and rec.fastest.latency_pct.value > 1e-4
    # the named configuration is the fastest in the whole space (brute force over the grid)
    space = build_space(acc, power_modes=prof.power_modes())
    grid = evaluate_grid(prof, acc, space, problem)
    fits = grid.valid5() & (grid.mem <= problem.memory_limit_bytes)
    assert rec.fastest.latency_pct.value == pytest.approx(float(grid.lat_pct[fits].min()))
    assert InfeasibleError.exit_code == 4


def test_shared_study_rejects_another_problem(tmp_path) -> None:
    prof, acc = make(6)
    url = f"sqlite:///{tmp_path}/s.db"
    p1 = Problem(slo_s=10, input_tokens=100, memory_limit_bytes=8 * 2**30)
    r1 = recommend(prof, acc, p1, trials=5, storage=url, study_name="s", budgets=[256, 512])
    r2 = recommend(prof, acc, p1, trials=5, storage=url, study_name="s", budgets=[256, 512],
                   seed=1)
    assert r2.search.study_trials >= r1.search.study_trials + 1
    with pytest.raises(UserInputError, match="another problem"):
        recommend(prof, acc, Problem(slo_s=20, input_tokens=100, memory_limit_bytes=8 * 2**30),
                  trials=2, storage=url, study_name="s", budgets=[256, 512])


def test_unknown_sampler_is_a_user_error() -> None:
    prof, acc = make(0)
    with pytest.raises(UserInputError, match="--sampler"):
        recommend(prof, acc, Problem(slo_s=1, input_tokens=10, memory_limit_bytes=2**30),
                  sampler="cmaes")
