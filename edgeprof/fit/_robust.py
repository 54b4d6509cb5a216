"""Robust least squares on relative residuals, outlier flags, k-fold CV and intervals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import least_squares

Model = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (params, X) -> predictions

# A point is an outlier when its relative residual is this many robust sigmas off the
# median AND at least OUTLIER_MIN_REL away (so clean, tight data never flags points).
OUTLIER_SIGMAS = 5.0
OUTLIER_MIN_REL = 0.2


def robust_fit(model: Model, X: np.ndarray, y: np.ndarray, x0: np.ndarray,
               lower: np.ndarray, upper: np.ndarray, f_scale: float = 0.02) -> np.ndarray:
    """Fit ``model`` to ``y`` minimizing a soft-L1 loss of the relative residuals."""
    scale = np.maximum(np.abs(x0), 1e-12)

    def res(z: np.ndarray) -> np.ndarray:
        return model(z * scale, X) / y - 1.0

    z0 = np.clip(x0, lower, upper) / scale
    fit = least_squares(res, z0, loss="soft_l1", f_scale=f_scale,
                        bounds=(lower / scale, upper / scale), x_scale="jac")
    return np.asarray(fit.x * scale, dtype=float)


def relative_residuals(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.asarray(pred, float) / np.asarray(y, float) - 1.0


def flag_outliers(rel: np.ndarray) -> np.ndarray:
    """Boolean mask of outliers by a MAD rule on relative residuals."""
    rel = np.asarray(rel, float)
    if rel.size < 4:
        return np.zeros(rel.shape, bool)
    med = np.median(rel)
    mad = 1.4826 * np.median(np.abs(rel - med))
    dev = np.abs(rel - med)
    return (dev > OUTLIER_SIGMAS * mad) & (dev > OUTLIER_MIN_REL)


def kfold_mape(fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int,
               y: np.ndarray, k: int = 5, seed: int = 0) -> tuple[float, np.ndarray]:
    """k-fold CV: mean |relative error| on held-out folds and every held-out residual."""
    if n < 4:
        return float("nan"), np.zeros(0)
    k = min(k, n)
    idx = np.random.default_rng(seed).permutation(n)
    rel = np.empty(n)
    for fold in np.array_split(idx, k):
        train = np.ones(n, bool)
        train[fold] = False
        rel[fold] = relative_residuals(fit_predict(train, fold), y[fold])
    return float(np.mean(np.abs(rel))), rel


def interval_from_residuals(rel: np.ndarray, level: float = 0.9,
                            floor: float = 0.02) -> tuple[float, float]:
    """Relative (lo, hi) multipliers from empirical quantiles of held-out residuals.

    Prediction = truth·(1+r), so truth = prediction/(1+r): the bounds invert the quantiles.
    """
    rel = np.asarray(rel, float)
    rel = rel[np.isfinite(rel)]
    if rel.size < 3:
        return 1.0 - 0.25, 1.0 + 0.25
    a = (1 - level) / 2
    q_lo, q_hi = np.quantile(rel, [a, 1 - a])
    lo = min(1.0 / (1.0 + q_hi), 1.0 - floor)
    hi = max(1.0 / (1.0 + max(q_lo, -0.9)), 1.0 + floor)
    return float(lo), float(hi)


def widen(lo: float | np.ndarray, hi: float | np.ndarray,
          factor: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widen relative bounds by ``factor`` ≥ 1 (extrapolation)."""
    lo_a, hi_a = np.asarray(lo, float), np.asarray(hi, float)
    return 1.0 - (1.0 - lo_a) * factor, 1.0 + (hi_a - 1.0) * factor


def extrapolation_factor(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """1 inside [lo, hi]; grows by 1 per doubling (or halving) outside it."""
    x = np.asarray(x, float)
    over = np.log2(np.maximum(x, 1e-9) / max(hi, 1e-9))
    under = np.log2(max(lo, 1e-9) / np.maximum(x, 1e-9))
    return 1.0 + np.maximum(0.0, over) + np.maximum(0.0, under)
