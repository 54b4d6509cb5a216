"""Vectorized predictions for the whole space, and accuracy computed lazily with a cache.

Latency, memory and energy come from ``predict_grid`` (one call per pair × power mode);
accuracy comes from the accuracy model one configuration at a time, so it is computed only
where the search asks (see docs/recommend.md, "How the search works").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgeprof.errors import UnsupportedError, UserInputError
from edgeprof.search._problem import Problem
from edgeprof.search._protocols import AccuracyModel, LatencyModel
from edgeprof.search._space import Space

#: Quantile points whose mean approximates the mean longest-of-N output length.
MEAN_POINTS = 8


@dataclass
class Grid:
    """Arrays of shape (K pairs, P power modes, B budgets, N samples)."""

    space: Space
    problem: Problem
    lat_pct: np.ndarray  # e2e at the percentile output length (point value)
    lat_pct_hi: np.ndarray  # upper end of its interval
    lat_mean: np.ndarray  # e2e at the mean output length
    mem: np.ndarray  # peak memory at output = budget
    energy: np.ndarray  # J per request at the mean output length (nan: no power model)
    len_pct: np.ndarray  # (K, B, N) output tokens at the percentile
    len_mean: np.ndarray  # (K, B, N)
    accuracy: AccuracyModel
    acc: np.ndarray  # (K, B, N) point accuracy, nan until computed
    acc_calls: int = 0
    mem_hi: np.ndarray | None = None  # upper end of the memory interval

    # ------------------------------------------------------------------ checked bounds
    @property
    def lat_check(self) -> np.ndarray:
        """Latency at the SLO percentile as checked: its upper ``confidence``-bound (the point
        at confidence 0); feasibility and the ordering rule both use it."""
        if "_lat_check" not in self.__dict__:
            self.__dict__["_lat_check"] = _bound(self.lat_pct, self.lat_pct_hi,
                                                 self.problem.bound_exponent)
        return self.__dict__["_lat_check"]

    @property
    def mem_check(self) -> np.ndarray:
        """Peak memory as checked against the limit: its upper ``confidence``-bound."""
        if "_mem_check" not in self.__dict__:
            hi = self.mem if self.mem_hi is None else self.mem_hi
            self.__dict__["_mem_check"] = _bound(self.mem, hi, self.problem.bound_exponent)
        return self.__dict__["_mem_check"]

    # ------------------------------------------------------------------ constraints
    def constraints(self) -> dict[str, np.ndarray]:
        """Named constraint values; feasible where every one is ≤ 0 (Optuna's convention)."""
        if "_cons" not in self.__dict__:
            self.__dict__["_cons"] = self._constraints()
        return self.__dict__["_cons"]

    def _constraints(self) -> dict[str, np.ndarray]:
        p = self.problem
        out = {f"latency_{p.pct_label}": self.lat_check / p.slo_s - 1.0,
               "memory": self.mem_check / p.memory_limit_bytes - 1.0}
        if p.energy_budget_j is not None:
            e = np.where(np.isnan(self.energy), np.inf, self.energy)
            out["energy"] = e / p.energy_budget_j - 1.0
        return out

    def feasible(self) -> np.ndarray:
        """Bool (K, P, B, N); computed once (do not modify the result)."""
        if "_feas" not in self.__dict__:
            self.__dict__["_feas"] = self._feasible()
        return self.__dict__["_feas"]

    def _feasible(self) -> np.ndarray:
        ok = np.broadcast_to(self.space.valid[:, None], self.lat_pct.shape).copy()
        for v in self.constraints().values():
            ok &= v <= 0
        return ok

    def valid5(self) -> np.ndarray:
        return np.broadcast_to(self.space.valid[:, None], self.lat_pct.shape)

    # ------------------------------------------------------------------ accuracy
    def acc_at(self, k: int, b: int, n: int) -> float:
        if math.isnan(self.acc[k, b, n]):
            m, q = self.space.pairs[k]
            est = self.accuracy.accuracy(m, q, self.space.budgets[b], self.space.samples[n],
                                         self.problem.semantics)
            self.acc[k, b, n] = est.value
            self.acc_calls += 1
        return float(self.acc[k, b, n])

    def fill_accuracy(self, mask: np.ndarray) -> None:
        """Compute accuracy wherever ``mask`` (K, B, N) is set and it is not known yet."""
        for k, b, n in zip(*np.nonzero(mask & np.isnan(self.acc)), strict=True):
            self.acc_at(int(k), int(b), int(n))


def _bound(value: np.ndarray, hi: np.ndarray, exponent: float) -> np.ndarray:
    """value · (hi / value) ** exponent where hi > value > 0 (see ``Problem.confidence``)."""
    if exponent == 0:
        return value
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where((value > 0) & (hi > value) & np.isfinite(hi), hi / value, 1.0)
        return value * ratio ** exponent


def _lengths(accuracy: AccuracyModel, space: Space, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile and mean longest-of-N output length per (pair, budget, samples).

    The length is capped at the budget, so its quantile at budget b is min(uncapped, b): one
    ``length_quantile`` call at the largest budget per (pair, N) serves every budget.
    """
    budgets = np.array(space.budgets, dtype=float)
    top = int(budgets.max())
    qs = (np.arange(MEAN_POINTS) + 0.5) / MEAN_POINTS
    k_, n_ = len(space.pairs), len(space.samples)
    pct = np.zeros((k_, n_))
    pts = np.zeros((k_, n_, MEAN_POINTS))
    for k, (m, quant) in enumerate(space.pairs):
        for j, n in enumerate(space.samples):
            if not space.valid[k, :, j].any():
                continue
            pct[k, j] = accuracy.length_quantile(m, quant, top, n, q)
            pts[k, j] = [accuracy.length_quantile(m, quant, top, n, float(x)) for x in qs]
    len_pct = np.minimum(pct[:, None, :], budgets[None, :, None])
    len_mean = np.minimum(pts[:, None, :, :], budgets[None, :, None, None]).mean(axis=-1)
    return np.maximum(len_pct, 1.0), np.maximum(len_mean, 1.0)


def evaluate_grid(profile: LatencyModel, accuracy: AccuracyModel, space: Space,
                  problem: Problem) -> Grid:
    """Predict every configuration's latency, memory and energy (vectorized)."""
    k_, p_, b_, n_ = space.shape
    len_pct, len_mean = _lengths(accuracy, space, problem.quantile)
    budgets = np.broadcast_to(np.array(space.budgets, dtype=float)[:, None], (b_, n_))
    batch = np.broadcast_to(np.array(space.samples, dtype=float)[None, :], (b_, n_))
    shape = (k_, p_, b_, n_)
    arrays = {name: np.full(shape, np.inf) for name in ("lat_pct", "lat_pct_hi", "lat_mean",
                                                          "mem", "mem_hi")}
    energy = np.full(shape, np.nan)
    keep = np.ones(k_, dtype=bool)
    size = b_ * n_
    for k, (m, q) in enumerate(space.pairs):
        outs = np.concatenate([len_pct[k].ravel(), len_mean[k].ravel(), budgets.ravel()])
        bs = np.tile(batch.ravel(), 3)
        for p, mode in enumerate(space.power_modes):
            try:
                g = profile.predict_grid(m, q, problem.input_tokens, outs, bs, power_mode=mode)
            except UnsupportedError as exc:
                space.dropped[f"{m}/{q}"] = str(exc)
                keep[k] = False
                break
            e2e, hi = np.asarray(g["e2e_s"], float), np.asarray(g["e2e_hi"], float)
            arrays["lat_pct"][k, p] = e2e[:size].reshape(b_, n_)
            arrays["lat_pct_hi"][k, p] = hi[:size].reshape(b_, n_)
            arrays["lat_mean"][k, p] = e2e[size:2 * size].reshape(b_, n_)
            arrays["mem"][k, p] = np.asarray(g["peak_mem_bytes"], float)[2 * size:].reshape(
                b_, n_)
            mem_hi = g.get("mem_hi", g["peak_mem_bytes"])
            arrays["mem_hi"][k, p] = np.asarray(mem_hi, float)[2 * size:].reshape(b_, n_)
            en = g.get("energy_j")
            if en is not None:
                energy[k, p] = np.asarray(en, float)[size:2 * size].reshape(b_, n_)
    if not keep.any():
        raise UserInputError("The profile cannot predict any (model, quant) pair: "
                             + "; ".join(space.dropped.values()))
    space.valid[~keep] = False
    if problem.energy_budget_j is not None and np.isnan(energy[keep]).all():
        raise UserInputError("The profile has no power model, so --energy-budget cannot be "
                             "checked; fit with power telemetry or drop --energy-budget.")
    return Grid(space=space, problem=problem, energy=energy, len_pct=len_pct,
                len_mean=len_mean, accuracy=accuracy,
                acc=np.full((k_, b_, n_), np.nan), **arrays)
