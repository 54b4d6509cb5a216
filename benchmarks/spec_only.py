"""How good is the spec-only path? The published AGX Orin data predicted from the spec sheet.

    python benchmarks/spec_only.py [--reference DIR]

Prints JSON: per model (1.5B, 8B, 14B) and phase, the MAPE of

* ``uncalibrated``: the roofline from the AGX Orin 64GB spec sheet alone (peak bandwidth and
  compute from ``profiles/jetson-agx-orin-64gb.yaml``'s ``device:`` section, the default
  efficiency factors of :mod:`edgeprof.fit._roofline`) — what ``--device`` gives a board
  nobody measured;
* ``calibrated_lomo``: the same roofline with efficiency factors calibrated, leave one model
  out, on the *other two* models' measurements (``edgeprof fit`` on their rows, then
  :func:`edgeprof.fit.calibrate`) — an honest estimate for an unmeasured model on a
  calibrated board;
* ``calibrated_all``: factors calibrated on all three models (what the shipped profile holds;
  in-sample, for comparison only).

Each also gives the median signed error (``median_bias_pct``, > 0: predicted too slow) and
the share of measurements inside the prediction's 90 % interval (``interval_coverage``).

Phases: ``prefill`` = TTFT over all 33 published inputs (3–4097 tokens); ``decode`` = decode
time over the input × output grid (output > 1); ``e2e`` = TTFT + decode on the decode grid,
where the measured TTFT is interpolated (linearly in input tokens) from the prefill curve at
the decode row's input length, since no published run records both phases.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.catalog import resolve_model
from edgeprof.device import DeviceSpec, load_device_spec
from edgeprof.fit import DEFAULT_CALIBRATION, Profile, calibrate, fit_rows
from edgeprof.importers import decode_rows, prefill_rows

REF = Path(__file__).resolve().parents[2] / "shared/reference/edgereasoning-jetson-agx-orin"
DEVICE = "jetson-agx-orin-64gb"
QUANT = "bf16"  # the importer's assumption (vLLM dtype=auto on bf16 checkpoints)
FACTORS = ("compute_eff", "bandwidth_eff", "kv_bandwidth_eff", "decode_overhead_s",
           "prefill_overhead_s")


def _mape(pred: np.ndarray, y: np.ndarray) -> float:
    return float(100 * np.mean(np.abs(pred / y - 1)))


def _data(ref: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per model: prefill (I, TTFT) and decode (I, O, decode_s, interpolated TTFT)."""
    pre, dec = prefill_rows(ref), decode_rows(ref)
    out: dict[str, dict[str, np.ndarray]] = {}
    for model in sorted({r.model for r in pre} & {r.model for r in dec}):
        p = np.array(sorted((r.input_tokens, r.ttft_s) for r in pre if r.model == model),
                     float)
        d = np.array([(r.input_tokens, r.output_tokens, r.decode_s) for r in dec
                      if r.model == model and r.decode_s and r.output_tokens > 1], float)
        ttft_at = np.interp(d[:, 0], p[:, 0], p[:, 1])
        out[model] = {"prefill": p, "decode": np.column_stack([d, ttft_at])}
    return out


def _errors(profile: Profile, model: str, data: dict[str, np.ndarray]) -> dict[str, Any]:
    """MAPE per phase, plus the median signed error and the 90 % interval's coverage."""
    p, d = data["prefill"], data["decode"]
    ones = np.ones(len(p))
    gp = profile.predict_grid(model, QUANT, p[:, 0], ones, ones)
    gd = profile.predict_grid(model, QUANT, d[:, 0], d[:, 1], np.ones(len(d)))
    cases = {"prefill": (gp["ttft_s"], gp["ttft_lo"], gp["ttft_hi"], p[:, 1]),
             "decode": (gd["decode_s"], gd["decode_lo"], gd["decode_hi"], d[:, 2]),
             "e2e": (gd["e2e_s"], gd["e2e_lo"], gd["e2e_hi"], d[:, 3] + d[:, 2])}
    out: dict[str, Any] = {k: _mape(v[0], v[3]) for k, v in cases.items()}
    out["median_bias_pct"] = {k: float(100 * np.median(v[0] / v[3] - 1))
                              for k, v in cases.items()}
    out["interval_coverage"] = {k: float(np.mean((v[1] <= v[3]) & (v[3] <= v[2])))
                                for k, v in cases.items()}
    return out


def _factors(cal: dict[str, Any]) -> dict[str, float]:
    return {k: float(cal[k]) for k in FACTORS}


def spec_only(ref: Path = REF, spec: DeviceSpec | None = None) -> dict[str, Any]:
    """MAPE (%) per model and phase: uncalibrated, leave-one-model-out and in-sample."""
    spec = spec or load_device_spec(DEVICE)
    data = _data(ref)
    rows = prefill_rows(ref) + decode_rows(ref)
    fits = {e.model: e for e in fit_rows(rows, spec)}
    bare = Profile(spec)  # no fits, no calibration: the spec sheet and default factors
    cal_all = calibrate(list(fits.values()), spec, resolve_model)
    assert cal_all is not None
    in_sample = Profile(spec, calibration=cal_all)
    models: dict[str, Any] = {}
    for model, d in data.items():
        others = [fits[m] for m in fits if m != model]
        cal = calibrate(others, spec, resolve_model)
        assert cal is not None
        lomo = Profile(spec, calibration=cal)
        models[model] = {
            "params_b": round(resolve_model(model).params / 1e9, 2),
            "n_prefill": len(d["prefill"]), "n_decode": len(d["decode"]),
            "uncalibrated": _errors(bare, model, d),
            "calibrated_lomo": _errors(lomo, model, d),
            "calibrated_all": _errors(in_sample, model, d),
            "lomo_factors": {**_factors(cal), "fitted_on": sorted(m for m in fits
                                                                  if m != model)},
        }
    return {"device": spec.name, "quant": QUANT,
            "spec": {"memory_bandwidth_gbs": spec.memory_bandwidth_gbs,
                     "peak_tflops_bf16": spec.peak_tflops.get("bf16")},
            "default_factors": _factors(DEFAULT_CALIBRATION),
            "calibrated_factors_all": _factors(cal_all),
            "models": models,
            "metric": "MAPE % = mean |predicted / measured - 1| x 100"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=REF)
    args = ap.parse_args()
    print(json.dumps(spec_only(args.reference), indent=2))


if __name__ == "__main__":
    main()
