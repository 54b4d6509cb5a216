"""Turn a measurements table into fit entries (``FitEntry``), one per model × quant × engine ×
power mode."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from edgeprof.catalog import get_quant, resolve_model
from edgeprof.device._spec import DeviceSpec
from edgeprof.errors import UserInputError
from edgeprof.estimates import Provenance
from edgeprof.fit import _forms as forms
from edgeprof.fit._fitters import (
    MIN_POINTS,
    DecodeEnergyModel,
    DecodeModel,
    MemoryModel,
    PrefillModel,
    PrefillPowerModel,
)
from edgeprof.fit._roofline import spec_coefficients
from edgeprof.fit._schema import FitEntry, PhaseFit
from edgeprof.table import Measurement

# prefill token paddings the fit chooses from (by CV): per token (a CPU) up to the 256-row
# GEMM tile (forms.TILE_TOKENS)
PAD_CHOICES = (1, 16, 64, forms.PAD_TOKENS, forms.TILE_TOKENS)

Key = tuple[str, str, str, str | None]


def group_rows(rows: list[Measurement]) -> dict[Key, list[Measurement]]:
    groups: dict[Key, list[Measurement]] = defaultdict(list)
    for r in rows:
        if r.status != "ok" or getattr(r, "concurrency", 1) > 1:  # load rows: fit.concurrency
            continue
        key = (resolve_model(r.model).name, get_quant(r.quant).name, r.engine, r.power_mode)
        groups[key].append(r)
    return dict(groups)


#: Row flags that mark a measurement taken under changed clocks (see telemetry.sampler).
THROTTLE_PREFIXES = ("throttled", "clock-drop")


def throttled(row: Measurement) -> list[str]:
    """The row's throttle / clock-drop flags (empty when it ran at steady clocks)."""
    return [f for f in (row.flags or []) if str(f).startswith(THROTTLE_PREFIXES)]


def split_throttled(rows: list[Measurement]) -> tuple[list[Measurement], dict[str, Any]]:
    """Rows to fit, and a record of the throttled / clock-drop rows left out. They are
    excluded when at least ``MIN_POINTS`` steady rows remain; else kept, and the record says
    so (a board that throttles on every point is measured as it runs)."""
    flagged = [r for r in rows if throttled(r)]
    if not flagged:
        return rows, {}
    steady = [r for r in rows if not throttled(r)]
    keep = len(steady) < MIN_POINTS
    record = {
        "rule": (f"kept: fewer than {MIN_POINTS} steady rows" if keep else
                 "excluded from the fits (throttle or clock-drop flag)"),
        "rows": [{"input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
                  "batch": r.batch, "repeat": r.repeat, "flags": throttled(r)}
                 for r in flagged],
    }
    return (rows if keep else steady), record


def _xy(rows: list[Measurement], target: str) -> tuple[np.ndarray, np.ndarray]:
    pts = [(r.input_tokens, r.output_tokens, r.batch, getattr(r, target)) for r in rows]
    a = np.array(pts, float).reshape(-1, 4)
    return a[:, :3], a[:, 3]


def fit_group(key: Key, rows: list[Measurement], spec: DeviceSpec) -> FitEntry:
    """Fit every phase the rows allow; phases without data are left None."""
    model, quant, engine, mode = key
    arch = resolve_model(model)
    prior = spec_coefficients(arch, quant, spec, power_mode=mode)
    entry = FitEntry(model=model, quant=quant, engine=engine, power_mode=mode,
                     sources=sorted({r.source for r in rows}), provenance=Provenance.FITTED,
                     prefill=None, decode=None, memory=None, power=None)
    rows, record = split_throttled(rows)
    entry.throttled_rows = record or None
    dec = [r for r in rows if r.decode_s and r.output_tokens > 1]
    if len(dec) >= MIN_POINTS:
        X, y = _xy(dec, "decode_s")
        entry.decode = _phase(DecodeModel(prior["decode"]["per_seq_s"]).fit(X, y).record())
    pre = [r for r in rows if r.ttft_s]
    if len(pre) >= MIN_POINTS:
        chunk_s = (entry.decode.coef["step_s"] if entry.decode is not None
                   else prior["prefill"]["chunk_s"])
        X, y = _xy(pre, "ttft_s")
        entry.prefill = _fit_prefill(arch, chunk_s, X, y)
    mem = [r for r in rows if r.peak_mem_bytes]
    if len(mem) >= MIN_POINTS:
        wb = [r.weight_bytes for r in mem if r.weight_bytes]
        weights = float(np.median(wb)) if wb else float(arch.weight_bytes(quant))
        X, y = _xy(mem, "peak_mem_bytes")
        entry.memory = _phase(MemoryModel(arch, weights).fit(X, y).record(), weights_from=(
            "engine-reported" if wb else "catalog weight_bytes"))
    entry.power = _fit_power(rows)
    if entry.prefill is None and entry.decode is None:
        raise UserInputError(f"{model}/{quant}/{engine}: fewer than {MIN_POINTS} usable rows "
                             "with ttft_s or decode_s; measure more points.")
    return entry


def _phase(record: dict[str, Any], **extra: Any) -> PhaseFit:
    """A fitter's ``record()`` (plus diagnostics such as ``weights_from``) as a PhaseFit."""
    return PhaseFit.model_validate({**record, **extra})


def _cv(m: PrefillModel) -> float:
    cv = m.cv_mape_
    return float(cv) if cv is not None and np.isfinite(cv) else float(m.train_mape_)


def choose_prefill(arch: Any, chunk_s: float, X: np.ndarray,
                   y: np.ndarray) -> tuple[PrefillModel, dict[str, float]]:
    """The prefill model at the token padding that cross-validates best, and the CV MAPE of
    every padding tried.

    GPU GEMM kernels cost whole tiles (vLLM on an Orin steps at 128 or 256 tokens); a CPU
    pays per token. Which one a device × engine shows is read from the data, not assumed.
    A padding above 1 token also fits ``token_s``, the slope inside a tile.
    """
    fits = [PrefillModel(arch, chunk_s, pad_tokens=pad).fit(X, y) for pad in PAD_CHOICES]
    best = min(fits, key=_cv)
    return best, {str(int(m.fixed["pad_tokens"])): m.cv_mape_ for m in fits}


def _fit_prefill(arch: Any, chunk_s: float, X: np.ndarray, y: np.ndarray) -> PhaseFit:
    best, tried = choose_prefill(arch, chunk_s, X, y)
    return _phase(best.record(), pad_tokens_tried=tried)


def _fit_power(rows: list[Measurement]) -> dict[str, PhaseFit | None] | None:
    pre = [(r.input_tokens, r.output_tokens, r.batch, r.prefill_power_w or r.avg_power_w)
           for r in rows if r.ttft_s and r.output_tokens == 1 and
           (r.prefill_power_w or r.avg_power_w)]
    pre += [(r.input_tokens, r.output_tokens, r.batch, r.prefill_power_w) for r in rows
            if r.output_tokens > 1 and r.prefill_power_w]
    dec_own = [(r.decode_s, r.decode_energy_j) for r in rows
               if r.decode_s and r.decode_energy_j]
    dec_tot = [(r.decode_s, r.energy_j) for r in rows
               if r.decode_s and r.energy_j and r.output_tokens > 1]
    out: dict[str, PhaseFit | None] = {}
    if len(pre) >= MIN_POINTS:
        a = np.array(pre, float)
        out["prefill_power"] = _phase(PrefillPowerModel().fit(a[:, :3], a[:, 3]).record())
    dec, total = (dec_own, False) if len(dec_own) >= MIN_POINTS else (dec_tot, True)
    if len(dec) >= MIN_POINTS:
        a = np.array(dec, float)
        out["decode_energy"] = _phase(DecodeEnergyModel().fit(a[:, :1], a[:, 1]).record(),
                                      includes_prefill_and_window=total)
    return out or None


def fit_rows(rows: list[Measurement], spec: DeviceSpec) -> list[FitEntry]:
    """One typed entry per group of ok single-request rows (``schema.dump_fits`` writes
    them)."""
    if not rows:
        raise UserInputError("The measurements table is empty; run `edgeprof sweep` or "
                             "`edgeprof import` first.")
    groups = group_rows(rows)
    if not groups:
        raise UserInputError("No row has status ok; nothing to fit. Check the sweep's errors.")
    return [fit_group(k, v, spec) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))]


__all__ = ["choose_prefill", "fit_rows", "forms", "group_rows", "split_throttled", "throttled"]
