"""The accuracy model's arithmetic: budget curves, length distributions, difficulty spreads.

Budget: the fraction of questions a model answers correctly within B tokens is modeled as
``acc(B) = A · Φ((ln B − μ) / σ)``: a monotone saturating curve in log budget, which is
also the truncation model ``acc(∞) · P(length of a correct answer ≤ B)`` for a lognormal
length. μ, σ are fitted (scipy) where a source publishes the same model at several budgets;
where it publishes only an average output length L, ``μ = ln L − σ²/2`` with σ assumed
(:data:`SIGMA`, a band, not a measurement).

Samples: each question has its own probability p of a correct sample, spread over questions
as Beta(m κ, (1 − m) κ) with m = pass@1. κ is fitted to published pass@k or cons@k. pass@N
is exact under that spread; majority@N assumes a share ρ of each question's wrong samples
agree on one wrong answer (the rest scatter and never win), ρ in a band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

#: Lognormal dispersion of output lengths assumed where only a mean is published: point and
#: band (our assumption; documented in docs/accuracy.md).
SIGMA = (0.8, 0.5, 1.2)
#: Mean length of a correct answer relative to the mean of all answers: point (pessimistic:
#: equal) and the optimistic end of the band (correct answers are the shorter ones).
CORRECT_SHARE = (1.0, 0.6)
#: Share of a question's wrong samples that agree on its most common wrong answer.
RHO = (0.25, 0.1, 0.5)
#: Largest |model − published| accepted for a κ fit; beyond it the spread model is refused.
MAX_MISFIT = 0.03
#: Bins of p for integrating over the Beta spread: exact bin masses from the Beta CDF (a
#: quadrature on the density fails for the U-shaped spreads hard benchmarks give).
_EDGES = np.unique(np.concatenate([[0.0], np.logspace(-8, -1, 40), np.linspace(0.1, 0.9, 81),
                                   1.0 - np.logspace(-1, -8, 40), [1.0]]))
_P = 0.5 * (_EDGES[1:] + _EDGES[:-1])


@dataclass(frozen=True)
class BudgetCurve:
    """``A · Φ((ln B − μ)/σ)``; ``band`` holds (μ, σ) pairs spanning the uncertainty."""

    mu: float
    sigma: float
    band: tuple[tuple[float, float], ...]
    fitted: bool  # True: fitted to published budget points; False: from a mean length

    def fraction(self, budget: float) -> float:
        return float(stats.norm.cdf((math.log(budget) - self.mu) / self.sigma))

    def fraction_range(self, budget: float) -> tuple[float, float]:
        vals = [float(stats.norm.cdf((math.log(budget) - m) / s)) for m, s in self.band]
        vals.append(self.fraction(budget))
        return min(vals), max(vals)

    def length_quantile(self, q: float, samples: int = 1) -> float:
        """Quantile q of the longest of ``samples`` lengths (all answers, lognormal)."""
        z = float(stats.norm.ppf(min(q, 1.0 - 1e-12) ** (1.0 / samples)))
        return math.exp(self.mu + self.sigma * z)


def curve_from_mean_length(mean_tokens: float) -> BudgetCurve:
    """The truncation model from a published mean output length (σ assumed, see SIGMA)."""
    s0, s_lo, s_hi = SIGMA
    c0, c_lo = CORRECT_SHARE
    band = tuple((math.log(mean_tokens * c) - s * s / 2.0, s)
                 for s in (s_lo, s0, s_hi) for c in (c0, c_lo))
    return BudgetCurve(mu=math.log(mean_tokens * c0) - s0 * s0 / 2.0, sigma=s0, band=band,
                       fitted=False)


def fit_budget_curve(budgets: list[int], fractions: list[float],
                     mean_tokens: float | None = None) -> BudgetCurve:
    """Fit μ (and σ with ≥ 2 points below saturation) to acc(B)/acc(∞) at published budgets.

    ``fractions`` are accuracies divided by the full-budget accuracy, clipped to (0, 1).
    """
    lb = np.log(np.asarray(budgets, dtype=float))
    fr = np.clip(np.asarray(fractions, dtype=float), 1e-4, 1.0 - 1e-4)
    z = stats.norm.ppf(fr)
    s0, s_lo, s_hi = SIGMA
    if len(lb) >= 2:
        res = optimize.least_squares(
            lambda th: stats.norm.cdf((lb - th[0]) / th[1]) - fr,
            x0=[float(np.mean(lb - s0 * z)), s0], bounds=([0.0, 0.2], [20.0, 3.0]))
        mu, sigma = float(res.x[0]), float(res.x[1])
        band = tuple((float(np.mean(lb - s * z)), s) for s in (max(0.2, sigma * 0.6),
                                                               sigma * 1.5))
    else:
        mu, sigma = float(lb[0] - s0 * z[0]), s0
        band = tuple((float(lb[0] - s * z[0]), s) for s in (s_lo, s_hi))
    if mean_tokens is not None:
        band = band + curve_from_mean_length(mean_tokens).band
    return BudgetCurve(mu=mu, sigma=sigma, band=band, fitted=True)


# ---------------------------------------------------------------------------- samples (N)
def _beta_weights(mean: float, kappa: float) -> np.ndarray:
    a, b = max(mean * kappa, 1e-6), max((1.0 - mean) * kappa, 1e-6)
    w = np.diff(stats.beta.cdf(_EDGES, a, b))
    return w / w.sum()


def pass_at(mean: float, kappa: float, n: int) -> float:
    """E[1 − (1 − p)^n] for p ~ Beta(mean κ, (1 − mean) κ) (exact, via the Beta function)."""
    if mean <= 0.0:
        return 0.0
    if mean >= 1.0:
        return 1.0
    a, b = mean * kappa, (1.0 - mean) * kappa
    return float(1.0 - math.exp(special.betaln(a, b + n) - special.betaln(a, b)))


def _majority_p(p: np.ndarray, n: int, rho: float) -> np.ndarray:
    """P(the correct answer wins the vote) for per-sample probability p, with the vote rule
    of :mod:`edgeprof.accuracy._vote`: most votes wins, ties broken uniformly at random.

    Correct x votes, the common wrong answer y, the other n − x − y samples all different
    (one vote each): x ≥ 2 wins against y < x, ties y = x at ½; x = 1 ties with every
    single-vote answer (n of them) when y ≤ 1."""
    q = rho * (1.0 - p)
    r = np.clip(1.0 - p - q, 0.0, 1.0)
    x = np.arange(n + 1)
    lg = special.gammaln
    out = np.zeros_like(p)
    for xi in x[1:]:
        y = x[: n - xi + 1]
        coef = np.exp(lg(n + 1) - lg(xi + 1) - lg(y + 1) - lg(n - xi - y + 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = (coef[None, :] * p[:, None] ** xi * q[:, None] ** y[None, :]
                     * r[:, None] ** (n - xi - y[None, :]))
        if xi == 1:
            win = np.where(y <= 1, 1.0 / n, 0.0)
        else:
            win = np.where(y < xi, 1.0, np.where(y == xi, 0.5, 0.0))
        out += np.nansum(terms * win[None, :], axis=1)
    return out


@lru_cache(maxsize=1024)
def _majority_table(n: int, rho: float) -> np.ndarray:
    return _majority_p(_P, n, rho)


@lru_cache(maxsize=65536)
def _majority_cached(mean: float, kappa: float, n: int, rho: float) -> float:
    return float(np.dot(_beta_weights(mean, kappa), _majority_table(n, rho)))


def majority_at(mean: float, kappa: float, n: int, rho: float = RHO[0]) -> float:
    """Majority-vote accuracy with n samples under the Beta difficulty spread."""
    if n == 1 or mean <= 0.0:
        return float(max(mean, 0.0))
    return _majority_cached(round(float(mean), 5), round(float(kappa), 6), int(n),
                            float(rho))


def fit_kappa(mean: float, observed: list[tuple[int, float, str]],
              rho: float = RHO[0]) -> float | None:
    """κ matching published (n, accuracy, "pass" | "majority") points; None if none fit."""
    if not observed or not 0.0 < mean < 1.0:
        return None

    def loss(log_k: float) -> float:
        k = math.exp(log_k)
        return sum((pass_at(mean, k, n) if how == "pass" else majority_at(mean, k, n, rho))
                   - acc for n, acc, how in observed)

    grid = np.linspace(math.log(0.05), math.log(200.0), 40)
    sq = [sum(((pass_at(mean, math.exp(g), n) if how == "pass" else
                majority_at(mean, math.exp(g), n, rho)) - acc) ** 2
              for n, acc, how in observed) for g in grid]
    best = float(grid[int(np.argmin(sq))])
    vals = [loss(g) for g in grid]
    for i in range(len(grid) - 1):  # refine at a sign change next to the best grid point
        near = abs(grid[i] - best) <= 2 * (grid[1] - grid[0])
        if near and (vals[i] == 0 or vals[i] * vals[i + 1] < 0):
            best = float(optimize.brentq(loss, grid[i], grid[i + 1]))
            break
    k = math.exp(best)
    fit = [(pass_at(mean, k, n) if how == "pass" else majority_at(mean, k, n, rho)) - acc
           for n, acc, how in observed]
    return k if max(abs(x) for x in fit) <= MAX_MISFIT else None
