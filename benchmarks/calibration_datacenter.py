"""Engine terms for desktop/datacenter GPUs, fitted on datacenter figures; held-out error (JSON).

The Jetson terms (``benchmarks/calibration.py``) carry a ~10 ms vLLM-on-Jetson step overhead
and Orin efficiencies; a datacenter card with CUDA-graph decode steps is not that machine.
Here the same machinery (``edgeprof.fit._calibrate``) is fitted on datacenter figures only:

* ``benchmarks/data/datacenter-published.csv``: published end-to-end/engine measurements
  (TensorRT-LLM 0.5 / 0.9 batch-1 first-token latency on H100, H200, L40S, A100; one vLLM CI
  static-batch latency on H200), sources in the file.
* ``benchmarks/data/datacenter-served.csv``: measured single-request serving runs (NVIDIA
  NIM / TensorRT-LLM 0.9.0 TTFT and TPOT on A100, H100, H200, L40S; vLLM 0.7.2 single-stream
  request latency of four DeepSeek-R1 distills on RTX A6000, A100, H100), one source per
  dataset (``benchmarks/datacenter_served.py`` is their held-out check before they joined).
* ``benchmarks/data/aiconfigurator-estimates.csv``: **AIConfigurator database estimates**
  (per-kernel silicon timings composed by AIConfigurator, not end-to-end measurements;
  ``benchmarks/aic_reference.py``). Each AIConfigurator (system, backend, version) table is
  its own source.

Terms: per engine over the whole class (``class``), and per device where the device has
figures of that engine (fitted with the class terms as the prior). Held-out error:
leave-one-source-out, leave-one-device-out (= what a card without figures gets: the class
terms of the other cards) and leave-one-model-out, median |pred/meas − 1| per metric and the
coverage of 90 % intervals whose width comes from the other groups' held-out errors
(``calibrate.summarize``), over all figures and separately for the published measurements and
the AIConfigurator estimates. The intervals written into the profiles are held-out ones:
leave-one-source-out (a new source is what a user's run is) for a card with its own figures,
leave-one-device-out widened by ``TRANSFER_WIDEN`` (log scale) for a card that takes the
class terms.

    python benchmarks/calibration_datacenter.py            # JSON report
    python benchmarks/calibration_datacenter.py --write    # also write the profiles
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.fit import Obs, fit_with_devices, held_out, observations, summarize
from edgeprof.importers import read_figures

DATA = Path(__file__).resolve().parent / "data"
PUBLISHED = DATA / "datacenter-published.csv"
AIC = DATA / "aiconfigurator-estimates.csv"
SERVED = DATA / "datacenter-served.csv"
PROFILES = Path(__file__).resolve().parent.parent / "profiles"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration import write_profile  # noqa: E402  (a sibling script, not a package)

MIN_DEVICE_FIGURES = 6  # figures of one engine on one card before it gets its own terms
TRANSFER_WIDEN = 1.5    # log-scale widening of the leave-one-device-out interval
ENGINE = "trtllm"       # the datacenter profiles' default engine
# Decode-step overhead per layer (kernels launch per layer): the fitted decode_overhead_s is
# that of a 32-layer model. Chosen on these figures: leave-one-source-out decode error 12.1 %
# with a per-step constant, 10.9 % per layer (Qwen3-0.6B/1.7B have 28 layers, the 8Bs 32-36).
# TensorRT-LLM's FP8 recipe quantizes the KV cache too (benchmarks/python/build.py:
# ``--quantization fp8`` = QuantAlgo.FP8 GEMMs + kv_cache_quant_algo FP8; "fp8_gemm" is the
# GEMM-only one), and the AIConfigurator FP8 rows are gemm/kv/fmha fp8: its FP8 figures read
# one byte per KV element. vLLM keeps ``kv_cache_dtype auto`` (the activations' 16 bits).
FIXED = {"overhead_ref_layers": 32.0, "engines": {"trtllm": {"fp8_kv_cache": 1.0}}}


def source_name(row: dict[str, Any]) -> str:
    """AIConfigurator rows: one source per (system, backend, version) table; else the file."""
    pub = str(row.get("published_source") or "")
    if pub.startswith("AIConfigurator"):
        return pub.split(";")[0].replace(" database estimate (silicon-measured kernels)", "") \
            + " " + pub.split(";")[1].strip()
    for key, name in (("nim.csv", "NVIDIA DLI nim.csv (NIM, TensorRT-LLM backend)"),
                      ("trt_llm_0_9_0_dli.csv", "NVIDIA DLI trt_llm_0_9_0_dli.csv"),
                      ("Single-stream performance", "Neural Magic model cards (vLLM 0.7.2)")):
        if key in pub:
            return name
    return " ".join(pub.split()[:2])


def load_obs(paths: tuple[Path, ...] = (PUBLISHED, AIC, SERVED)) -> list[Obs]:
    """Every figure as an observation; a request latency whose run also gives TTFT and TPOT
    (the NIM and TensorRT-LLM 0.9.0 rows) is left out: it is their sum, not a new figure."""
    out: list[Obs] = []
    for path in paths:
        if not path.exists():
            continue
        for r in (m.model_dump() for m in read_figures(path)[0]):
            for o in observations([r]):
                out.append(dataclasses.replace(o, source=source_name(r)))

    def point(o: Obs) -> tuple[Any, ...]:
        return (o.source, o.device, o.engine, o.model, o.quant, o.input_tokens,
                o.output_tokens, o.batch)

    split = {point(o) for o in out if o.metric == "decode"} & \
        {point(o) for o in out if o.metric == "ttft"}
    return [o for o in out if not (o.metric == "e2e" and point(o) in split)]


def datacenter_profiles() -> list[Path]:
    return sorted(p for p in PROFILES.glob("*.yaml") if not p.name.startswith("jetson-"))


def fit_all(obs: list[Obs]) -> dict[str, Any]:
    """Class terms per engine, and per-device terms where a card has enough figures."""
    return fit_with_devices(obs, fixed=FIXED, min_device_figures=MIN_DEVICE_FIGURES)


def report(obs: list[Obs]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "command": "python benchmarks/calibration_datacenter.py",
        "figures": len(obs),
        "by_source": {s: sum(o.source == s for o in obs) for s in sorted({o.source for o in obs})},
        "by_device": {d: sum(o.device == d for o in obs) for d in sorted({o.device for o in obs})},
        "by_metric": {m: sum(o.metric == m for o in obs) for m in ("decode", "ttft", "e2e")},
        "fitted": fit_all(obs),
        "counts": _counts(obs)}
    for by, name in (("source", "leave_one_source_out"), ("device", "leave_one_device_out"),
                     ("model", "leave_one_model_out")):
        res = held_out(obs, by, fixed=FIXED, min_device_figures=MIN_DEVICE_FIGURES)
        if by == "source":
            out["published_figures_left_out"] = [
                {"source": o.source, "device": o.device, "engine": o.engine, "model": o.model,
                 "quant": o.quant, "input_tokens": o.input_tokens, "batch": o.batch,
                 "metric": o.metric, "measured_s": o.value, "pred_over_meas": float(np.exp(r))}
                for _, o, r in res if not _aic(o)]
        out[name] = {**summarize(res),
                     "published_measurements": summarize([x for x in res if not _aic(x[1])]),
                     "aiconfigurator_estimates": summarize([x for x in res if _aic(x[1])])}
    return out


def _counts(obs: list[Obs]) -> dict[str, dict[str, dict[str, int]]]:
    """Per card and engine: how many figures are estimates and how many measurements."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for o in obs:
        c = out.setdefault(o.device, {}).setdefault(o.engine, {"estimates": 0, "measured": 0})
        c["estimates" if _aic(o) else "measured"] += 1
    return out


def _what(c: dict[str, int]) -> str:
    parts = [f"{c['measured']} published measurements"] if c["measured"] else []
    if c["estimates"]:
        parts.append(f"{c['estimates']} AIConfigurator database estimates")
    return " and ".join(parts)


def _aic(o: Obs) -> bool:
    return o.source.startswith("AIConfigurator")


def _interval(summary: dict[str, Any], metric: str, widen: float = 1.0,
              floor: float = 0.0) -> dict[str, Any]:
    """Symmetric (log scale) 90 % interval from a held-out summary, ``widen``-ed, at least
    ``floor`` (the log half-width of another held-out scheme)."""
    iv = (summary.get(metric) or {}).get("interval_90") or [0.6, 1.8]
    q = max(float(np.log(iv[1])), floor) * widen
    return {"lo": round(float(np.exp(-q)), 4), "hi": round(float(np.exp(q)), 4)}


def _widest(rep: dict[str, Any], metric: str) -> float:
    """The widest held-out 90 % half-width (log scale) over the three schemes."""
    return max(float(np.log(((rep[k].get(metric) or {}).get("interval_90") or [1, 1])[1]))
               for k in ("leave_one_source_out", "leave_one_device_out",
                         "leave_one_model_out"))


def _terms(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: float(v) for k, v in t.items() if isinstance(v, float)}
    out["n_figures"] = int(t["n_figures"])
    if t.get("quants"):
        out["quants"] = {q: {**{k: float(v) for k, v in tq.items() if isinstance(v, float)},
                             "n_figures": int(tq["n_figures"])}
                         for q, tq in t["quants"].items()}
    return out


def engines_block(rep: dict[str, Any], device: str) -> dict[str, Any]:
    """calibration.engines for one card: its own terms where fitted, else the class terms."""
    own = rep["fitted"]["devices"].get(device) or {}
    loso, lodo = rep["leave_one_source_out"], rep["leave_one_device_out"]
    block = {}
    for eng, cls_terms in rep["fitted"]["class"].items():
        if eng in own:
            t, summ, widen = own[eng], loso, 1.0
            label = (f"terms fitted on {device}: "
                     f"{_what(rep['counts'][device][eng])} (benchmarks/data)")
            frm = "leave-one-source-out, 90 % quantile"
        else:
            t, summ, widen = cls_terms, lodo, TRANSFER_WIDEN
            n = rep["fitted"]["class"][eng]["n_figures"]
            label = (f"datacenter-class terms transferred from {n} figures of other cards "
                     "(no figures of this card), interval widened")
            frm = f"leave-one-device-out, 90 % quantile, x{TRANSFER_WIDEN} in log scale"
        block[eng] = {**_terms(t), "label": label,
                      "interval": {**_interval(summ, "decode", widen, _widest(rep, "decode")),
                                   "from": f"decode {frm} (at least the widest scheme's)"},
                      "ttft_interval": {**_interval(summ, "ttft", widen, _widest(rep, "ttft")),
                                        "from": f"TTFT {frm} (at least the widest scheme's)"},
                      "source": ("benchmarks/calibration_datacenter.py on benchmarks/data/"
                                 "datacenter-published.csv and datacenter-served.csv "
                                 "(measurements) and aiconfigurator-estimates.csv "
                                 "(AIConfigurator database estimates); fit_error = in-sample "
                                 "median |pred/meas - 1|")}
    return block


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write calibration.engines into the "
                    "desktop/datacenter profiles")
    args = ap.parse_args(argv)
    rep = report(load_obs())
    if args.write:
        for p in datacenter_profiles():
            write_profile(p, engines_block(rep, p.stem), engine=ENGINE,
                          writer="benchmarks/calibration_datacenter.py")
    json.dump(rep, sys.stdout, indent=2, default=lambda x: float(np.asarray(x)))
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
