"""``recommend`` / ``predict --device NAME`` on every shipped Jetson profile, no measurements.

Issue 8's and 13's checks: each shipped Jetson profile, with the shipped published accuracy,
gives a real model with accuracy > 0 at 2 s / 10 s / 60 s, or a clear "nothing fits" (exit 4
naming the fastest configuration with its accuracy and the smallest SLO that admits a real
model), never a traceback; the winner's accuracy never drops as the SLO grows; predictions
for pairs the profile never measured are labeled ``predicted:spec-derived``.
"""

from __future__ import annotations

import json

import pytest

from edgeprof.catalog import resolve_model
from edgeprof.device._spec import profiles_dir
from edgeprof.fit import Profile

JETSONS = sorted(p.stem for p in profiles_dir().glob("jetson-*.yaml"))
SPEC = "predicted:spec-derived"


def test_every_jetson_profile_is_covered() -> None:
    assert {"jetson-orin-nano-4gb", "jetson-orin-nano-8gb", "jetson-orin-nx-8gb",
            "jetson-orin-nx-16gb", "jetson-agx-orin-32gb", "jetson-agx-orin-64gb",
            "jetson-agx-thor"} <= set(JETSONS)


def _expected_provenance(device: str, model: str, quant: str, batch: int) -> set[str]:
    fitted = set(Profile.load(device).fitted_pairs())
    if (resolve_model(model).name, quant) in fitted and batch == 1:
        return {"predicted:measured-fit"}
    return {SPEC}


def _check(device: str, code: int, stdout: str, stderr: str) -> dict:
    assert "Traceback" not in stderr
    rec = json.loads(stdout)
    assert code == (0 if rec["feasible"] else 4), stderr  # the exit code says which
    if code == 4:
        assert not rec["feasible"] and rec["winner"] is None
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("Error: No configuration meets the constraints"), last
        assert "the fastest is" in last and " s (95th pct)" in last
        cfg = rec["fastest"]
    else:
        assert rec["feasible"]
        cfg = rec["winner"]
    assert cfg is not None
    assert cfg["latency_pct"]["provenance"] in _expected_provenance(
        device, cfg["model"], cfg["quant"], cfg["samples"])
    assert cfg["latency_pct"]["lo"] <= cfg["latency_pct"]["value"] <= cfg["latency_pct"]["hi"]
    return rec


SLOS = ("2s", "10s", "60s")


def _real_answer(device: str, slo: str, code: int, stdout: str, stderr: str) -> float:
    """The issue-13 outcome for one SLO; returns the winner's accuracy (0 when infeasible)."""
    rec = _check(device, code, stdout, stderr)
    if code == 4:
        last = stderr.strip().splitlines()[-1]
        f = rec["fastest"]
        assert f"accuracy {f['accuracy']['value']:.3f}" in last, last
        assert "the smallest SLO that admits a real model" in last, last
        assert rec["min_slo_s"] is not None and rec["min_slo_s"] > float(slo[:-1])
        assert "-scaled-" not in f["model"]
        return 0.0
    w = rec["winner"]
    assert "-scaled-" not in w["model"] and w["synthetic"] is False
    acc = w["accuracy"]
    assert acc["value"] > 0.0 and acc["lo"] <= acc["value"] <= acc["hi"]
    assert acc["provenance"] in ("imported", "prior")  # prior: a format derived over imports
    assert "arXiv" in acc["note"]  # names the paper the figures come from
    return float(acc["value"])


@pytest.mark.parametrize("device", JETSONS)
def test_recommend_default_data_real_model_monotone_in_slo(device: str, run_cli) -> None:
    """No --accuracy: 2 s, 10 s and 60 s each give a real model with accuracy > 0 from the
    shipped published figures, or exit 4 naming the fastest's accuracy and the smallest SLO
    that admits a real model; the winner's accuracy never drops as the SLO grows."""
    accs = []
    for slo in SLOS:
        code, stdout, stderr = run_cli("recommend", "--device", device, "--budget", slo,
                                       "--json", "--trials", "10")
        accs.append(_real_answer(device, slo, code, stdout, stderr))
        rec = json.loads(stdout)
        assert any("published-table" in n for n in rec["notes"])
        assert any("benchmark MATH-500 (the default" in n for n in rec["notes"])
        assert rec["provenance"]["accuracy_benchmark"] == "MATH-500"
        assert rec["problem"]["input_tokens"] == 512
        if not Profile.load(device).fits:
            cfg = rec["winner"] or rec["fastest"]
            assert {p["provenance"] for p in (cfg["latency_pct"], cfg["ttft"],
                                              cfg["memory_bytes"])} == {SPEC}
    assert accs == sorted(accs), accs
    assert accs[-1] > 0.0  # 60 s admits a real model on every shipped Jetson


@pytest.mark.parametrize("device", ["jetson-orin-nano-8gb", "jetson-agx-thor"])
def test_recommend_device_synthetic_traces_flags_the_toy(device: str, run_cli) -> None:
    code, stdout, stderr = run_cli(
        "recommend", "--device", device, "--budget", "2s", "--accuracy", "synthetic-traces",
        "--budgets", "128,256,512", "--max-samples", "4", "--trials", "8", "--json")
    rec = _check(device, code, stdout, stderr)
    cfg = rec["winner"] or rec["fastest"]
    assert cfg["accuracy"]["provenance"] == "synthetic"  # a prior over synthetic stays so
    if rec["winner"] is not None:
        assert rec["winner"]["synthetic"] is True


def test_synthetic_winner_is_flagged_in_table_manifest_and_report(run_cli) -> None:
    from edgeprof.manifest._build import build_manifest
    from edgeprof.report._pareto import _winner
    from edgeprof.search._result import Recommendation

    args = ("recommend", "--device", "jetson-agx-thor", "--budget", "5s", "--accuracy",
            "synthetic-traces", "--models", "qwen2.5-0.5b-scaled-4L", "--budgets", "128,256",
            "--max-samples", "2", "--trials", "4")
    code, stdout, _ = run_cli(*args, "--json")
    assert code == 0
    rec = Recommendation.model_validate_json(stdout)
    assert rec.winner is not None and rec.winner.synthetic
    assert "SYNTHETIC" in _winner(rec.winner, rec.problem)
    manifest = build_manifest(rec, allow_scaled=True)
    assert any(n.startswith("SYNTHETIC winner") for n in manifest.engines.notes)
    code, table, _ = run_cli(*args)
    assert code == 0 and "SYNTHETIC" in table


def test_impossible_slo_is_one_line_nothing_fits(run_cli) -> None:
    code, _, stderr = run_cli(
        "recommend", "--device", "jetson-orin-nano-4gb", "--budget", "10ms",
        "--accuracy", "synthetic-traces", "--budgets", "128,256", "--max-samples", "2",
        "--trials", "4")
    assert code == 4
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("Error: No configuration meets")


def test_aime_uses_published_sample_counts_and_majority_grows(run_cli) -> None:
    """AIME 2024 has cons@64 for the distills: N up to 64 is searched, and at a long SLO on
    the Thor the majority-vote model is used where it pays."""
    code, stdout, stderr = run_cli(
        "recommend", "--device", "jetson-agx-thor", "--budget", "600s", "--benchmark",
        "AIME 2024", "--trials", "10", "--json", "--max-samples", "8")
    assert code == 0, stderr
    rec = json.loads(stdout)
    assert max(rec["problem"]["axes"]["samples"]) == 8
    assert rec["provenance"]["accuracy_benchmark"] == "AIME 2024"
    assert rec["winner"]["accuracy"]["value"] > 0


@pytest.mark.parametrize("device", JETSONS)
def test_predict_device(device: str, run_cli) -> None:
    code, stdout, stderr = run_cli(
        "predict", "--device", device, "--model", "qwen2.5-1.5b", "--quant", "int8",
        "--input-tokens", "512", "--output-tokens", "256", "--json")
    assert code == 0, stderr
    out = json.loads(stdout)
    for key in ("ttft_s", "decode_s", "e2e_s", "peak_mem_bytes"):
        est = out[key]
        assert est["provenance"] == SPEC  # qwen2.5-1.5b is measured on no shipped profile
        assert 0 < est["lo"] <= est["value"] <= est["hi"]
    # spec-only: the wide interval (x0.6-1.8); calibrated roofline: x0.75-1.35
    e2e = out["e2e_s"]
    width = (e2e["hi"] - e2e["lo"]) / e2e["value"]
    cal = Profile.load(device).calibration or {}
    own = bool(cal) and not cal.get("transferred_from")  # transferred: keeps the wide interval
    floats = any(isinstance(v, float) for v in cal.values())
    if cal.get("engines") and not floats:  # only published-figure engine terms (Thor)
        iv = cal["engines"][cal["engine"]]["interval"]
        assert width == pytest.approx(iv["hi"] - iv["lo"], rel=0.02)
    else:
        assert width == pytest.approx(0.6 if own else 1.2, rel=0.02)
    assert 0.01 < e2e["value"] < 120


def test_predict_device_unsupported_quant_is_one_line(run_cli) -> None:
    code, _, stderr = run_cli("predict", "--device", "jetson-orin-nano-8gb", "--model",
                              "qwen2.5-1.5b", "--quant", "fp8", "--input-tokens", "64",
                              "--output-tokens", "8")
    assert code == 2 and stderr.startswith("Error:") and "fp8" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_missing_option_is_a_usage_error_not_a_traceback(run_cli) -> None:
    code, _, stderr = run_cli("recommend", "--device", "jetson-orin-nano-8gb")
    assert code == 2
    assert "Missing option" in stderr and "--budget" in stderr
