"""Fitters for one (model, quant, engine, power mode): prefill, decode, memory, power.

scikit-learn style: the constructor stores parameters, ``fit(X, y)`` learns attributes that
end in ``_`` and returns ``self``, ``predict`` before ``fit`` raises :class:`NotFittedError`.
``X`` has the columns ``input_tokens, output_tokens, batch`` (power: ``seconds`` or
``input_tokens, batch``). Every fit records coefficients, the ranges it saw, k-fold CV MAPE,
an extrapolation check (fit on the short half, test on the long half), a residual-based
interval and the points it flagged as outliers (kept in the record, never dropped silently).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeprof.catalog import ArchSpec
from edgeprof.errors import NotFittedError, UserInputError
from edgeprof.fit import _forms as forms
from edgeprof.fit._robust import (
    flag_outliers,
    interval_from_residuals,
    kfold_mape,
    relative_residuals,
    robust_fit,
)

MIN_POINTS = 3


class PhaseModel:
    """Shared fitting machinery; subclasses give the form, parameters and bounds."""

    phase = "phase"
    form = ""
    params: tuple[str, ...] = ()
    split_column = 0  # X column whose median splits short (train) from long (test)

    def __init__(self, fixed: dict[str, float] | None = None) -> None:
        self.fixed = dict(fixed or {})

    # -- subclass hooks -------------------------------------------------------------
    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _free(self, X: np.ndarray) -> tuple[str, ...]:
        return self.params

    def _split_value(self, X: np.ndarray) -> np.ndarray:
        return X[:, self.split_column]

    # -- fitting --------------------------------------------------------------------
    def _solve(self, X: np.ndarray, y: np.ndarray, free: tuple[str, ...]) -> dict[str, float]:
        x0, lo, hi = self._start(X, y)
        keep = [self.params.index(p) for p in free]
        base = dict(zip(self.params, x0, strict=True)) | self.fixed

        def model(z: np.ndarray, Xs: np.ndarray) -> np.ndarray:
            return self._evaluate(base | dict(zip(free, z, strict=True)), Xs)

        z = robust_fit(model, X, y, x0[keep], lo[keep], hi[keep])
        return base | dict(zip(free, map(float, z), strict=True))

    def fit(self, X: np.ndarray, y: np.ndarray) -> PhaseModel:
        X = np.atleast_2d(np.asarray(X, float))
        y = np.asarray(y, float)
        if len(y) < MIN_POINTS:
            raise UserInputError(f"The {self.phase} fit needs at least {MIN_POINTS} measured "
                                 f"points; got {len(y)}. Measure more input/output lengths.")
        if not np.all(np.isfinite(y)) or np.any(y <= 0):
            raise UserInputError(f"The {self.phase} targets must be positive numbers; "
                                 "drop failed rows (status != ok) from the table.")
        free = self._free(X)
        coef = self._solve(X, y, free)
        rel = relative_residuals(self._evaluate(coef, X), y)
        out = flag_outliers(rel)
        if out.any() and (~out).sum() >= MIN_POINTS:
            coef = self._solve(X[~out], y[~out], free)
            rel = relative_residuals(self._evaluate(coef, X), y)
        inl = ~out
        Xi, yi = X[inl], y[inl]

        def cv_fit(train: np.ndarray, test: np.ndarray) -> np.ndarray:
            return self._evaluate(self._solve(Xi[train], yi[train], free), Xi[test])

        cv_mape, cv_rel = kfold_mape(cv_fit, len(yi), yi)
        self.coef_ = coef
        self.free_ = list(free)
        self.n_ = len(y)
        self.cv_mape_ = cv_mape
        self.train_mape_ = float(np.mean(np.abs(rel[inl])))
        self.extrapolation_ = self._extrapolation(Xi, yi, free)
        lo, hi = interval_from_residuals(cv_rel if cv_rel.size else rel[inl])
        self.interval_ = {"lo": lo, "hi": hi, "level": 0.9}
        self.ranges_ = self._ranges(X)
        self.outliers_ = [self._describe(X[i], y[i], rel[i]) for i in np.flatnonzero(out)]
        return self

    def _extrapolation(self, X: np.ndarray, y: np.ndarray,
                       free: tuple[str, ...]) -> dict[str, Any] | None:
        v = self._split_value(X)
        cut = float(np.median(v))
        short = v <= cut
        if short.sum() < max(MIN_POINTS, len(free) + 1) or (~short).sum() < 1:
            return None
        coef = self._solve(X[short], y[short], free)
        rel = relative_residuals(self._evaluate(coef, X[~short]), y[~short])
        return {"fit_max": cut, "test_n": int((~short).sum()),
                "mape": float(np.mean(np.abs(rel)))}

    def _ranges(self, X: np.ndarray) -> dict[str, list[float]]:
        names = ("input_tokens", "output_tokens", "batch")
        return {n: [float(X[:, i].min()), float(X[:, i].max())]
                for i, n in enumerate(names[: X.shape[1]])}

    def _describe(self, x: np.ndarray, y: float, r: float) -> dict[str, float]:
        names = ("input_tokens", "output_tokens", "batch")
        d: dict[str, float] = {n: float(v) for n, v in zip(names, x, strict=False)}
        d.update(measured=float(y), relative_residual=float(r))
        return d

    # -- use ------------------------------------------------------------------------
    def check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit "
                                 "first.")

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self._evaluate(self.coef_, np.atleast_2d(np.asarray(X, float)))

    def record(self) -> dict[str, Any]:
        """The profile entry for this fit (plain data)."""
        self.check_fitted()
        return {"form": self.form, "coef": {k: float(v) for k, v in self.coef_.items()},
                "fitted_params": self.free_, "n": self.n_, "fitted_on": self.ranges_,
                "train_mape": self.train_mape_, "cv_mape": self.cv_mape_,
                "extrapolation": self.extrapolation_, "interval": self.interval_,
                "outliers": self.outliers_}


class PrefillModel(PhaseModel):
    """TTFT = overhead + s_per_tflop·work(padded I, B) + token_s·B·I + (chunks−1)·chunk_s.

    ``token_s`` (the per-actual-token slope inside a tile) is fitted only with a padding
    above 1 token (at 1 it is the GEMM term itself) and ``fit_token``; else it stays 0, the
    form before it existed. ``large_step_factor`` (fixed; 0 = off): a pass over more than
    ``forms.LARGE_STEP_TOKENS`` tokens, which only a ``chunk_tokens`` budget above that
    allows, runs the GEMM and token terms that much slower.
    """

    phase = "prefill"
    form = ("overhead_s + s_per_tflop*B*(2*linear*P + 2*vocab*hidden + attn_factor*2*L*H*D*P^2)"
            "/1e12 + token_s*B*I + (ceil(B*I/chunk_tokens)-1)*chunk_s, P=ceil(I/pad)*pad")
    params = ("overhead_s", "s_per_tflop", "token_s")

    def __init__(self, arch: ArchSpec, chunk_s: float = 0.0, *, pad_tokens: int = forms.PAD_TOKENS,
                 attn_factor: float = forms.ATTN_FACTOR,
                 chunk_tokens: int = forms.CHUNK_TOKENS, fit_token: bool = True,
                 large_step_factor: float = 0.0) -> None:
        super().__init__({"chunk_s": chunk_s, "pad_tokens": pad_tokens,
                          "attn_factor": attn_factor, "chunk_tokens": chunk_tokens,
                          "token_s": 0.0,
                          **({"large_step_factor": large_step_factor}
                             if large_step_factor else {})})
        self.arch = arch
        self.fit_token = fit_token

    def _free(self, X: np.ndarray) -> tuple[str, ...]:
        return self.params if self.fit_token and self.fixed["pad_tokens"] > 1 else \
            self.params[:2]

    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        return forms.prefill_time(coef, self.arch, X[:, 0], X[:, 2])

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        work = forms.prefill_tflops(self.arch, X[:, 0], X[:, 2])
        slope = float(np.median(y / np.maximum(work, 1e-12)))
        per_token = float(np.median(y / np.maximum(X[:, 0] * X[:, 2], 1.0)))
        return (np.array([0.2 * float(np.min(y)), 0.5 * slope, 0.05 * per_token]), np.zeros(3),
                np.array([float(np.max(y)), np.inf, np.inf]))


class DecodeModel(PhaseModel):
    """decode_s = Σ over O−1 steps of step_s + per_seq_s·(B−1) + kv_s·B·context."""

    phase = "decode"
    form = ("(O-1)*(step_s + per_seq_s*(B-1)) + kv_s*B*((O-1)*I + (O-1)*O/2)")
    params = ("step_s", "kv_s", "per_seq_s")

    def __init__(self, per_seq_prior_s: float = 0.0) -> None:
        super().__init__({"per_seq_s": per_seq_prior_s})

    def _free(self, X: np.ndarray) -> tuple[str, ...]:
        return self.params if len(np.unique(X[:, 2])) > 1 else ("step_s", "kv_s")

    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        return forms.decode_time(coef, X[:, 0], X[:, 1], X[:, 2])

    def _split_value(self, X: np.ndarray) -> np.ndarray:
        return X[:, 0] + X[:, 1]

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        steps = np.maximum(X[:, 1] - 1, 1)
        per_step = float(np.median(y / steps))
        return (np.array([0.8 * per_step, 1e-3 * per_step / 1000, 0.01 * per_step]),
                np.zeros(3), np.array([np.inf, np.inf, np.inf]))


class MemoryModel(PhaseModel):
    """peak = weights + KV·(I+O)·B + workspace_bytes + workspace_per_token_bytes·B·P."""

    phase = "memory"
    form = "weight_bytes + kv_bytes_per_token*(I+O)*B + workspace_bytes + w_tok*B*P"
    params = ("workspace_bytes", "workspace_per_token_bytes")

    def __init__(self, arch: ArchSpec, weight_bytes: float) -> None:
        super().__init__({"weight_bytes": float(weight_bytes)})
        self.arch = arch

    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        return forms.memory_bytes(coef, self.arch, coef["weight_bytes"], X[:, 0], X[:, 1],
                                  X[:, 2])

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rest = float(np.median(y)) - self.fixed["weight_bytes"]
        return (np.array([max(rest, 1e6), 1e3]), np.zeros(2), np.array([np.inf, np.inf]))


class PrefillPowerModel(PhaseModel):
    """Average prefill power = p0_w + p_token_w·B·P (watts)."""

    phase = "prefill power"
    form = "p0_w + p_token_w*B*P"
    params = ("p0_w", "p_token_w")

    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        return coef["p0_w"] + coef["p_token_w"] * X[:, 2] * forms.padded(X[:, 0])

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.array([float(np.min(y)), 1e-6]), np.zeros(2), np.array([np.inf, np.inf]))


class DecodeEnergyModel(PhaseModel):
    """Energy = e0_j + ∫ P_inf − ΔP·exp(−t/τ) over the decode time (X column 0: seconds)."""

    phase = "decode energy"
    form = "e0_j + p_inf_w*T - delta_p_w*tau_s*(1-exp(-T/tau_s))"
    params = ("e0_j", "p_inf_w", "delta_p_w", "tau_s")

    def _evaluate(self, coef: dict[str, float], X: np.ndarray) -> np.ndarray:
        return coef["e0_j"] + forms.ramp_energy(coef, X[:, 0])

    def _start(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = float(np.median(y / np.maximum(X[:, 0], 1e-3)))
        # e0 cannot exceed the smallest energy; ΔP ≤ P_inf keeps power ≥ 0; a 1 s sampler
        # cannot resolve ramps faster than 0.5 s.
        return (np.array([float(np.min(y)) * 0.5, p, 0.5 * p, 2.0]),
                np.array([0, 0, 0, 0.5]), np.array([float(np.min(y)), 2 * p, p, 600.0]))

    def _ranges(self, X: np.ndarray) -> dict[str, list[float]]:
        return {"decode_s": [float(X[:, 0].min()), float(X[:, 0].max())]}

    def _describe(self, x: np.ndarray, y: float, r: float) -> dict[str, float]:
        return {"decode_s": float(x[0]), "measured": float(y), "relative_residual": float(r)}
