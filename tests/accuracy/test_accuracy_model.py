"""The accuracy model over budget, N and quant (edgeprof.accuracy._curves / ._published)."""

from __future__ import annotations

import csv
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.accuracy import _curves as curves
from edgeprof.accuracy import load_accuracy
from edgeprof.accuracy._data import builtin_path
from edgeprof.errors import UserInputError

BUDGETS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]


@pytest.fixture(scope="module")
def math500():
    return load_accuracy("published-table")


@pytest.fixture(scope="module")
def aime():
    return load_accuracy("published-table", benchmark="AIME 2024")


@settings(max_examples=60, deadline=None)
@given(mean=st.floats(50, 20000), b1=st.floats(1, 40000), b2=st.floats(1, 40000))
def test_truncation_curve_is_monotone_in_budget(mean: float, b1: float, b2: float) -> None:
    c = curves.curve_from_mean_length(mean)
    lo_b, hi_b = sorted((b1, b2))
    assert c.fraction(lo_b) <= c.fraction(hi_b) + 1e-12
    r1, r2 = c.fraction_range(lo_b), c.fraction_range(hi_b)
    assert r1[0] <= r2[0] + 1e-12 and r1[1] <= r2[1] + 1e-12
    assert r1[0] <= c.fraction(lo_b) <= r1[1]


@settings(max_examples=40, deadline=None)
@given(b=st.integers(100, 16000), f=st.floats(0.05, 0.95))
def test_fitted_curve_passes_through_its_point(b: int, f: float) -> None:
    c = curves.fit_budget_curve([b], [f])
    assert c.fraction(b) == pytest.approx(f, abs=1e-6)
    assert c.fraction(b / 2) < f < c.fraction(b * 2)


@settings(max_examples=60, deadline=None)
@given(mean=st.floats(0.01, 0.99), kappa=st.floats(0.1, 100), n=st.integers(1, 63))
def test_pass_at_n_is_monotone_in_n_and_bounds_majority(mean: float, kappa: float,
                                                        n: int) -> None:
    assert curves.pass_at(mean, kappa, n) <= curves.pass_at(mean, kappa, n + 1) + 1e-12
    assert curves.pass_at(mean, kappa, 1) == pytest.approx(mean)
    # a vote cannot beat "any sample correct"
    assert curves.majority_at(mean, kappa, n) <= curves.pass_at(mean, kappa, n) + 1e-9


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_published_model_is_monotone_in_budget(math500, data) -> None:
    pairs = [p for p in math500.pairs() if len(math500.budgets(*p)) > 1]
    assert pairs, "MATH-500 must have pairs with a budget curve"
    m, q = data.draw(st.sampled_from(pairs))
    bs = sorted(data.draw(st.lists(st.sampled_from(math500.budgets(m, q)), min_size=2,
                                   max_size=4, unique=True)))
    ests = [math500.accuracy(m, q, b, 1) for b in bs]
    for a, b in itertools.pairwise(ests):
        assert a.value <= b.value + 1e-12 and a.lo <= b.lo + 1e-12 and a.hi <= b.hi + 1e-12
    for e in ests:
        assert 0.0 <= e.lo <= e.value <= e.hi <= 1.0


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_published_pass_at_n_is_monotone_in_n(aime, data) -> None:
    pairs = [p for p in aime.measured_pairs() if aime.max_samples(*p) > 1]
    assert pairs, "AIME 2024 must have pairs with published N figures"
    m, q = data.draw(st.sampled_from(pairs))
    b = data.draw(st.sampled_from(aime.budgets(m, q)))
    ns = sorted(data.draw(st.lists(st.integers(1, aime.max_samples(m, q)), min_size=2,
                                   max_size=4, unique=True)))
    vals = [aime.accuracy(m, q, b, n, method="pass").value for n in ns]
    assert vals == sorted(vals)


def test_majority_fit_reproduces_the_published_cons64(aime) -> None:
    """The Beta spread is fitted to pass@1 and cons@64: the model gives cons@64 back, the
    published figure lies inside the interval, and N = 1 is pass@1."""
    rows = [r for r in csv.DictReader(line for line in builtin_path("published-table")
                                      .open(encoding="utf-8") if not line.startswith("#"))
            if r["benchmark"] == "AIME 2024" and r["method"] == "majority"
            and r["quant"] == "bf16" and r["model"] == "deepseek-r1-distill-qwen-7b"]
    assert rows, "the shipped table must hold DeepSeek's cons@64"
    cons = float(rows[0]["accuracy"])
    m = "deepseek-r1-distill-qwen-7b"
    top = max(aime.budgets(m, "bf16"))
    e64 = aime.accuracy(m, "bf16", top, 64)
    assert e64.value == pytest.approx(cons, abs=curves.MAX_MISFIT)
    assert e64.lo <= cons <= e64.hi
    e1 = aime.accuracy(m, "bf16", top, 1)
    assert e1.value < e64.value and "cons@64" in (e64.note or "")


def test_beyond_the_data_is_refused(math500) -> None:
    m = "deepseek-r1-distill-qwen-1.5b"
    top = max(math500.budgets(m, "bf16"))
    with pytest.raises(UserInputError, match="beyond the largest published budget"):
        math500.accuracy(m, "bf16", top * 2, 1)
    with pytest.raises(UserInputError, match="N >"):
        math500.accuracy(m, "bf16", top, 4)  # MATH-500 publishes no N > 1 for it


def test_short_budget_is_labeled_and_wide(math500) -> None:
    e = math500.accuracy("qwen2.5-1.5b", "bf16", 256, 1)
    full = math500.accuracy("qwen2.5-1.5b", "bf16", 32768, 1)
    assert 0 < e.value < full.value
    assert "truncation model" in e.note and "dispersion assumed" in e.note
    assert (e.hi - e.lo) > 2 * (full.hi - full.lo)  # the model's interval is the wide one


def test_quant_provenance_is_honest(math500) -> None:
    own = math500.accuracy("deepseek-r1-distill-qwen-1.5b", "int4", 32768, 1)
    assert own.provenance == "imported" and "2504.04823" in own.note
    derived = math500.accuracy("qwen2.5-1.5b", "int4", 32768, 1)
    assert derived.provenance == "prior" and "prior over imported data" in derived.note


def test_every_shipped_row_has_source_url_and_evidence() -> None:
    lines = [line for line in builtin_path("published-table").open(encoding="utf-8")
             if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    assert len(rows) >= 800
    assert all(r["source"] and r["url"].startswith("http") and r["evidence"] for r in rows)
    assert not any("memory" in (r.get("verified") or "") for r in rows)


def test_held_out_rows_are_shipped_but_not_modeled(aime) -> None:
    lines = [line for line in builtin_path("published-table").open(encoding="utf-8")
             if not line.startswith("#")]
    held = [r for r in csv.DictReader(lines) if r["note"].startswith("held out")]
    assert held and all(r["evidence"] for r in held)
    e = aime.accuracy("deepseek-r1-distill-qwen-1.5b", "bf16", 8192, 1)
    assert "16916" in e.note and "8192: 0.292" not in e.note
