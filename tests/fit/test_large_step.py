"""The prefill form's large-step factor, and the study's prefill data fitted as it was run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.catalog import resolve_model
from edgeprof.fit import _forms as forms

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT.parent / "shared/reference/edgereasoning-jetson-agx-orin"
ARCH = resolve_model("deepseek-r1-distill-llama-8b")
COEF = {"overhead_s": 0.02, "s_per_tflop": 0.025, "token_s": 4e-4, "chunk_s": 0.1,
        "pad_tokens": 256, "attn_factor": 2.0}


def _ttft(coef: dict, i: float, b: float = 1.0) -> float:
    return float(forms.prefill_time(coef, ARCH, np.array([i]), np.array([b]))[0])


def _form_before_the_factor(coef: dict, i: float, b: float = 1.0) -> float:
    """The prefill form as it was written before ``large_step_factor`` existed."""
    work = float(forms.prefill_tflops(ARCH, np.array([i]), np.array([b]), coef["pad_tokens"],
                                      coef["attn_factor"])[0])
    chunks = np.ceil(max(i * b, 1.0) / coef["chunk_tokens"])
    return (coef["overhead_s"] + coef["s_per_tflop"] * work + coef["token_s"] * i * b
            + (chunks - 1.0) * coef["chunk_s"])


@pytest.mark.parametrize("budget", [2048, 4194])
@pytest.mark.parametrize("i", [1, 2048, 2049, 4097, 9000])
def test_absent_or_zero_factor_is_the_form_before_it(budget: int, i: int) -> None:
    c = COEF | {"chunk_tokens": budget}
    assert _ttft(c, i) == pytest.approx(_form_before_the_factor(c, i), rel=1e-12)
    assert _ttft(c | {"large_step_factor": 0.0}, i) == _ttft(c, i)


def test_a_pass_over_2048_tokens_is_slower_only_where_the_budget_allows_one() -> None:
    f = 0.07
    one_pass = COEF | {"chunk_tokens": 4194, "large_step_factor": f}
    plain = COEF | {"chunk_tokens": 4194}
    base = _ttft(plain, 3000) - COEF["overhead_s"]
    assert _ttft(one_pass, 3000) - COEF["overhead_s"] == pytest.approx((1 + f) * base)
    assert _ttft(one_pass, 2048) == _ttft(plain, 2048)  # 2048 tokens: not above the threshold
    chunked = COEF | {"chunk_tokens": 2048, "large_step_factor": f}  # steps of ≤ 2048 tokens
    assert _ttft(chunked, 3000) == _ttft(COEF | {"chunk_tokens": 2048}, 3000)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 8000), st.integers(1, 500), st.floats(0.0, 0.3))
def test_the_form_never_falls_as_the_prompt_grows(i: int, step: int, f: float) -> None:
    c = COEF | {"chunk_tokens": 4194, "large_step_factor": f}
    assert _ttft(c, i + step) >= _ttft(c, i)


@pytest.mark.slow
@pytest.mark.skipif(not REF.is_dir(), reason="reference data not present")
def test_the_study_fitted_as_it_ran_is_within_3_percent_for_each_model() -> None:
    """benchmarks/fit_fidelity.py, `as_the_study_ran_it`: no chunking (vLLM V0, step budget
    4194), the large-step factor chosen on the other two models, fitted on ≤ 1024 tokens,
    scored on 3–4097 (issue 12's goal: ≤ 3 % for each model)."""
    spec = importlib.util.spec_from_file_location("fit_fidelity",
                                                  ROOT / "benchmarks/fit_fidelity.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fit_fidelity"] = mod
    spec.loader.exec_module(mod)
    out = mod.jetson(REF)
    assert len(out) == 3
    for model, block in out.items():
        study = block["prefill"]["as_the_study_ran_it"]
        assert study["step_budget_tokens"] == 4194
        assert 0 < study["large_step_factor_from_other_models"] <= 0.16
        assert study["mape_all_pct"] <= 3.0, (model, study["mape_all_pct"])
        # the factor did something: without it the same fit is worse
        assert study["mape_all_pct_by_factor"]["0"] > study["mape_all_pct"]
