"""Fit engine terms on published figures, and measure how well they predict unseen ones.

An observation is one published figure as a measurement row (``tbt_s``, ``decode_s``,
``ttft_s`` or ``e2e_s``). Per engine, the terms of ``engine_terms`` are fitted by
``scipy.optimize.least_squares`` on log(pred/meas), each source weighted equally, with a weak
pull (in log space) towards the roofline's default terms so a term the data cannot see (no
prefill figure, say) stays at its prior instead of wandering. Held-out error comes from
leaving one source, one board or one engine out; interval widths from those held-out errors.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from edgeprof.catalog import resolve_model
from edgeprof.device._spec import DeviceSpec, load_device_spec
from edgeprof.fit._engine_terms import BOUNDS, TERMS, predict_times
from edgeprof.fit._roofline import DEFAULT_CALIBRATION

PRIOR_WEIGHT = 0.15  # log-space pull towards DEFAULT_CALIBRATION per term
KINDS = ("tbt_s", "decode_s", "ttft_s", "e2e_s")
DECODE_KINDS = ("tbt_s", "decode_s")


@dataclass(frozen=True)
class Obs:
    """One published figure: the point, which time it is, its value and where it came from."""

    device: str
    mode: str | None
    engine: str
    model: str
    quant: str
    input_tokens: int
    output_tokens: int
    batch: int
    kind: str
    value: float
    source: str

    @property
    def metric(self) -> str:
        return "decode" if self.kind in DECODE_KINDS else "ttft" if self.kind == "ttft_s" \
            else "e2e"


def source_key(row: dict[str, Any]) -> str:
    """A figure's source: repository/page and file (``published_source``), else ``source``."""
    pub = row.get("published_source")
    if pub:
        return " ".join(str(pub).split()[:2])
    return str(row.get("source", "unknown"))


def observations(rows: list[dict[str, Any]]) -> list[Obs]:
    """Observations from measurement rows (one per measured time; TTFT and decode split)."""
    out = []
    for r in rows:
        if r.get("status", "ok") != "ok":
            continue
        kinds = [k for k in ("tbt_s", "ttft_s", "e2e_s") if r.get(k)]
        if r.get("phase") == "decode" and r.get("decode_s"):
            kinds = ["decode_s"]
        elif r.get("phase") == "prefill":
            kinds = ["ttft_s"]
        elif "tbt_s" in kinds:
            kinds = [k for k in kinds if k != "e2e_s"]
        for k in kinds:
            out.append(Obs(r["device"], r.get("power_mode"), r["engine"], r["model"], r["quant"],
                           int(r["input_tokens"]), int(r["output_tokens"]), int(r["batch"]),
                           k, float(r[k]), source_key(r)))
    return out


_SPECS: dict[str, DeviceSpec] = {}


def _spec(name: str) -> DeviceSpec:
    if name not in _SPECS:
        _SPECS[name] = load_device_spec(name)
    return _SPECS[name]


def predict_obs(terms: dict[str, float], o: Obs) -> float:
    t = predict_times(terms, resolve_model(o.model), o.quant, _spec(o.device), o.mode,
                      o.input_tokens, o.output_tokens, o.batch)
    return t[o.kind]


def _terms(x: np.ndarray) -> dict[str, float]:
    return {k: float(np.exp(v)) for k, v in zip(TERMS, x, strict=True)}


def fit_terms(obs: list[Obs], prior: dict[str, float] | None = None,
              prior_weight: float = PRIOR_WEIGHT,
              fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fitted terms (bounded), with the in-sample median |pred/meas − 1| and figure count.

    ``fixed``: structural settings held constant and kept with the terms (for example
    ``overhead_ref_layers``: the step overhead scales with the layer count); its per-engine
    part (``engines``) is :func:`fit_engines`' to apply."""
    fixed = fixed_for(fixed, None)
    prior = {k: (prior or DEFAULT_CALIBRATION)[k] for k in TERMS}
    x0 = np.log([prior[k] for k in TERMS])
    if not obs:
        return {**prior, **fixed, "n_figures": 0, "fit_error": None}
    per_source: dict[str, int] = defaultdict(int)
    for o in obs:
        per_source[o.source] += 1
    w = np.array([1.0 / np.sqrt(per_source[o.source]) for o in obs])
    meas = np.log([o.value for o in obs])

    def resid(x: np.ndarray) -> np.ndarray:
        t = _terms(x) | fixed
        pred = np.log([predict_obs(t, o) for o in obs])
        return np.concatenate([w * (pred - meas), prior_weight * (x - x0)])

    lo = np.log([BOUNDS[k][0] for k in TERMS])
    hi = np.log([BOUNDS[k][1] for k in TERMS])
    res = least_squares(resid, np.clip(x0, lo + 1e-9, hi - 1e-9), bounds=(lo, hi),
                        method="trf", max_nfev=400)
    terms = _terms(res.x) | fixed
    err = [abs(predict_obs(terms, o) / o.value - 1.0) for o in obs]
    return {**terms, "n_figures": len(obs), "fit_error": float(np.median(err))}


def fixed_for(fixed: dict[str, Any] | None, engine: str | None) -> dict[str, float]:
    """The fixed settings of one engine: the shared ones and ``fixed["engines"][engine]``
    (for example ``fp8_kv_cache`` for an engine whose FP8 recipe quantizes the KV cache)."""
    fixed = fixed or {}
    own = (fixed.get("engines") or {}).get(engine, {}) if engine else {}
    return {k: v for k, v in fixed.items() if k != "engines"} | own


MIN_QUANT_FIGURES = 3  # figures of one quant before it gets its own terms
MIN_DEVICE_FIGURES = 3  # figures of one engine on one board before it gets its own terms


def fit_engines(obs: list[Obs], prior: dict[str, dict[str, Any]] | None = None,
                fixed: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Terms per engine fitted on that engine's figures; per (engine, quant) under
    ``quants`` where the engine has several quants and this one ≥ MIN_QUANT_FIGURES figures
    (fitted with the engine's pooled terms as the prior). ``prior``: per-engine terms to pull
    towards instead of the roofline defaults (a device fitted against its class's terms);
    ``fixed`` as in :func:`fit_terms`."""
    by: dict[str, list[Obs]] = defaultdict(list)
    for o in obs:
        by[o.engine].append(o)
    out = {}
    for e, v in sorted(by.items()):
        mine = fixed_for(fixed, e)
        pooled = fit_terms(v, prior=(prior or {}).get(e), fixed=mine)
        quants = sorted({o.quant for o in v})
        per_q = {}
        if len(quants) > 1:
            for q in quants:
                sel = [o for o in v if o.quant == q]
                if len(sel) >= MIN_QUANT_FIGURES:
                    per_q[q] = fit_terms(sel, prior=pooled, fixed=mine)
        out[e] = {**pooled, "quants": per_q} if per_q else pooled
    return out


def terms_for(fitted: dict[str, Any], quant: str) -> dict[str, Any]:
    """An engine's terms for ``quant`` (its own where fitted, else the pooled ones)."""
    return (fitted.get("quants") or {}).get(quant) or fitted


def fit_with_devices(obs: list[Obs], fixed: dict[str, Any] | None = None,
                     min_device_figures: int = MIN_DEVICE_FIGURES) -> dict[str, Any]:
    """Class terms per engine over every board, and per-board terms where a board has at
    least ``min_device_figures`` figures of an engine (fitted with the class terms as the
    prior, so a board sees its own clocks, power mode and kernels without leaving physics)."""
    cls = fit_engines(obs, fixed=fixed)
    devices: dict[str, dict[str, Any]] = {}
    for d in sorted({o.device for o in obs}):
        mine = [o for o in obs if o.device == d]
        counts = Counter(o.engine for o in mine)
        if not any(n >= min_device_figures for n in counts.values()):
            continue
        fitted = fit_engines([o for o in mine if counts[o.engine] >= min_device_figures],
                             prior=cls, fixed=fixed)
        devices[d] = fitted
    return {"class": cls, "devices": devices}


def terms_for_figure(fitted: dict[str, Any], o: Obs,
                     fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    """The terms that predict figure ``o``: its board's for its engine where fitted, else the
    class terms, else ``fallback`` (terms of no engine in particular)."""
    own = (fitted.get("devices") or {}).get(o.device, {}).get(o.engine)
    cls = fitted["class"].get(o.engine)
    chosen = own or cls
    if chosen is None:
        return fallback if fallback is not None else fit_terms([])
    return terms_for(chosen, o.quant)


def _predict_held_out(train: list[Obs], test: list[Obs], pool: bool = False,
                      fixed: dict[str, Any] | None = None,
                      min_device_figures: int | None = None) -> list[float]:
    """log(pred/meas) of each test figure from terms fitted on ``train``.

    ``pool``: one set of terms over all training engines (the test engine is unseen).
    ``min_device_figures``: also fit per-board terms (:func:`fit_with_devices`), as the
    shipped profiles do. An engine left without training figures (its only source held out)
    is predicted with terms pooled over the other engines, as in leave-one-engine-out."""
    if pool:
        terms = fit_terms(train, fixed=fixed)
        return [float(np.log(predict_obs(terms, o) / o.value)) for o in test]
    if min_device_figures is None:
        fitted = {"class": fit_engines(train, fixed=fixed)}
    else:
        fitted = fit_with_devices(train, fixed, min_device_figures)
    pooled: dict[str, Any] | None = None
    out = []
    for o in test:
        if o.engine not in fitted["class"] and pooled is None:
            pooled = fit_terms(train, fixed=fixed)
        t = terms_for_figure(fitted, o, pooled)
        out.append(float(np.log(predict_obs(t, o) / o.value)))
    return out


def held_out(obs: list[Obs], by: str, fixed: dict[str, Any] | None = None,
             min_device_figures: int | None = None) -> list[tuple[str, Obs, float]]:
    """(group, figure, log ratio) for each figure predicted with its group left out.

    ``by``: ``source``, ``device`` (board), ``model`` or ``engine``; ``min_device_figures``
    as in :func:`_predict_held_out`."""
    groups = sorted({getattr(o, by) for o in obs})
    out = []
    for g in groups:
        test = [o for o in obs if getattr(o, by) == g]
        train = [o for o in obs if getattr(o, by) != g]
        for o, r in zip(test, _predict_held_out(train, test, by == "engine", fixed,
                                                min_device_figures), strict=True):
            out.append((g, o, r))
    return out


def summarize(results: list[tuple[str, Obs, float]], level: float = 0.9) -> dict[str, Any]:
    """Median |pred/meas − 1| per metric, and coverage of a jackknife+ style interval: each
    group's figures are judged against the ``level`` quantile of |log ratio| of the *other*
    groups' held-out figures (the same metric), so no figure sets its own width."""
    out: dict[str, Any] = {}
    for metric in ("decode", "ttft", "e2e"):
        sel = [(g, r) for g, o, r in results if o.metric == metric]
        if not sel:
            continue
        errs = [abs(np.exp(r) - 1.0) for _, r in sel]
        covered = []
        for g, r in sel:
            others = [abs(r2) for g2, r2 in sel if g2 != g]
            if others:
                covered.append(abs(r) <= float(np.quantile(others, level)))
        q = float(np.quantile([abs(r) for _, r in sel], level))
        out[metric] = {"n": len(sel), "median_abs_error": float(np.median(errs)),
                       "coverage_90": float(np.mean(covered)) if covered else None,
                       "interval_90": [float(np.exp(-q)), float(np.exp(q))]}
    return out
