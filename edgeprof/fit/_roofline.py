"""Spec-derived (roofline) coefficients and their calibration from measured fits.

prefill ≈ overhead + weights/bandwidth + FLOPs/(peak·compute_eff) (+ one weight pass per
chunk); decode step ≈ overhead + stream bytes/(bandwidth·bandwidth_eff) + B·context·KV
bytes/(bandwidth·kv_eff) + (B−1)·2·params/(peak·compute_eff). Everything derived here is
labeled ``predicted:spec-derived``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgeprof.catalog import ArchSpec, get_quant
from edgeprof.device._spec import DeviceSpec
from edgeprof.errors import UnsupportedError
from edgeprof.fit._forms import effective_s_per_tflop
from edgeprof.fit._schema import FitEntry

# Conservative defaults (used until a profile's measured fits calibrate them).
DEFAULT_CALIBRATION: dict[str, float] = {
    "compute_eff": 0.35, "bandwidth_eff": 0.6, "kv_bandwidth_eff": 0.6,
    "decode_overhead_s": 0.005, "prefill_overhead_s": 0.02,
}
SPEC_INTERVAL = (0.6, 1.8)        # uncalibrated roofline: wide
CALIBRATED_INTERVAL = (0.75, 1.35)  # roofline with measured efficiency factors


def peak_flops(spec: DeviceSpec, quant: str, power_mode: str | None = None) -> float:
    q = get_quant(quant)
    tflops = spec.peak_tflops.get(q.compute_dtype) or spec.peak_tflops.get("fp16")
    if not tflops:
        raise UnsupportedError(f"{spec.name} lists no peak compute for {q.compute_dtype}; add "
                               "peak_tflops to its profile.")
    mode = spec.power_mode(power_mode) if power_mode else None
    scale = mode.gpu_tflops_scale if mode and mode.gpu_tflops_scale else 1.0
    return tflops * 1e12 * scale


def bandwidth(spec: DeviceSpec, power_mode: str | None = None) -> float:
    mode = spec.power_mode(power_mode) if power_mode else None
    gbs = mode.memory_bandwidth_gbs if mode and mode.memory_bandwidth_gbs else None
    return (gbs or spec.memory_bandwidth_gbs) * 1e9


def kv_cache_bytes(quant: str, cal: dict[str, float]) -> int:
    """Bytes per KV-cache element: 1 where the engine's recipe keeps an FP8-compute model's
    cache in FP8 (``fp8_kv_cache`` set in its terms: TensorRT-LLM's ``fp8`` recipe quantizes
    GEMMs and the KV cache), else 2 (FP16/BF16, every engine's default)."""
    return 1 if cal.get("fp8_kv_cache") and get_quant(quant).compute_dtype == "fp8" else 2


def spec_coefficients(arch: ArchSpec, quant: str, spec: DeviceSpec,
                      cal: dict[str, float] | None = None,
                      power_mode: str | None = None) -> dict[str, dict[str, float]]:
    """Prefill and decode coefficients in the fitted forms, from the spec sheet."""
    c = DEFAULT_CALIBRATION | (cal or {})
    peak = peak_flops(spec, quant, power_mode)
    bw = bandwidth(spec, power_mode)
    stream = arch.decode_stream_bytes(quant) / (bw * c["bandwidth_eff"])
    # Per-layer launch cost: with ``overhead_ref_layers`` the step overhead is that of a model
    # of so many layers, scaled by this one's layer count (kernels are launched per layer).
    ref = c.get("overhead_ref_layers")
    step = c["decode_overhead_s"] * (arch.layers / ref if ref else 1.0) + stream
    decode = {"step_s": step,
              "kv_s": arch.kv_bytes_per_token(kv_cache_bytes(quant, c)) /
              (bw * c["kv_bandwidth_eff"]),
              "per_seq_s": 2.0 * arch.params / (peak * c["compute_eff"])}
    prefill = {"overhead_s": c["prefill_overhead_s"] + stream,
               "s_per_tflop": 1e12 / (peak * c["compute_eff"]), "chunk_s": step}
    if spec.kind == "cpu":
        prefill["pad_tokens"] = 1.0  # no tensor-core tiles: a CPU pays per token
    elif c.get("pad_tokens"):  # an engine's GEMM tile in tokens (fitted with its terms)
        prefill["pad_tokens"] = float(c["pad_tokens"])
    return {"prefill": prefill, "decode": decode}


def calibrate(entries: list[FitEntry], spec: DeviceSpec,
              resolve: Callable[[str], ArchSpec]) -> dict[str, Any] | None:
    """Efficiency factors that make the roofline match the measured fits."""
    comp, pre_oh, kv_eff, rows = [], [], [], []
    used = []
    for e in entries:
        arch = resolve(e.model)
        mode = e.power_mode
        try:
            peak = peak_flops(spec, e.quant, mode)
        except UnsupportedError:
            continue
        bw = bandwidth(spec, mode)
        if e.prefill is not None:
            coef = e.prefill.coef
            comp.append(1e12 / (effective_s_per_tflop(coef, arch) * peak))
            pre_oh.append(max(coef["overhead_s"] - arch.decode_stream_bytes(e.quant) / bw,
                              0.0))
        if e.decode is not None:
            coef = e.decode.coef
            if coef["kv_s"] > 0:
                kv_eff.append(arch.kv_bytes_per_token(2) / (bw * coef["kv_s"]))
            rows.append((arch.decode_stream_bytes(e.quant) / bw, coef["step_s"]))
        used.append(f"{e.model}/{e.quant}/{e.engine}/{mode}")
    if not used:
        return None
    out: dict[str, Any] = dict(DEFAULT_CALIBRATION)
    if comp:
        out["compute_eff"] = float(np.median(comp))
        out["prefill_overhead_s"] = float(np.median(pre_oh))
    if kv_eff:
        out["kv_bandwidth_eff"] = float(np.clip(np.median(kv_eff), 0.05, 1.0))
    if rows:
        x, y = np.array(rows).T
        if len(set(np.round(x, 6))) >= 2:  # step = overhead + x/eff
            slope, icpt = np.polyfit(x, y, 1)
            if slope > 1.0 and icpt >= 0:
                out["bandwidth_eff"] = float(1.0 / slope)
                out["decode_overhead_s"] = float(icpt)
            else:
                out["bandwidth_eff"] = float(np.clip(np.median(x / y), 0.05, 1.0))
                out["decode_overhead_s"] = 0.0
        else:
            oh = out["decode_overhead_s"]
            out["bandwidth_eff"] = float(np.clip(np.median(x / np.maximum(y - oh, 1e-6)),
                                                 0.05, 1.0))
    out["fitted_on"] = used
    out["note"] = ("efficiency factors: measured fit ÷ spec-sheet roofline (peak compute, "
                   "peak bandwidth); decode overhead and bandwidth efficiency from a line "
                   "through (stream bytes/bandwidth, step time) over the fitted models")
    return out
