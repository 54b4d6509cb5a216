"""How latency grows with concurrent requests, fitted to ``edgeprof load`` rows.

A server either queues requests (one slot: a new request waits for those ahead of it) or
batches them (continuous batching: one decode step streams the weights once and does
per-sequence KV/compute work for every sequence in flight). To first order both make the
time per request linear in the number of requests in flight ``c``::

    TTFT(c) = t1 · (1 + a · (c − 1))     a ≥ 0: prefill wait per extra request in flight
    TPOT(c) = s1 · (1 + b · (c − 1))     b ≥ 0: step-time growth per extra sequence

fitted with SciPy's robust ``least_squares`` (soft-L1 on relative residuals, bounds ≥ 0)
to the per-level medians of the ok ``load`` rows of one (model, quant, engine, power mode).
The relative factors ``1 + a(c − 1)`` and ``1 + b(c − 1)`` scale a profile's
single-request predictions of any shape (:class:`ConcurrentProfile`, used by
``recommend --concurrency K``): an assumption that holds where the server's per-request
work does not change character with the shape.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from edgeprof.catalog import get_quant, resolve_model
from edgeprof.errors import UserInputError
from edgeprof.estimates import Provenance
from edgeprof.fit._schema import FitEntry
from edgeprof.table import Measurement

FORM = "ttft(c) = t1*(1 + a*(c-1)); tpot(c) = s1*(1 + b*(c-1))"
MIN_LEVELS = 2

Key = tuple[str, str, str, str | None]


def _fit_linear(c: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(base, slope) of y = base · (1 + slope · (c − 1)), robust, relative residuals."""
    base0 = float(np.median(y[c == c.min()]))

    def resid(p: np.ndarray) -> np.ndarray:
        return (p[0] * (1 + p[1] * (c - 1)) - y) / y

    res = least_squares(resid, x0=[base0, 0.1], bounds=([1e-9, 0.0], [np.inf, np.inf]),
                        loss="soft_l1", f_scale=0.05)
    return float(res.x[0]), float(res.x[1])


def _mape(c: np.ndarray, y: np.ndarray, base: float, slope: float) -> float:
    return float(np.mean(np.abs(base * (1 + slope * (c - 1)) - y) / y))


def _phase(c: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Fit the per-level medians (a closed loop's first requests of a level wait less than
    its steady state, so single requests spread widely; the median is the level's figure)."""
    levels = np.unique(c)
    med = np.array([np.median(y[c == lv]) for lv in levels])
    p90 = np.array([np.percentile(y[c == lv], 90) for lv in levels])
    base, slope = _fit_linear(levels, med)
    cv = None
    if len(levels) >= 3:  # leave one level out: how well the form predicts an unseen level
        errs = []
        for k in range(len(levels)):
            train = np.arange(len(levels)) != k
            b, s = _fit_linear(levels[train], med[train])
            errs.append(_mape(levels[~train], med[~train], b, s))
        cv = float(np.mean(errs))
    return {"base_s": base, "slope": slope, "mape": _mape(levels, med, base, slope),
            "cv_mape": cv, "median_by_level": {int(lv): float(m) for lv, m in zip(
                levels, med, strict=True)},
            "p90_over_median_by_level": {int(lv): float(q / m) for lv, q, m in zip(
                levels, p90, med, strict=True)}}


def fit_concurrency(rows: list[Measurement]) -> dict[Key, dict[str, Any]]:
    """One record per (model, quant, engine, power mode) measured at ≥ 2 concurrency levels."""
    groups: dict[Key, list[Measurement]] = defaultdict(list)
    for r in rows:
        if r.status == "ok" and r.ttft_s and "load" in (r.flags or []):
            key = (resolve_model(r.model).name, get_quant(r.quant).name, r.engine, r.power_mode)
            groups[key].append(r)
    fits: dict[Key, dict[str, Any]] = {}
    for key, grp in groups.items():
        c = np.array([r.concurrency for r in grp], float)
        if len(np.unique(c)) < MIN_LEVELS:
            continue
        rec: dict[str, Any] = {"form": FORM, "provenance": str(Provenance.FITTED),
                               "rows": len(grp), "ttft": _phase(c, np.array(
                                   [r.ttft_s for r in grp], float)), "tpot": None,
                               "fitted_on": {
                                   "concurrency": [int(c.min()), int(c.max())],
                                   "input_tokens": [min(r.input_tokens for r in grp),
                                                    max(r.input_tokens for r in grp)],
                                   "output_tokens": [min(r.output_tokens for r in grp),
                                                     max(r.output_tokens for r in grp)]}}
        tp = [(r.concurrency, getattr(r, "tpot_s", None)) for r in grp]
        tp = [(cc, v) for cc, v in tp if v]
        if len({cc for cc, _ in tp}) >= MIN_LEVELS:
            arr = np.array(tp, float)
            rec["tpot"] = _phase(arr[:, 0], arr[:, 1])
        fits[key] = rec
    return fits


def attach_concurrency(fits: list[FitEntry], rows: list[Measurement]) -> list[str]:
    """Put each concurrency fit into its profile entry (``entry.concurrency``); returns
    notes for load data that found no entry (measure a sweep of that model too)."""
    notes = []
    for key, rec in fit_concurrency(rows).items():
        entry = next((f for f in fits
                      if (f.model, f.quant, f.engine, f.power_mode) == key), None)
        if entry is None:
            notes.append(f"{'/'.join(str(k) for k in key)}: load rows but no single-request "
                         "fit to scale; run `edgeprof sweep` on it too")
            continue
        entry.concurrency = rec
    return notes


def factors(rec: dict[str, Any], k: float) -> tuple[float, float, float]:
    """(TTFT factor, TPOT factor, relative error) at ``k`` requests in flight."""
    t = rec["ttft"]
    s = rec.get("tpot") or {"slope": 0.0, "mape": 0.0, "cv_mape": None}
    err = max(t["cv_mape"] or t["mape"], s["cv_mape"] or s["mape"])
    return 1 + t["slope"] * (k - 1), 1 + s["slope"] * (k - 1), err


class ConcurrentProfile:
    """A profile whose latency predictions hold at ``k`` concurrent requests.

    Pairs with a concurrency fit use it; other pairs use the mean factors of the fitted
    pairs, noted as transferred, with the interval doubled. Energy stays the single-request
    prediction (not measured under load). Everything else is the wrapped profile's.
    """

    def __init__(self, profile: Any, k: int) -> None:
        if k < 1:
            raise UserInputError(f"--concurrency must be ≥ 1, got {k}.")
        self._p = profile
        self.k = k
        self.concurrency = k  # requests in flight, as the recommendation records it
        self._recs = {(f.model, f.quant, f.power_mode): f.concurrency
                      for f in profile.entries if f.concurrency}
        if not self._recs:
            raise UserInputError("The profile has no concurrency fit; run `edgeprof load "
                                 "--out DIR` (and `edgeprof sweep --out DIR`), then "
                                 "`edgeprof fit DIR`, or drop --concurrency.")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._p, name)

    def hash(self) -> str:
        """Another hash than the wrapped profile's (a study must not mix the two)."""
        import hashlib

        return hashlib.sha256(f"{self._p.hash()}:concurrency={self.k}".encode()).hexdigest()

    def _factors(self, model: str, quant: str, mode: str | None) -> tuple[float, float,
                                                                           float, str]:
        m, q = resolve_model(model).name, get_quant(quant).name
        rec = self._recs.get((m, q, mode)) or next(
            (r for (mm, qq, _), r in self._recs.items() if (mm, qq) == (m, q)), None)
        if rec is not None:
            ft, fs, err = factors(rec, self.k)
            hi = rec["fitted_on"]["concurrency"][1]
            note = (f"at concurrency {self.k} (fit on c ≤ {hi}"
                    f"{'; extrapolated' if self.k > hi else ''})")
            return ft, fs, err, note
        all_f = [factors(r, self.k) for r in self._recs.values()]
        ft, fs, err = (float(np.mean([f[i] for f in all_f])) for i in range(3))
        return ft, fs, 2 * err + 0.1, (f"at concurrency {self.k}: factor transferred from "
                                       f"{len(all_f)} fitted pair(s)")

    def predict_grid(self, model: str, quant: str, input_tokens: Any, output_tokens: Any,
                     batch: Any, power_mode: str | None = None) -> dict[str, Any]:
        g = dict(self._p.predict_grid(model, quant, input_tokens, output_tokens, batch,
                                      power_mode))
        ft, fs, err = self._factors(model, quant, power_mode)[:3]
        for key, f, widen in (("ttft_s", ft, 1.0), ("ttft_lo", ft, 1 - err),
                              ("ttft_hi", ft, 1 + err), ("decode_s", fs, 1.0),
                              ("decode_lo", fs, 1 - err), ("decode_hi", fs, 1 + err)):
            g[key] = np.asarray(g[key]) * f * max(widen, 0.05)
        g["e2e_s"] = g["ttft_s"] + g["decode_s"]
        g["e2e_lo"] = g["ttft_lo"] + g["decode_lo"]
        g["e2e_hi"] = g["ttft_hi"] + g["decode_hi"]
        return g

    def predict(self, model: str, quant: str, input_tokens: int, output_tokens: int,
                batch: int = 1, power_mode: str | None = None) -> Any:
        p = self._p.predict(model, quant, input_tokens, output_tokens, batch=batch,
                            power_mode=power_mode)
        ft, fs, err, note = self._factors(model, quant, power_mode)

        def scale(e: Any, f: float) -> Any:
            joined = "; ".join(n for n in (e.note, note) if n)
            return e.model_copy(update={"value": e.value * f,
                                        "lo": e.lo * f * max(1 - err, 0.05),
                                        "hi": e.hi * f * (1 + err), "note": joined})

        ttft, dec = scale(p.ttft_s, ft), scale(p.decode_s, fs)
        e2e = p.e2e_s.model_copy(update={"value": ttft.value + dec.value,
                                         "lo": ttft.lo + dec.lo, "hi": ttft.hi + dec.hi,
                                         "note": ttft.note})
        return replace(p, ttft_s=ttft, decode_s=dec, e2e_s=e2e)
