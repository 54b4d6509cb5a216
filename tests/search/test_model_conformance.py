"""Every latency and accuracy model the search takes runs the shipped conformance suites
(edgeprof.search._conformance), and the suites catch a model that breaks them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

from edgeprof.search._conformance import (
    ACCURACY_CHECKS,
    LATENCY_CHECKS,
    check_accuracy_range,
    check_grid_matches_point,
    check_latency_monotone,
    check_prediction_estimates,
    run_accuracy_conformance,
    run_latency_conformance,
)


@cache
def _latency(name: str):
    from edgeprof.fit._profile import Profile
    from edgeprof.search._synthetic import SyntheticProfile

    if name == "synthetic":
        return SyntheticProfile({"tiny": 0.5, "small": 1.5}), [("tiny", "bf16"), ("small", "int4")]
    if name == "fitted-orin-64gb":  # fitted to the published EdgeReasoning measurements
        p = Profile.load("jetson-agx-orin-64gb")
        return p, p.fitted_pairs()[:2]
    if name == "orin-nano-llama.cpp":  # spec + calibrated engine terms, another engine
        return (Profile.load("jetson-orin-nano-8gb").with_engine("llama.cpp"),
                [("qwen2.5-1.5b", "int4")])
    p = Profile.load(name)  # spec-only datacenter card
    return p, [("qwen2.5-7b", "fp8")]


@cache
def _accuracy(name: str):
    from edgeprof.accuracy import load_accuracy
    from edgeprof.search._synthetic import SyntheticAccuracy

    if name == "synthetic-model":
        a = SyntheticAccuracy({"tiny": 0.4, "small": 0.7}, {"tiny": 300.0, "small": 600.0})
        return a, [("tiny", "bf16"), ("small", "int8")]
    a = load_accuracy(name, benchmark="MATH-500") if name == "published-table" else \
        load_accuracy(name)
    return a, a.pairs()[:2]


LATENCY = ["synthetic", "fitted-orin-64gb", "orin-nano-llama.cpp", "h200-sxm"]
ACCURACY = ["synthetic-model", "published-table", "synthetic-traces"]


@pytest.mark.parametrize("check", LATENCY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("subject", LATENCY)
def test_latency_models_conform(subject, check):
    model, pairs = _latency(subject)
    assert pairs
    check(model, pairs)


@pytest.mark.parametrize("check", ACCURACY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("subject", ACCURACY)
def test_accuracy_models_conform(subject, check):
    model, pairs = _accuracy(subject)
    assert pairs
    check(model, pairs)


def test_run_helpers_name_every_check():
    model, pairs = _latency("synthetic")
    assert run_latency_conformance(model, pairs) == [c.__name__ for c in LATENCY_CHECKS]
    acc, apairs = _accuracy("synthetic-model")
    assert run_accuracy_conformance(acc, apairs) == [c.__name__ for c in ACCURACY_CHECKS]


# ---------------------------------------------------------------- the suites can fail
@dataclass
class _Broken:
    """The synthetic profile with one defect switched on."""

    defect: str

    def __post_init__(self):
        from edgeprof.search._synthetic import SyntheticProfile

        self._p = SyntheticProfile({"tiny": 0.5})

    def __getattr__(self, name):
        return getattr(self._p, name)

    def predict_grid(self, model, quant, input_tokens, output_tokens, batch, power_mode=None):
        g = dict(self._p.predict_grid(model, quant, input_tokens, output_tokens, batch,
                                      power_mode))
        if self.defect == "falls":
            g["e2e_s"] = g["e2e_s"][::-1].copy()
        if self.defect == "grid-differs":
            g = {k: np.asarray(v) * 1.1 for k, v in g.items()}
        return g

    def predict(self, model, quant, input_tokens, output_tokens, batch=1, power_mode=None):
        p = self._p.predict(model, quant, input_tokens, output_tokens, batch, power_mode)
        if self.defect == "bad-interval":
            p.e2e_s = p.e2e_s.model_copy(update={"hi": p.e2e_s.value * 0.5})
        return p


@pytest.mark.parametrize(("defect", "check", "message"), [
    ("falls", check_latency_monotone, "falls as output grows"),
    ("grid-differs", check_grid_matches_point, "≠ predict"),
    ("bad-interval", check_prediction_estimates, "does not contain its value"),
])
def test_latency_suite_catches_defects(defect, check, message):
    with pytest.raises(AssertionError, match=message):
        check(_Broken(defect), [("tiny", "bf16")])


def test_accuracy_suite_catches_out_of_range():
    from edgeprof.estimates import Estimate
    from edgeprof.search._synthetic import SyntheticAccuracy

    class TooGood(SyntheticAccuracy):
        def accuracy(self, model, quant, budget, samples, semantics="truncate-wrong"):
            return Estimate(value=0.9, lo=0.8, hi=1.2, provenance="synthetic")

    bad = TooGood({"tiny": 0.4}, {"tiny": 300.0})
    with pytest.raises(AssertionError, match=r"leaves \[0, 1\]"):
        check_accuracy_range(bad, [("tiny", "bf16")])
