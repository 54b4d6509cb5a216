"""The Optuna study over groups (pair × samples), with the inner solve per trial.

Each trial suggests ``model``, ``quant`` and ``samples``; the inner solve
(:func:`~edgeprof.search._solve.group_best`) picks the group's budget and power mode from the
vectorized grid. Constraints go to Optuna with ``Trial.set_constraint`` (Optuna ≥ 5; feasible
when every value ≤ 0). Every group is evaluated once: a repeated suggestion is told the
cached result and does not count toward ``trials``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState

from edgeprof.errors import UserInputError
from edgeprof.search._grid import Grid
from edgeprof.search._solve import Pick, group_best, group_closest, rank_key

SAMPLERS = ("tpe", "nsga2", "random", "grid")
_FINGERPRINT = "edgeprof_problem"


@dataclass
class StudyOutcome:
    best: Pick | None
    evaluated: dict[tuple[int, int], Pick] = field(default_factory=dict)  # group -> config
    trials_asked: int = 0
    distinct: int = 0
    study_trials: int = 0
    from_sampler: set[tuple[int, int]] = field(default_factory=set)
    enqueued: set[tuple[int, int]] = field(default_factory=set)
    wall_s: float = 0.0
    study_name: str = ""


def make_sampler(name: str, seed: int | None, grid: Grid) -> optuna.samplers.BaseSampler:
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=10)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=20)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return _GridSampler(_search_space(grid), seed=seed)
    raise UserInputError(f"Unknown --sampler {name!r}; choose one of {', '.join(SAMPLERS)}.")


class _GridSampler(optuna.samplers.GridSampler):
    """GridSampler whose exhaustion does not call ``study.stop`` (which only works inside
    ``optimize``); the ask/tell loop checks ``is_exhausted`` itself."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        return None


def _search_space(grid: Grid) -> dict[str, list[Any]]:
    s = grid.space
    return {"model": sorted({m for m, _ in s.pairs}), "quant": sorted({q for _, q in s.pairs}),
            "samples": list(s.samples)}


def _distributions(grid: Grid) -> dict[str, CategoricalDistribution]:
    return {k: CategoricalDistribution(v) for k, v in _search_space(grid).items()}


class GroupStudy:
    """Runs trials on one Optuna study; several processes may share it through storage."""

    def __init__(self, grid: Grid, *, sampler: str = "tpe", seed: int | None = 0,
                 storage: str | None = None, study_name: str | None = None,
                 fingerprint: str = "") -> None:
        optuna.logging.set_verbosity(logging.WARNING)
        self.grid = grid
        self.feas = grid.feasible()
        self.pair_index = {p: i for i, p in enumerate(grid.space.pairs)}
        self.n_index = {n: j for j, n in enumerate(grid.space.samples)}
        self.dists = _distributions(grid)
        chosen = make_sampler(sampler, seed, grid)  # its own one-line error for a bad name
        try:
            from edgeprof.search._storage import create_study

            self.study = create_study(
                storage, sampler=chosen,
                study_name=study_name, direction="maximize", load_if_exists=True)
        except (ValueError, ImportError, RuntimeError) as exc:
            raise UserInputError(f"Cannot open the study at --storage {storage!r} ({exc}); "
                                 f"give an RDB URL like sqlite:///study.db.") from None
        have = self.study.user_attrs.get(_FINGERPRINT)
        if have is None:
            self.study.set_user_attr(_FINGERPRINT, fingerprint)
        elif have != fingerprint:
            raise UserInputError(f"Study {self.study.study_name!r} was created for another "
                                 f"problem (SLO, data or axes differ); use a new --study-name.")
        self.cache: dict[tuple[int, int], tuple[Pick | None, float, dict[str, float]]] = {}

    # ------------------------------------------------------------------ one group
    def evaluate(self, group: tuple[int, int]) -> tuple[Pick | None, float, dict[str, float]]:
        """(config, accuracy, constraints) of a group, computed once."""
        if group in self.cache:
            return self.cache[group]
        k, n = group
        pick = group_best(self.grid, self.feas, k, n)
        shown = pick or group_closest(self.grid, k, n)
        if shown is None:  # samples beyond what the data has for this pair
            result = (None, 0.0, {"available": 1.0})
        else:
            cons = {name: float(v[shown.k, shown.p, shown.b, shown.n])
                    for name, v in self.grid.constraints().items()}
            cons = {name: min(v, 1e12) for name, v in cons.items()}
            result = (shown, self.grid.acc_at(shown.k, shown.b, shown.n), cons)
        self.cache[group] = result
        return result

    def _group_of(self, params: dict[str, Any]) -> tuple[int, int] | None:
        k = self.pair_index.get((params["model"], params["quant"]))
        return None if k is None else (k, self.n_index[params["samples"]])

    def _tell(self, trial: optuna.Trial, group: tuple[int, int] | None) -> None:
        if group is None:  # the accuracy data has no such (model, quant) pair
            trial.set_constraint("available", 1.0)
            self.study.tell(trial, 0.0)
            return
        pick, acc, cons = self.evaluate(group)
        for name, value in cons.items():
            trial.set_constraint(name, value)
        if pick is not None:
            s = self.grid.space
            trial.set_user_attr("budget", s.budgets[pick.b])
            trial.set_user_attr("power_mode", s.power_modes[pick.p])
            trial.set_user_attr("latency_s", float(self.grid.lat_check[pick.k, pick.p, pick.b,
                                                                      pick.n]))
        self.study.tell(trial, acc)

    # ------------------------------------------------------------------ the loop
    def run(self, trials: int, enqueue: list[Pick] | None = None,
            max_asks: int | None = None) -> StudyOutcome:
        """Evaluate up to ``trials`` distinct groups proposed by the sampler, then any
        ``enqueue`` configurations not yet seen (the enumerated optimum, flagged)."""
        t0 = time.perf_counter()
        out = StudyOutcome(best=None, study_name=self.study.study_name)
        seen = self._seen()
        total_groups = int(self.grid.space.valid.any(axis=1).sum())
        max_asks = max_asks or 10 * max(trials, 1)
        while out.distinct < trials and out.trials_asked < max_asks and len(seen) < total_groups:
            trial = self.study.ask(self.dists)
            out.trials_asked += 1
            group = self._group_of(trial.params)
            if group is not None and group not in seen:
                seen.add(group)
                out.distinct += 1
                out.from_sampler.add(group)
            self._tell(trial, group)
            sampler = self.study.sampler
            if isinstance(sampler, optuna.samplers.GridSampler) and \
                    sampler.is_exhausted(self.study):
                break
        for pick in enqueue or []:
            if pick.group in seen:
                continue
            k, n = pick.group
            m, q = self.grid.space.pairs[k]
            self.study.enqueue_trial({"model": m, "quant": q,
                                      "samples": self.grid.space.samples[n]},
                                     user_attrs={"source": "enumeration"})
            trial = self.study.ask(self.dists)
            self._tell(trial, pick.group)
            seen.add(pick.group)
            out.enqueued.add(pick.group)
        out.best, out.evaluated = self._best()
        out.study_trials = len(self.study.trials)
        out.wall_s = time.perf_counter() - t0
        return out

    def _seen(self) -> set[tuple[int, int]]:
        done = self.study.get_trials(deepcopy=False, states=[TrialState.COMPLETE])
        return {g for t in done if (g := self._group_of(t.params)) is not None}

    def _best(self) -> tuple[Pick | None, dict[tuple[int, int], Pick]]:
        """Best feasible trial of the whole study (all workers), same order as enumeration."""
        evaluated: dict[tuple[int, int], Pick] = {}
        for group in self._seen():
            pick, _, _ = self.evaluate(group)
            if pick is not None:
                evaluated[group] = pick
        best: Pick | None = None
        best_key: tuple[float, float, Pick] | None = None
        for group, pick in evaluated.items():
            if any(v > 0 for v in self.evaluate(group)[2].values()):
                continue
            key = rank_key(self.grid, pick)
            if best_key is None or key < best_key:
                best, best_key = pick, key
        return best, evaluated
