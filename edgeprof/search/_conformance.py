"""The conformance suites the search's two inputs run: any latency model (a fitted profile,
a spec-only one, a concurrency-wrapped one, your own) and any accuracy model (traces,
tables, the published figures, your own). Shipped in the package like
:mod:`edgeprof.engines._conformance` and :mod:`edgeprof.device._conformance`.

Each check takes the model and the ``(model, quant)`` pairs to probe and raises
``AssertionError`` saying what broke. Parametrize a test over the checks::

    @pytest.mark.parametrize("check", LATENCY_CHECKS, ids=lambda c: c.__name__)
    def test_my_profile(check):
        check(MyProfile(...), [("qwen2.5-1.5b", "int8")])

The properties are the ones the search relies on: intervals that contain their value,
provenance from :class:`~edgeprof.estimates.Provenance`, latency and memory that do not fall
when the work grows, a vectorized grid that agrees with the point prediction, and accuracy
and lengths within their ranges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from edgeprof.estimates import Estimate, Provenance
from edgeprof.search._protocols import AccuracyModel, LatencyModel

Pairs = Sequence[tuple[str, str]]
LatencyCheck = Callable[[Any, Pairs], None]
AccuracyCheck = Callable[[Any, Pairs], None]

INPUTS = (64, 512)
OUTPUTS = (16, 128, 1024)
BATCHES = (1, 4)
REL_TOL = 1e-6


def _estimate(e: Any, what: str, *, positive: bool = True) -> Estimate:
    assert isinstance(e, Estimate), f"{what} is {type(e).__name__}, not an Estimate"
    for name in ("value", "lo", "hi"):
        v = getattr(e, name)
        assert math.isfinite(v), f"{what}.{name} is {v}, not finite"
    assert e.lo <= e.value * (1 + REL_TOL) and e.value <= e.hi * (1 + REL_TOL), \
        f"{what}: interval [{e.lo}, {e.hi}] does not contain its value {e.value}"
    if positive:
        assert e.value > 0, f"{what} is {e.value}, not > 0"
    assert isinstance(e.provenance, Provenance), \
        f"{what}.provenance {e.provenance!r} is not a Provenance"
    return e


def _modes(model: Any) -> list[str | None]:
    modes = list(model.power_modes())
    assert modes, "power_modes() is empty (a model without modes returns [None])"
    return modes


# ------------------------------------------------------------------ latency models
def check_latency_identity(model: Any, pairs: Pairs) -> None:
    """Implements the protocol; ``hash()`` is a stable non-empty string; the device has
    memory; ``fitted_pairs()`` is a list of (model, quant)."""
    assert isinstance(model, LatencyModel), f"{type(model).__name__} is not a LatencyModel"
    h = model.hash()
    assert isinstance(h, str) and h and h == model.hash(), "hash() must be stable and non-empty"
    assert model.device.memory_bytes > 0, "device.memory_bytes must be > 0"
    for p in model.fitted_pairs():
        assert isinstance(p, tuple) and len(p) == 2, f"fitted_pairs() holds {p!r}"
    assert pairs, "give at least one (model, quant) pair to probe"


def check_prediction_estimates(model: Any, pairs: Pairs) -> None:
    """Every predicted quantity is an Estimate with a finite interval containing its value
    and a Provenance; e2e is TTFT plus decode; energy and power are both there or both
    absent."""
    for m, q in pairs:
        for mode in _modes(model):
            p = model.predict(m, q, INPUTS[-1], OUTPUTS[1], batch=BATCHES[-1], power_mode=mode)
            where = f"{m}/{q}/{mode}"
            ttft = _estimate(p.ttft_s, f"{where} ttft_s")
            dec = _estimate(p.decode_s, f"{where} decode_s")
            e2e = _estimate(p.e2e_s, f"{where} e2e_s")
            _estimate(p.peak_mem_bytes, f"{where} peak_mem_bytes")
            assert math.isclose(e2e.value, ttft.value + dec.value, rel_tol=1e-6), \
                f"{where}: e2e {e2e.value} ≠ ttft {ttft.value} + decode {dec.value}"
            assert (p.energy_j is None) == (p.avg_power_w is None), \
                f"{where}: energy_j and avg_power_w must be both present or both None"
            if p.energy_j is not None:
                _estimate(p.energy_j, f"{where} energy_j")
                _estimate(p.avg_power_w, f"{where} avg_power_w")


def check_latency_monotone(model: Any, pairs: Pairs) -> None:
    """More output tokens, a longer prompt or a larger batch never makes a request faster
    or smaller in memory (the search's pruning and its SLO bound depend on it)."""
    for m, q in pairs:
        for mode in _modes(model):
            for b in BATCHES:
                g = model.predict_grid(m, q, INPUTS[-1], np.array(OUTPUTS, float),
                                       np.full(len(OUTPUTS), b, float), mode)
                for key in ("e2e_s", "peak_mem_bytes"):
                    v = np.asarray(g[key], float)
                    assert np.all(np.diff(v) >= -REL_TOL * v[:-1]), \
                        f"{m}/{q}/{mode} batch {b}: {key} falls as output grows: {v.tolist()}"
            short, long_ = (model.predict(m, q, i, OUTPUTS[0], power_mode=mode) for i in INPUTS)
            assert long_.ttft_s.value >= short.ttft_s.value * (1 - REL_TOL), \
                f"{m}/{q}/{mode}: TTFT falls from {INPUTS[0]} to {INPUTS[-1]} input tokens"
            g = model.predict_grid(m, q, INPUTS[0], np.full(len(BATCHES), OUTPUTS[1], float),
                                   np.array(BATCHES, float), mode)
            for key in ("e2e_s", "peak_mem_bytes"):
                v = np.asarray(g[key], float)
                assert np.all(np.diff(v) >= -REL_TOL * v[:-1]), \
                    f"{m}/{q}/{mode}: {key} falls as the batch grows: {v.tolist()}"


def check_grid_matches_point(model: Any, pairs: Pairs) -> None:
    """``predict_grid`` (what the search evaluates) and ``predict`` (what the CLI prints and
    the manifest records) give the same numbers, and the grid's e2e interval contains e2e."""
    for m, q in pairs:
        mode = _modes(model)[0]
        g = model.predict_grid(m, q, INPUTS[-1], np.array(OUTPUTS, float),
                               np.full(len(OUTPUTS), BATCHES[-1], float), mode)
        for key in ("ttft_s", "decode_s", "e2e_s", "e2e_lo", "e2e_hi", "peak_mem_bytes"):
            assert len(np.asarray(g[key])) == len(OUTPUTS), f"grid {key} has the wrong length"
        e2e, lo, hi = (np.asarray(g[k], float) for k in ("e2e_s", "e2e_lo", "e2e_hi"))
        assert np.all(lo <= e2e * (1 + REL_TOL)) and np.all(e2e <= hi * (1 + REL_TOL)), \
            f"{m}/{q}: grid e2e interval does not contain e2e"
        for i, out in enumerate(OUTPUTS):
            p = model.predict(m, q, INPUTS[-1], out, batch=BATCHES[-1], power_mode=mode)
            for key, est in (("e2e_s", p.e2e_s), ("ttft_s", p.ttft_s),
                             ("peak_mem_bytes", p.peak_mem_bytes)):
                assert math.isclose(float(g[key][i]), est.value, rel_tol=1e-6), \
                    f"{m}/{q} output {out}: grid {key} {g[key][i]} ≠ predict {est.value}"


LATENCY_CHECKS: tuple[LatencyCheck, ...] = (
    check_latency_identity, check_prediction_estimates, check_latency_monotone,
    check_grid_matches_point)


# ------------------------------------------------------------------ accuracy models
def _budgets(model: Any, m: str, q: str) -> list[int]:
    b = model.budgets(m, q)
    return sorted(b)[:4] if b else [128, 512, 2048]


def check_accuracy_identity(model: Any, pairs: Pairs) -> None:
    """Implements the protocol; ``source`` names the data; ``pairs()`` is non-empty and
    holds the probed pairs; budgets are positive integers; ``max_samples`` ≥ 1."""
    assert isinstance(model, AccuracyModel), f"{type(model).__name__} is not an AccuracyModel"
    assert isinstance(model.source, str) and model.source, "source must name the data"
    have = set(model.pairs())
    assert have, "pairs() is empty"
    for p in pairs:
        assert tuple(p) in have, f"{p} is not in pairs()"
        b = model.budgets(*p)
        assert b is None or (b and all(isinstance(x, int) and x > 0 for x in b)), \
            f"{p}: budgets() must be None or positive integers, got {b!r}"
        n = model.max_samples(*p)
        assert isinstance(n, int) and n >= 1, f"{p}: max_samples() is {n!r}"
    d = model.default_input_tokens()
    assert d is None or (isinstance(d, int) and d > 0), f"default_input_tokens() is {d!r}"


def check_accuracy_range(model: Any, pairs: Pairs) -> None:
    """Accuracy is an Estimate inside [0, 1] whose interval contains it, with a Provenance,
    for every budget and for N = 1 and the largest N."""
    for m, q in pairs:
        for budget in _budgets(model, m, q):
            for n in sorted({1, model.max_samples(m, q)}):
                e = _estimate(model.accuracy(m, q, budget, n), f"{m}/{q} B={budget} N={n}",
                              positive=False)
                assert e.lo >= 0.0 and e.hi <= 1.0, \
                    f"{m}/{q} B={budget} N={n}: interval [{e.lo}, {e.hi}] leaves [0, 1]"


def check_accuracy_monotone_in_budget(model: Any, pairs: Pairs) -> None:
    """With one sample and truncate-wrong, a larger budget never lowers accuracy (a longer
    cut-off only lets more answers finish)."""
    for m, q in pairs:
        values = [model.accuracy(m, q, b, 1, "truncate-wrong").value
                  for b in _budgets(model, m, q)]
        assert all(b >= a - 1e-9 for a, b in pairwise(values)), \
            f"{m}/{q}: N=1 accuracy falls with budget: {values}"


def check_lengths(model: Any, pairs: Pairs) -> None:
    """The longest-of-N output length at quantile q lies in [0, budget], grows with q and
    with N (the latency the search checks is read from it)."""
    for m, q in pairs:
        budget = _budgets(model, m, q)[-1]
        n_max = model.max_samples(m, q)
        last_n = 0.0
        for n in sorted({1, min(4, n_max), n_max}):
            qs = [model.length_quantile(m, q, budget, n, x) for x in (0.5, 0.9, 0.95)]
            assert all(0 <= v <= budget for v in qs), \
                f"{m}/{q} N={n}: length quantiles {qs} leave [0, {budget}]"
            assert qs == sorted(qs), f"{m}/{q} N={n}: length quantile falls with q: {qs}"
            assert qs[-1] >= last_n - 1e-9, f"{m}/{q}: p95 length falls as N grows to {n}"
            last_n = qs[-1]


ACCURACY_CHECKS: tuple[AccuracyCheck, ...] = (
    check_accuracy_identity, check_accuracy_range, check_accuracy_monotone_in_budget,
    check_lengths)


def run_latency_conformance(model: Any, pairs: Pairs) -> list[str]:
    """Run every latency check; the names that passed (the first failure raises)."""
    for check in LATENCY_CHECKS:
        check(model, pairs)
    return [c.__name__ for c in LATENCY_CHECKS]


def run_accuracy_conformance(model: Any, pairs: Pairs) -> list[str]:
    """Run every accuracy check; the names that passed (the first failure raises)."""
    for check in ACCURACY_CHECKS:
        check(model, pairs)
    return [c.__name__ for c in ACCURACY_CHECKS]
