"""Carrying a measurement to another power mode, against published pairs (prints JSON).

    python benchmarks/power_mode_transfer.py

``Profile`` predicts a power mode that has no fit from a fit in another mode, scaled term by
term by the roofline ratio between the modes (docs/fit.md, "Provenance and fall-backs").
The rule has no fitted number of its own. It is judged here on published figures measured
in two modes of one board, same engine, model and lengths
(``../shared/reference/jetson-published-benchmarks/benchmarks.csv``: the Orin Nano 8GB at
15W, JetPack 6.0/6.1, and at MAXN_SUPER, JetPack 6.2, MLC INT4, 16 + 128 tokens). Each
figure in one mode stands in for a fit (a decode step equal to its time per token), is
carried to the other mode by ``Profile.predict``, and is compared with the figure published
there. Caveat: the two modes are also two JetPack releases.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.fit import Profile
from edgeprof.importers import read_figures
from edgeprof.table import Measurement

JB = (Path(__file__).resolve().parents[2] / "shared" / "reference"
      / "jetson-published-benchmarks" / "benchmarks.csv")


def _as_fit(r: Measurement) -> dict[str, Any]:
    """A profile fit entry whose decode reproduces this figure (kv and batch terms 0)."""
    decode = {"form": "", "coef": {"step_s": float(r.tbt_s or 0), "kv_s": 0.0, "per_seq_s": 0.0},
              "fitted_params": [], "n": 1, "fitted_on": None, "train_mape": None,
              "cv_mape": None, "extrapolation": None,
              "interval": {"lo": 1.0, "hi": 1.0, "level": 0.9}, "outliers": []}
    return {"model": r.model, "quant": r.quant, "engine": r.engine,
            "power_mode": r.power_mode, "sources": ["published figure"],
            "provenance": "predicted:measured-fit", "prefill": None, "decode": decode,
            "memory": None, "power": None}


def pairs(rows: list[Measurement]) -> list[tuple[Measurement, Measurement]]:
    """Figures of one board, engine, model, quant and lengths in two power modes."""
    out = []
    for a in rows:
        for b in rows:
            if (a is not b and a.power_mode and b.power_mode and a.power_mode != b.power_mode
                    and a.tbt_s and b.tbt_s
                    and (a.device, a.engine, a.model, a.quant, a.input_tokens,
                         a.output_tokens, a.batch)
                    == (b.device, b.engine, b.model, b.quant, b.input_tokens,
                        b.output_tokens, b.batch)):
                out.append((a, b))
    return out


def carry(a: Measurement, b: Measurement) -> dict[str, Any]:
    """Figure ``a`` as the fit, predicted in ``b``'s mode, against ``b``."""
    base = Profile.load(a.device)
    prof = Profile(base.device, [_as_fit(a)], base.calibration, base.provenance)
    steps = a.output_tokens - 1
    pred = prof.predict(a.model, a.quant, a.input_tokens, a.output_tokens,
                        power_mode=b.power_mode, engine=a.engine).decode_s
    value, lo, hi = (x / steps for x in (pred.value, pred.lo, pred.hi))
    return {"device": a.device, "engine": a.engine, "model": a.model, "quant": a.quant,
            "from_mode": a.power_mode, "to_mode": b.power_mode,
            "from_tpot_s": a.tbt_s, "published_tpot_s": b.tbt_s, "predicted_tpot_s": value,
            "interval_90_s": [lo, hi], "ratio": value / float(b.tbt_s),
            "inside_90": lo <= float(b.tbt_s) <= hi, "provenance": pred.provenance,
            "note": pred.note}


def main() -> int:
    rows = read_figures(JB)[0] if JB.exists() else []
    per = [carry(a, b) for a, b in pairs(rows)]
    err = [abs(p["ratio"] - 1) for p in per]
    ignored = [abs(p["published_tpot_s"] / p["from_tpot_s"] - 1) for p in per]
    summary = {"n": len(per),
               "median_abs_error": float(np.median(err)) if err else None,
               "coverage_90": float(np.mean([p["inside_90"] for p in per])) if per else None,
               # the same figures taken as mode-independent (no transfer), for comparison
               "median_abs_error_ignoring_the_mode": float(np.median(ignored)) if per else None}
    json.dump({"command": "python benchmarks/power_mode_transfer.py", "figures": per,
               "summary": summary}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
