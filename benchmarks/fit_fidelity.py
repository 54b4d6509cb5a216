"""Fit fidelity on the published Jetson AGX Orin data, against the published models.

    python benchmarks/fit_fidelity.py [--reference DIR] [--cpu-sweep DIR]

Prints JSON. Prefill: fitted on inputs ≤ 1024 only, MAPE over all 3–4097 inputs (points
the fitter flags as outliers on the full data are reported separately). Decode: MAPE over
the whole input × output grid, fitted on all of it and on a checkerboard half (tested on
the other half). The study's published coefficients are evaluated on the same points.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from edgeprof.catalog import resolve_model
from edgeprof.fit.fitters import DecodeModel, PrefillModel
from edgeprof.importers.edgereasoning import decode_rows, prefill_rows

REF = Path(__file__).resolve().parents[2] / "shared/reference/edgereasoning-jetson-agx-orin"
# The study's coefficients (reference README): prefill a, b, c; decode m, n.
PUBLISHED = {
    "deepseek-r1-distill-qwen-1.5b": (1.5636e-07, 2.3096e-06, 0.045981, 1.4968e-07, 0.023634),
    "deepseek-r1-distill-llama-8b": (6.6452e-07, 2.9035e-04, 0.103808, 6.9202e-07, 0.100384),
    "deepseek-r1-distill-qwen-14b": (1.2330e-06, 5.3045e-04, 0.188581, 1.1302e-06, 0.186554),
}


def _mape(pred: np.ndarray, y: np.ndarray) -> float:
    return float(100 * np.mean(np.abs(pred / y - 1))) if len(y) else float("nan")


def jetson(ref: Path) -> dict:
    pre, dec = prefill_rows(ref), decode_rows(ref)
    out = {}
    for model, (a, b, c, m, n) in PUBLISHED.items():
        arch = resolve_model(model)
        D = np.array([(r.nominal_input_tokens, r.output_tokens, 1, r.decode_s) for r in dec
                      if r.model == model and r.decode_s], float)
        Xd, yd = D[:, :3], D[:, 3]
        dm = DecodeModel().fit(Xd, yd)
        ranks = np.unique(Xd[:, 0], return_inverse=True)[1] + np.unique(
            Xd[:, 1], return_inverse=True)[1]
        half = ranks % 2 == 0
        dh = DecodeModel().fit(Xd[half], yd[half])
        pub_d = Xd[:, 1] * (m * Xd[:, 0] + n + m * (Xd[:, 1] - 1) / 2)
        P = np.array([(r.input_tokens, 1, 1, r.ttft_s) for r in pre if r.model == model], float)
        Xp, yp = P[:, :3], P[:, 3]
        short = Xp[:, 0] <= 1024
        pm = PrefillModel(arch, dm.coef_["step_s"]).fit(Xp[short], yp[short])
        flags = PrefillModel(arch, dm.coef_["step_s"]).fit(Xp, yp).outliers_
        bad = np.isin(Xp[:, 0], [o["input_tokens"] for o in flags])
        pred = pm.predict(Xp)
        pad = np.ceil(Xp[:, 0] / 128) * 128
        pub_p = a * pad**2 + b * pad + c
        out[model] = {
            "prefill": {
                "fit_on": "input_tokens <= 1024", "n_fit": int(short.sum()),
                "mape_all_pct": _mape(pred[~bad], yp[~bad]),
                "mape_le1024_pct": _mape(pred[short & ~bad], yp[short & ~bad]),
                "mape_gt1024_pct": _mape(pred[~short & ~bad], yp[~short & ~bad]),
                "published_mape_all_pct": _mape(pub_p[~bad], yp[~bad]),
                "published_mape_le1024_pct": _mape(pub_p[short & ~bad], yp[short & ~bad]),
                "outliers": [{"input_tokens": int(o["input_tokens"]), "ttft_s": o["measured"],
                              "fit_error_pct": _mape(pred[Xp[:, 0] == o["input_tokens"]],
                                                     yp[Xp[:, 0] == o["input_tokens"]])}
                             for o in flags],
                "coef": pm.coef_},
            "decode": {
                "n": len(yd), "mape_all_pct": _mape(dm.predict(Xd), yd),
                "half_fit_test_mape_pct": _mape(dh.predict(Xd[~half]), yd[~half]),
                "published_mape_pct": _mape(pub_d, yd), "coef": dm.coef_},
        }
    return out


def cpu(folder: Path) -> dict:
    """Held-out e2e and peak-memory error on a CPU sweep: 30 % of the points held out."""
    from edgeprof.device.detect import host_spec
    from edgeprof.fit import Profile, fit_rows
    from edgeprof.table import read_measurements

    rows = [r for r in read_measurements(folder) if r.status == "ok" and r.e2e_s]
    # Hold out whole points (every repeat of one model × quant × input × output × batch), so
    # no repeat of a test point is fitted on.
    keys = sorted({(r.model, r.quant, r.input_tokens, r.output_tokens, r.batch) for r in rows})
    rng = np.random.default_rng(0)
    held = {k for k, u in zip(keys, rng.random(len(keys)), strict=True) if u < 0.3}
    test = np.array([(r.model, r.quant, r.input_tokens, r.output_tokens, r.batch) in held
                     for r in rows])
    train = [r for r, t in zip(rows, test, strict=True) if not t]
    spec = host_spec("cpu")
    prof = Profile.from_fits(spec, fit_rows(train, spec))
    e2e, mem = [], []
    for r in (r for r, t in zip(rows, test, strict=True) if t):
        p = prof.predict(r.model, r.quant, r.input_tokens, r.output_tokens, r.batch,
                         r.power_mode)
        e2e.append(abs(p.e2e_s.value / r.e2e_s - 1))
        if r.peak_mem_bytes:
            mem.append(abs(p.peak_mem_bytes.value / r.peak_mem_bytes - 1))
    return {"rows": len(rows), "test_rows": int(test.sum()), "test_points": len(held),
            "held_out_e2e_mape_pct": 100 * float(np.mean(e2e)) if e2e else None,
            "peak_mem_mape_pct": 100 * float(np.mean(mem)) if mem else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=REF)
    ap.add_argument("--cpu-sweep", type=Path, default=None)
    args = ap.parse_args()
    result = {"jetson_agx_orin": jetson(args.reference)}
    if args.cpu_sweep:
        result["cpu"] = cpu(args.cpu_sweep)
    print(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
