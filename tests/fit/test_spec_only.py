"""``benchmarks/spec_only.py`` runs on the shipped reference data and gives finite errors."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT.parent / "shared/reference/edgereasoning-jetson-agx-orin"
pytestmark = pytest.mark.skipif(not REF.is_dir(), reason="reference data not present")


def _module():
    spec = importlib.util.spec_from_file_location("spec_only", ROOT / "benchmarks/spec_only.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spec_only_errors_are_finite_and_calibration_helps() -> None:
    result = _module().spec_only(REF)
    assert set(result["models"]) == {"deepseek-r1-distill-qwen-1.5b",
                                     "deepseek-r1-distill-llama-8b",
                                     "deepseek-r1-distill-qwen-14b"}
    for model, entry in result["models"].items():
        assert model not in entry["lomo_factors"]["fitted_on"]  # leave-one-model-out
        assert len(entry["lomo_factors"]["fitted_on"]) == 2
        for kind in ("uncalibrated", "calibrated_lomo", "calibrated_all"):
            for phase in ("prefill", "decode", "e2e"):
                assert math.isfinite(entry[kind][phase]) and entry[kind][phase] >= 0
                assert 0.0 <= entry[kind]["interval_coverage"][phase] <= 1.0
        # calibration on the other two models beats the spec sheet alone on decode
        assert entry["calibrated_lomo"]["decode"] < entry["uncalibrated"]["decode"]
    for k, v in result["calibrated_factors_all"].items():
        assert math.isfinite(v) and v >= 0, k
    assert 0 < result["calibrated_factors_all"]["bandwidth_eff"] <= 1
