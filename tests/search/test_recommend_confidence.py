"""recommend --confidence: latency and peak memory are checked at their upper bound."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeprof.search import Problem, recommend
from edgeprof.search._problem import bound_exponent, upper_bound
from edgeprof.search._synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

MODELS = {"a-1b": 1.0, "b-3b": 3.0, "c-8b": 8.0}
BUDGETS = [256, 1024]


def _make(rel: float = 0.5) -> tuple[SyntheticProfile, SyntheticAccuracy]:
    dev = synthetic_device(memory_gib=64.0)
    prof = SyntheticProfile(dict(MODELS), device=dev, rel_interval=rel)
    acc = SyntheticAccuracy({"a-1b": 0.3, "b-3b": 0.5, "c-8b": 0.8},
                            {m: 600.0 for m in MODELS}, samples_max=1)
    return prof, acc


def _brute(prof, acc, problem: Problem):
    """Independent scalar check with predict(): the most accurate configuration whose
    latency and memory bounds meet the limits."""
    best = None
    for m, q in acc.pairs():
        for b in BUDGETS:
            length = acc.length_quantile(m, q, b, 1, problem.quantile)
            e2e = prof.predict(m, q, problem.input_tokens, max(1, round(length)), 1).e2e_s
            mem = prof.predict(m, q, problem.input_tokens, b, 1).peak_mem_bytes
            lat = upper_bound(e2e.value, e2e.hi, problem.confidence)
            if lat > problem.slo_s or upper_bound(mem.value, mem.hi, problem.confidence) > \
                    problem.memory_limit_bytes:
                continue
            key = (-round(acc.accuracy(m, q, b, 1).value, 12), lat)
            if best is None or key < best[0]:
                best = (key, (m, q, b))
    return best


def test_bound_reads_the_90_interval_as_lognormal() -> None:
    assert upper_bound(10.0, 20.0, 0.95) == pytest.approx(20.0)  # hi is the 0.95 quantile
    assert upper_bound(10.0, 20.0, 0.0) == 10.0 == upper_bound(10.0, 20.0, 0.5)
    b90, b99 = upper_bound(10.0, 20.0, 0.9), upper_bound(10.0, 20.0, 0.99)
    assert 10.0 < b90 < 20.0 < b99
    assert b90 == pytest.approx(10.0 * 2.0 ** (1.2815516 / 1.6448536), rel=1e-6)
    assert upper_bound(10.0, 9.0, 0.9) == 10.0  # no upper spread: the point
    assert bound_exponent(0.9, level=0.8) == pytest.approx(1.0)  # an 80 % interval's hi


def test_point_that_meets_but_bound_that_breaks_is_a_runner_up() -> None:
    prof, acc = _make()
    point = Problem(slo_s=1e9, input_tokens=128, memory_limit_bytes=prof.device.memory_bytes)
    top = recommend(prof, acc, point, budgets=BUDGETS, max_samples=1, trials=50).winner
    assert top is not None and top.model == "c-8b"
    cfg = (top.model, top.quant, top.budget)
    lat = top.latency_pct
    slo = (lat.value + upper_bound(lat.value, lat.hi, 0.9)) / 2  # point meets, bound breaks
    loose = Problem(slo_s=slo, input_tokens=128, memory_limit_bytes=point.memory_limit_bytes)
    strict = Problem(slo_s=slo, input_tokens=128, memory_limit_bytes=point.memory_limit_bytes,
                     confidence=0.9)
    at0 = recommend(prof, acc, loose, budgets=BUDGETS, max_samples=1, trials=50)
    at9 = recommend(prof, acc, strict, budgets=BUDGETS, max_samples=1, trials=50)
    assert at0.winner is not None and at9.winner is not None
    assert (at0.winner.model, at0.winner.quant, at0.winner.budget) == cfg
    assert (at9.winner.model, at9.winner.quant, at9.winner.budget) != cfg
    assert at9.winner.checked["latency_s"] <= slo < at0.winner.checked["latency_s"] * 1.5
    assert at9.winner.checked["confidence"] == 0.9
    assert at9.winner.checked["latency_s"] > at9.winner.latency_pct.value
    for rec, problem in ((at0, loose), (at9, strict)):
        brute = _brute(prof, acc, problem)
        assert brute is not None
        assert (rec.winner.model, rec.winner.quant, rec.winner.budget) == brute[1]
    lost = [c for c in at9.runner_ups if (c.model, c.quant) == cfg[:2]]
    if lost and "ruled out" in lost[0].verdict:
        assert lost[0].latency_s <= slo < lost[0].latency_bound_s
        assert "point" in lost[0].verdict and "meets it" in lost[0].verdict


def test_memory_is_checked_at_its_bound() -> None:
    prof, acc = _make()
    free = Problem(slo_s=1e9, input_tokens=128, memory_limit_bytes=10**15)
    w = recommend(prof, acc, free, budgets=[1024], max_samples=1, trials=50).winner
    assert w is not None
    mem = w.memory_bytes
    limit = int((mem.value + upper_bound(mem.value, mem.hi, 0.9)) / 2)
    ok = recommend(prof, acc, Problem(slo_s=1e9, input_tokens=128, memory_limit_bytes=limit),
                   budgets=[1024], max_samples=1, trials=50).winner
    margin = recommend(prof, acc, Problem(slo_s=1e9, input_tokens=128,
                                          memory_limit_bytes=limit, confidence=0.9),
                       budgets=[1024], max_samples=1, trials=50)
    assert ok is not None and (ok.model, ok.quant) == (w.model, w.quant)
    assert margin.winner is None or (margin.winner.model, margin.winner.quant) != (w.model,
                                                                                    w.quant)
    ruled = [c for c in margin.runner_ups if (c.model, c.quant) == (w.model, w.quant)]
    assert ruled and "memory 90% upper bound" in ruled[0].verdict
    assert ruled[0].memory_bound_bytes > limit >= ruled[0].memory_bytes


@pytest.mark.parametrize("bad", ["1", "-0.1", "nan"])
def test_bad_confidence_is_one_line(run_cli, bad: str) -> None:
    code, _, err = run_cli("recommend", "--device", "jetson-orin-nano-8gb", "--budget", "10s",
                           "--confidence", bad)
    assert code == 2 and "--confidence must be in [0, 1)" in err
    assert "Traceback" not in err


def test_cli_reports_point_and_bound(run_cli) -> None:
    args = ["recommend", "--device", "jetson-orin-nano-8gb", "--budget", "30s", "--models",
            "qwen2.5-1.5b", "--quants", "int8", "--budgets", "512", "--max-samples", "1",
            "--json"]
    code, out, _ = run_cli(*args)
    assert code == 0
    w = json.loads(out)["winner"]
    assert json.loads(out)["problem"]["confidence"] == 0.9  # the default
    lat = w["latency_pct"]
    assert lat["value"] < w["checked"]["latency_s"] < lat["hi"]
    assert w["checked"]["memory_bytes"] > w["memory_bytes"]["value"]
    code, out, _ = run_cli(*args, "--confidence", "0")
    w0 = json.loads(out)["winner"]
    assert np.isclose(w0["checked"]["latency_s"], w0["latency_pct"]["value"])


def test_no_device_hint_names_the_shipped_devices(run_cli) -> None:
    code, _, err = run_cli("recommend", "--budget", "2s")
    assert code == 2 and "models --devices" not in err
    assert "jetson-orin-nano-8gb" in err and "--device NAME" in err


def test_unified_memory_reserve_lowers_the_default_limit(run_cli) -> None:
    from edgeprof.device import load_device_spec

    spec = load_device_spec("jetson-orin-nano-8gb")
    assert spec.memory_reserve_bytes and "tegrastats" in spec.sources["memory_reserve_bytes"]
    code, out, _ = run_cli("recommend", "--device", "jetson-orin-nano-8gb", "--budget", "30s",
                           "--models", "qwen2.5-1.5b", "--budgets", "512", "--max-samples",
                           "1", "--json")
    assert code == 0
    limit = json.loads(out)["problem"]["memory_limit_bytes"]
    assert limit == spec.memory_bytes - spec.memory_reserve_bytes
    assert any("reserve" in n for n in json.loads(out)["notes"])
    code, out, _ = run_cli("recommend", "--device", "jetson-orin-nano-8gb", "--budget", "30s",
                           "--models", "qwen2.5-1.5b", "--budgets", "512", "--max-samples",
                           "1", "--memory-limit", "8GiB", "--json")
    assert json.loads(out)["problem"]["memory_limit_bytes"] == 8 * 2**30


def test_board_without_a_sourced_reserve_says_so(run_cli) -> None:
    from edgeprof.device import load_device_spec

    spec = load_device_spec("jetson-orin-nano-4gb")
    assert spec.memory_reserve_bytes is None  # no published figure for the 4 GB module
    code, out, _ = run_cli("recommend", "--device", "jetson-orin-nano-4gb", "--budget", "30s",
                           "--models", "qwen2.5-1.5b", "--budgets", "512", "--max-samples",
                           "1", "--json")
    assert code in (0, 4)
    rec = json.loads(out)
    assert rec["problem"]["memory_limit_bytes"] == spec.memory_bytes
    assert any("no sourced OS/carveout reserve" in n for n in rec["notes"])
