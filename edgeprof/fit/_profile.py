"""The Profile: a device spec plus fitted models, and predictions from them (CONTRACTS.md).

Lookup order for (model, quant, power mode): a measured fit (``predicted:measured-fit``);
else a measured fit of the same model in another quant, moved through the roofline ratio;
else the calibrated roofline of the device spec (both ``predicted:spec-derived``, wider
intervals). Beyond a fit's batch range the batch term comes from the roofline and the
result is labeled spec-derived too.

Engines (``engine_terms.ENGINES``) are an axis: a measured fit serves only its own engine;
another engine is predicted from the roofline with that engine's terms fitted on published
figures (``calibration.engines``, see ``fit/calibrate.py``), its interval the held-out one.
Without an engine, the profile's calibration engine (``calibration.engine``) is used.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edgeprof.catalog import ArchSpec, get_quant, resolve_model
from edgeprof.device._spec import (
    DeviceSpec,
    load_device_spec,
    profiles_dir,
    resolve_device_name,
)
from edgeprof.errors import DataFormatError, UnsupportedError, UserInputError
from edgeprof.estimates import Estimate, Provenance
from edgeprof.fit import _forms as forms
from edgeprof.fit import _kv_cache as kv_cache
from edgeprof.fit._engine_terms import as_calibration, normalize_engine
from edgeprof.fit._prefix_cache import applies, prefill_shape, shared_prompt_tokens
from edgeprof.fit._robust import extrapolation_factor, widen
from edgeprof.fit._roofline import (
    CALIBRATED_INTERVAL,
    SPEC_INTERVAL,
    bandwidth,
    calibrate,
    kv_cache_bytes,
    peak_flops,
    spec_coefficients,
)
from edgeprof.fit._schema import FitEntry, PhaseFit, dump_fits

SCHEMA_VERSION = 1
TRANSFER_WIDEN = 2.0   # a quant/batch transfer doubles the fit's interval, plus ±10 %
EXTRAP_PER_DOUBLING = 0.1  # interval floor per doubling beyond the fitted range
#: Log half-width added per doubling of the batch beyond the largest measured one. Chosen on
#: ``benchmarks/batched_decode.py``'s 28 published figures at N = 8 (predicted from batch-1
#: terms): the smallest of 0.06 / 0.10 / 0.13 whose 90 % intervals hold about 90 % of them
#: (0.10: 89 %). One width fitted on those figures, so that coverage is in-sample.
BATCH_LOG_WIDEN_PER_DOUBLING = 0.10
MEMORY_SPEC_WORKSPACE = 0.05  # spec-only workspace: 5 % of weights + 256 MiB
MEMORY_SPEC_INTERVAL = (0.85, 1.3)


@dataclass(frozen=True)
class Prediction:
    ttft_s: Estimate
    decode_s: Estimate
    e2e_s: Estimate
    peak_mem_bytes: Estimate
    energy_j: Estimate | None
    avg_power_w: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        keys = ("ttft_s", "decode_s", "e2e_s", "peak_mem_bytes", "energy_j", "avg_power_w")
        return {k: (None if getattr(self, k) is None else
                    getattr(self, k).model_dump(exclude_none=True)) for k in keys}


@dataclass
class _Plan:
    """How one (model, quant, mode) is predicted: coefficients and labels per phase."""

    arch: ArchSpec
    quant: str
    prefill: dict[str, float]
    decode: dict[str, float]
    pre_iv: tuple[float, float]
    dec_iv: tuple[float, float]
    provenance: Provenance
    entry: FitEntry | None
    widen: float = 1.0
    note: str | None = None
    kv_bytes: float = 2  # bytes per KV-cache element (1: FP8; 34/32: llama.cpp q8_0)


class Profile:
    """A device profile. Build with :meth:`load` or :meth:`from_fits`."""

    def __init__(self, device: DeviceSpec, fits: list[dict[str, Any]] | None = None,
                 calibration: dict[str, Any] | None = None,
                 provenance: dict[str, Any] | None = None) -> None:
        self.device = device
        self.fits = list(fits or [])  # as written (serialized by to_dict)
        #: the same entries, typed (edgeprof.fit._schema): what predictions read
        self.entries: list[FitEntry] = [FitEntry.model_validate(_plain(f)) for f in self.fits]
        self.calibration = calibration
        self.provenance = dict(provenance or {})
        self._plans: dict[tuple[str, str, str | None, str | None], _Plan] = {}
        self.engine: str | None = None  # set by with_engine; None: the calibration engine
        #: set by with_prefix_caching: N samples of one prompt share its prefill where the
        #: engine's prefix cache allows (edgeprof.fit._prefix_cache); else N prefills
        self.prefix_caching = False
        #: set by with_kv_cache_dtype: auto, or an 8-bit cache (edgeprof.fit._kv_cache)
        self.kv_cache_dtype = "auto"

    def with_engine(self, engine: str | None) -> Profile:
        """This profile predicting for ``engine`` (None: its calibration engine)."""
        other = Profile(self.device, self.fits, self.calibration, self.provenance)
        other.engine = normalize_engine(engine) if engine else None
        other.prefix_caching = self.prefix_caching
        other.kv_cache_dtype = self.kv_cache_dtype
        return other

    def with_prefix_caching(self, on: bool = True) -> Profile:
        """This profile predicting batch N as N samples of one prompt on a server with
        prefix caching (vLLM V1's default): the prompt is prefilled once where the engine
        shares it (:mod:`edgeprof.fit._prefix_cache`)."""
        other = self.with_engine(self.engine)
        other.prefix_caching = on
        return other

    def with_kv_cache_dtype(self, dtype: str) -> Profile:
        """This profile predicting with a ``dtype`` KV cache (``auto``: the engine's
        default). A prediction for an engine that keeps no such cache on this device is a
        one-line error (:mod:`edgeprof.fit._kv_cache`)."""
        if dtype not in kv_cache.KV_CACHE_DTYPES:
            raise UserInputError(f"--kv-cache-dtype {dtype!r} is not one of "
                                 f"{', '.join(kv_cache.KV_CACHE_DTYPES)}.")
        other = self.with_engine(self.engine)
        other.kv_cache_dtype = dtype
        return other

    def kv_cache_note(self, engine: str | None = None) -> str | None:
        """What predictions for ``engine`` (None: the resolved one) assume of the KV cache;
        None for ``auto``. A one-line error where that engine keeps no such cache here."""
        if self.kv_cache_dtype == "auto":
            return None
        eng = self.resolved_engine(engine)
        kv_cache.check(self.kv_cache_dtype, eng, self.device)
        return kv_cache.note(self.kv_cache_dtype, str(eng))

    def prefill_note(self, batch: int | None = None, engine: str | None = None) -> str | None:
        """What the TTFT at ``batch`` (None: any N) assumes about the prompt's prefills."""
        if not self.prefix_caching or (batch is not None and batch <= 1):
            return None
        n = str(batch) if batch else "N"
        eng = self.resolved_engine(engine)
        if applies(eng, self.prefix_caching):
            return (f"prompt prefilled once for the {n} samples ({eng} prefix caching; each "
                    "other sample recomputes its last partial KV block)")
        return (f"{n} prefills: edgeprof models no prompt sharing between samples for "
                f"{eng or 'this engine'}")

    def kv_cache_bytes(self, model: str, quant: str, engine: str | None = None) -> int:
        """Bytes per KV-cache element this profile predicts ``engine`` to keep for ``model``
        at ``quant`` (1: the engine's FP8 recipe keeps an FP8 cache, ``fp8_kv_cache``)."""
        return self._plan(model, quant, None, engine).kv_bytes

    def calibration_engine(self) -> str | None:
        """The engine the profile's fits and default calibration were measured with."""
        cal = self.calibration or {}
        if cal.get("engine"):
            return str(cal["engine"])
        engines = sorted({str(f.engine) for f in self.entries if f.engine})
        return engines[0] if engines else None

    def engines(self) -> list[str]:
        """Engines this profile holds fitted terms or fits for."""
        have = set((self.calibration or {}).get("engines") or {})
        have |= {normalize_engine(f.engine) for f in self.entries if f.engine
                 and f.engine.lower() in _known_engines()}
        return sorted(have)

    def resolved_engine(self, engine: str | None = None) -> str | None:
        """The engine a prediction is for: the argument, :meth:`with_engine`'s, else the
        calibration engine."""
        e = engine or self.engine or self.calibration_engine()
        return normalize_engine(e) if e and e.lower() in _known_engines() else e

    # ---------------------------------------------------------------- construction / IO
    @classmethod
    def from_fits(cls, device: DeviceSpec, fits: list[FitEntry],
                  provenance: dict[str, Any] | None = None) -> Profile:
        """A profile of freshly fitted entries (``fit_rows``), calibrated on them."""
        cal = calibrate(fits, device, resolve_model) if fits else None
        return cls(device, dump_fits(fits), cal, provenance)

    @classmethod
    def load(cls, path_or_device: str | Path) -> Profile:
        path = Path(path_or_device)
        if not path.suffix and not path.exists():
            path = profiles_dir() / f"{resolve_device_name(str(path_or_device))}.yaml"
        if not path.exists():
            raise UserInputError(f"{path} does not exist; pass a profile file from "
                                 "`edgeprof fit` or a shipped device name.")
        from edgeprof.files import load_mapping
        from edgeprof.fit._schema import check_fits

        data = load_mapping(path, "profile", "pass a file written by `edgeprof fit`")
        if "device" not in data:
            raise DataFormatError(f"{path} has no `device:` section; it is not a profile.")
        from edgeprof.loaders import schema_version

        # absent: a file from before the field (version 1); newer: upgrade edgeprof
        schema_version(data, path, "profile", {SCHEMA_VERSION: None},
                       "regenerate it with `edgeprof fit`")
        try:
            device = load_device_spec(path) if path.suffix in (".yaml", ".yml") else \
                DeviceSpec.model_validate(data["device"])
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            if isinstance(exc, UserInputError):
                raise
            first = str(exc).splitlines()
            raise DataFormatError(f"The profile {path}: bad `device:` section "
                                  f"({'; '.join(first[1:3]).strip()[:160]}); regenerate it "
                                  "with `edgeprof fit`.") from None
        fits = check_fits(data.get("fits"), path)
        for key in ("calibration", "provenance"):
            if data.get(key) is not None and not isinstance(data.get(key), dict):
                raise DataFormatError(f"The profile {path}: `{key}:` must be a mapping; "
                                      "regenerate it with `edgeprof fit`.")
        return cls(device, fits, data.get("calibration"), data.get("provenance"))

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "kind": "profile",
                "device": self.device.model_dump(mode="json", exclude_none=True),
                "fits": self.fits, "calibration": self.calibration,
                "provenance": self.provenance}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        from edgeprof.files import atomic_write

        data = _plain(self.to_dict())
        if path.suffix == ".json":
            atomic_write(path, json.dumps(data, indent=2))
        else:
            atomic_write(path, yaml.safe_dump(data, sort_keys=False, width=100))
        return path

    def hash(self) -> str:
        data = self.to_dict()
        if self.engine:
            data["engine"] = self.engine  # a study must not mix engines
        blob = json.dumps(_plain(data), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    # ---------------------------------------------------------------- queries
    def fitted_pairs(self) -> list[tuple[str, str]]:
        return sorted({(f.model, f.quant) for f in self.entries})

    def power_modes(self) -> list[str | None]:
        modes = sorted({f.power_mode for f in self.entries}, key=lambda m: str(m))
        if modes:
            return modes
        return [m.name for m in self.device.power_modes] or [None]

    def _find(self, model: str, quant: str, mode: str | None,
              engine: str | None = None) -> FitEntry | None:
        cands = [f for f in self.entries if f.model == model and f.quant == quant
                 and (engine is None or _same_engine(f.engine, engine))]
        if mode is None:
            default = self._mode_name(self.device.default_power_mode)
            exact = [f for f in cands if self._entry_mode(f) == default]
            return (exact or cands or [None])[0]
        return next((f for f in cands if self._entry_mode(f) == self._mode_name(mode)), None)

    def _mode_name(self, name: str | None) -> str | None:
        """The device's spelling of a power mode (as given when the device does not list
        it: a profile may carry fits of modes its spec lacks)."""
        if name is None or not self.device.power_modes:
            return name
        try:
            return self.device.power_mode(name).name  # type: ignore[union-attr]
        except UserInputError:
            return name

    def _entry_mode(self, entry: FitEntry) -> str | None:
        """The power mode a fit was measured in; a fit without one: the default mode."""
        return self._mode_name(entry.power_mode or self.device.default_power_mode)

    def _plan(self, model: str, quant: str, mode: str | None,
              engine: str | None = None) -> _Plan:
        arch = resolve_model(model)
        q = get_quant(quant).name
        eng = self.resolved_engine(engine)
        if mode is not None and self.device.power_modes:  # "maxn super" is MAXN_SUPER
            mode = self.device.power_mode(mode).name
        key = (arch.name, q, mode, eng)
        if key in self._plans:
            return self._plans[key]
        fits = [f for f in self.entries if eng is None or _same_engine(f.engine, eng)]
        measured_q = {f.quant for f in fits if f.model == arch.name}
        if q not in self.device.native_quants and q not in measured_q:
            raise UnsupportedError(f"{self.device.name} has no native {q} kernels and this "
                                   f"profile holds no {q} measurements; choose one of "
                                   f"{', '.join(self.device.native_quants)}.")
        cal = {k: v for k, v in (self.calibration or {}).items() if isinstance(v, float)}
        transferred = (self.calibration or {}).get("transferred_from")
        spec_iv = CALIBRATED_INTERVAL if self.calibration and not transferred else SPEC_INTERVAL
        eterms = ((self.calibration or {}).get("engines") or {}).get(eng or "")
        # The calibration engine keeps the measured-fit efficiencies, except for a quant those
        # fits never covered that has engine terms of its own (W4A16 kernels are not bf16's).
        covered = _calibrated_quants(self.calibration)
        own_q = q in ((eterms or {}).get("quants") or {}) and covered is not None \
            and q not in covered
        use_engine_terms = bool(eterms) and (eng != self.calibration_engine() or not cal
                                             or own_q)
        unseen = bool(eng) and not eterms and eng != self.calibration_engine()
        if unseen:  # no figures of this engine: the roofline's default terms, wide
            cal, spec_iv = {}, SPEC_INTERVAL
        pre_iv: tuple[float, float] | None = None
        if use_engine_terms:
            cal = as_calibration((eterms.get("quants") or {}).get(q) or eterms)
            spec_iv = _engine_iv(eterms.get("interval"))
            if eterms.get("ttft_interval"):  # TTFT has its own held-out error where fitted
                pre_iv = _engine_iv(eterms["ttft_interval"])
        spec = spec_coefficients(arch, q, self.device, cal, mode)
        of_engine = eng if len(fits) != len(self.entries) else None  # None: every fit is eng's
        entry = self._find(arch.name, q, mode, of_engine)
        home = self._fitted_mode(arch.name, of_engine, mode)
        base = self._plan(model, quant, home, engine) \
            if entry is None and mode is not None and home not in (None, mode) else None
        if entry is not None:
            plan = self._from_entry(arch, q, entry, spec, spec_iv)
        elif base is not None and base.entry is not None:
            plan = self._across_modes(base, cal, str(home), str(mode), eng)
        else:
            donor = next((f for f in (self._find(arch.name, dq, mode, eng) for dq in
                                      sorted(measured_q)) if f is not None), None)
            if donor is not None and donor.decode and donor.prefill:
                plan = self._transfer(arch, q, donor, cal, mode)
            else:
                note = "roofline from the device spec" + (
                    (f" with {eng} {eterms['label']}" if eterms.get("label") else
                     f" with {eng} terms fitted on {eterms.get('n_figures')} published figures")
                    if use_engine_terms else f" with default terms (no {eng} figures)"
                    if unseen else
                    f" with efficiencies calibrated on {transferred}"
                    if transferred else " with calibrated efficiencies"
                    if self.calibration else "")
                kv_bytes = kv_cache_bytes(q, cal)
                if kv_bytes == 1:
                    note += f"; KV cache in FP8 ({eng}'s FP8 recipe)"
                plan = _Plan(arch, q, spec["prefill"], spec["decode"], pre_iv or spec_iv,
                             spec_iv, Provenance.SPEC, None, note=note, kv_bytes=kv_bytes)
        if q not in self.device.native_quants:  # only reachable with measurements of it
            plan.provenance = Provenance.EMULATED
            plan.note = "; ".join(n for n in (plan.note, f"{q} has no native kernels on "
                                  f"{self.device.name}: fitted on emulated runs") if n)
        if self.kv_cache_dtype != "auto":
            plan = self._with_kv_cache(plan, eng)
        if eng:
            plan.note = "; ".join(n for n in (plan.note, f"engine {eng}") if n)
        self._plans[key] = plan
        return plan

    def _from_entry(self, arch: ArchSpec, q: str, entry: FitEntry,
                    spec: dict[str, dict[str, float]], spec_iv: tuple[float, float]) -> _Plan:
        pre, dec = entry.prefill, entry.decode
        note = None if (pre and dec) else "one phase from the calibrated roofline"
        return _Plan(arch, q, pre.coef if pre else spec["prefill"],
                     dec.coef if dec else spec["decode"],
                     _iv(pre) if pre else spec_iv, _iv(dec) if dec else spec_iv,
                     Provenance.FITTED if (pre and dec) else Provenance.SPEC, entry,
                     note=note)

    def _transfer(self, arch: ArchSpec, q: str, donor: FitEntry, cal: dict[str, float],
                  mode: str | None) -> _Plan:
        assert donor.prefill is not None and donor.decode is not None
        dq = donor.quant
        overhead = cal.get("decode_overhead_s", 0.0)
        ratio_bytes = arch.decode_stream_bytes(q) / arch.decode_stream_bytes(dq)
        ratio_peak = peak_flops(self.device, dq, mode) / peak_flops(self.device, q, mode)
        d = dict(donor.decode.coef)
        d["step_s"] = overhead + max(d["step_s"] - overhead, 0.0) * ratio_bytes
        d["per_seq_s"] = d.get("per_seq_s", 0.0) * ratio_peak
        p = dict(donor.prefill.coef)
        p["s_per_tflop"] *= ratio_peak
        p["token_s"] = p.get("token_s", 0.0) * ratio_peak  # the per-token share of the work
        p["chunk_s"] = d["step_s"]
        return _Plan(arch, q, p, d, _iv(donor.prefill), _iv(donor.decode),
                     Provenance.SPEC, donor, widen=TRANSFER_WIDEN,
                     note=f"transferred from the measured {dq} fit by the roofline ratio")

    def _fitted_mode(self, model: str, engine: str | None, near: str | None) -> str | None:
        """The power mode this model's fits were measured in (a fit without one: the
        device's default mode), the one closest to ``near`` in peak compute and bandwidth
        when there are several; None if it has no fits or the device no modes."""
        if not self.device.power_modes:
            return None
        modes = {m for m in (self._entry_mode(f) for f in self.entries if f.model == model
                             and (engine is None or _same_engine(f.engine, engine)))
                 if m and m in {d.name for d in self.device.power_modes}}
        if not modes:
            return None

        def distance(m: str) -> float:
            if near is None:
                return 0.0
            return (abs(np.log(peak_flops(self.device, "fp16", m)
                               / peak_flops(self.device, "fp16", near)))
                    + abs(np.log(bandwidth(self.device, m) / bandwidth(self.device, near))))

        return min(sorted(modes), key=distance)

    def _across_modes(self, base: _Plan, cal: dict[str, float], home: str, mode: str,
                      engine: str | None) -> _Plan:
        """A plan measured (or transferred) in power mode ``home`` carried to ``mode`` by
        the roofline's ratio between the two modes, term by term (GPU clock × enabled TPCs
        for compute, the EMC cap for bandwidth), so a mode with lower clocks is never
        predicted faster than the measured one."""
        arch, q = base.arch, base.quant
        src = spec_coefficients(arch, q, self.device, cal, home)
        dst = spec_coefficients(arch, q, self.device, cal, mode)

        def ratio(phase: str, term: str) -> float:
            a = src[phase].get(term, 0.0)
            return dst[phase][term] / a if a > 0 else 1.0

        p = dict(base.prefill)
        p["overhead_s"] *= ratio("prefill", "overhead_s")
        for term in ("s_per_tflop", "token_s"):  # both are compute at the GEMM rate
            p[term] = p.get(term, 0.0) * ratio("prefill", "s_per_tflop")
        p["chunk_s"] = p.get("chunk_s", 0.0) * ratio("prefill", "chunk_s")
        d = {k: v * (ratio("decode", k) if k in dst["decode"] else 1.0)
             for k, v in base.decode.items()}
        how = base.note.removesuffix(f"; engine {engine}") if base.note and engine else \
            base.note
        carried = f"carried from the measured {home} fit to {mode} by the roofline ratio " \
                  "between the modes"
        note = f"{how}, then {carried}" if base.provenance is not Provenance.FITTED and how \
            else carried
        return _Plan(arch, q, p, d, base.pre_iv, base.dec_iv, Provenance.SPEC, base.entry,
                     widen=max(base.widen, TRANSFER_WIDEN), note=note, kv_bytes=base.kv_bytes)

    def _with_kv_cache(self, plan: _Plan, engine: str | None) -> _Plan:
        """``plan`` with the 8-bit KV cache asked for: memory (and, where the engine's
        kernels read the stored cache, the decode KV term) at its stored size; labeled
        spec-derived, since no fit saw such a cache."""
        dtype = self.kv_cache_dtype
        kv_cache.check(dtype, engine, self.device)
        assert engine is not None  # check() refuses an 8-bit cache without an engine
        stored = kv_cache.STORED_BYTES[dtype]
        decode = dict(plan.decode)
        if engine in kv_cache.READS_STORED:
            decode["kv_s"] = decode.get("kv_s", 0.0) * stored / plan.kv_bytes
        said = kv_cache.note(dtype, engine)
        note = plan.note if said in (plan.note or "") else \
            "; ".join(n for n in (plan.note, said) if n)  # a plan carried across modes has it
        return replace(plan, decode=decode, kv_bytes=stored,
                       provenance=Provenance.SPEC if plan.provenance is Provenance.FITTED
                       else plan.provenance, note=note)

    # ---------------------------------------------------------------- prediction
    def predict_grid(self, model: str, quant: str, input_tokens: int | np.ndarray,
                     output_tokens: np.ndarray, batch: np.ndarray,
                     power_mode: str | None = None,
                     engine: str | None = None) -> dict[str, Any]:
        """Vectorized prediction; arrays broadcast against each other."""
        plan = self._plan(model, quant, power_mode, engine)
        i, o, b = np.broadcast_arrays(np.asarray(input_tokens, float),
                                      np.asarray(output_tokens, float),
                                      np.asarray(batch, float))
        if np.any(i < 1) or np.any(o < 1) or np.any(b < 1):
            raise UserInputError("input_tokens, output_tokens and batch must be ≥ 1.")
        eng = self.resolved_engine(engine)
        pre_i, pre_b = prefill_shape(eng, i, b, self.prefix_caching)
        ttft = forms.prefill_time(plan.prefill, plan.arch, pre_i, pre_b)
        dec = forms.decode_time(plan.decode, i, o, b)
        ex_pre = np.ones(i.shape)  # > 1 where a fit is used beyond the range it was fitted on
        ex_dec = np.ones(i.shape)
        prov = np.full(i.shape, plan.provenance, dtype=object)
        if plan.entry is not None:
            pr, dr = plan.entry.prefill, plan.entry.decode
            if pr and pr.fitted_on:
                ex_pre = extrapolation_factor(i, *pr.fitted_on["input_tokens"])
            if dr and dr.fitted_on:
                ctx = i + o
                ranges = (dr.fitted_on["input_tokens"], dr.fitted_on["output_tokens"])
                ex_dec = extrapolation_factor(ctx, sum(x[0] for x in ranges),
                                              sum(x[1] for x in ranges))
        f_pre, f_dec = plan.widen * ex_pre, plan.widen * ex_dec
        pre_b, dec_b = _batch_range(plan.entry.prefill if plan.entry else None), \
            _batch_range(plan.entry.decode if plan.entry else None)
        if plan.entry is not None and plan.entry.decode and plan.entry.decode.fitted_on:
            prov = np.where(b > dec_b, Provenance.SPEC, prov)
        extra = 0.1 if plan.widen > 1 else 0.0
        pl, ph = widen(plan.pre_iv[0] - extra, plan.pre_iv[1] + extra, f_pre)
        dl, dh = widen(plan.dec_iv[0] - extra, plan.dec_iv[1] + extra, f_dec)
        # Beyond the largest measured batch (1 for engine terms and spec: their figures are
        # batch 1), widen in log scale by the held-out batched error per doubling.
        k_pre, k_dec = (BATCH_LOG_WIDEN_PER_DOUBLING * np.log2(np.maximum(b / m, 1.0))
                        for m in (pre_b, dec_b))
        pl, ph, dl, dh = pl * np.exp(-k_pre), ph * np.exp(k_pre), dl * np.exp(-k_dec), \
            dh * np.exp(k_dec)
        # Beyond the fitted range a tight in-range interval says little: at least ±10 % per
        # doubling outside it.
        pl, ph = np.minimum(pl, 1 - EXTRAP_PER_DOUBLING * (ex_pre - 1)), np.maximum(
            ph, 1 + EXTRAP_PER_DOUBLING * (ex_pre - 1))
        dl, dh = np.minimum(dl, 1 - EXTRAP_PER_DOUBLING * (ex_dec - 1)), np.maximum(
            dh, 1 + EXTRAP_PER_DOUBLING * (ex_dec - 1))
        pl, dl = np.maximum(pl, 0.05), np.maximum(dl, 0.05)
        mem, mem_lo, mem_hi = self._memory(
            plan, i, o, b, shared_prompt_tokens(eng, i, b, self.prefix_caching))
        energy, e_lo, e_hi = self._energy(plan, ttft, dec)
        return {"ttft_s": ttft, "ttft_lo": ttft * pl, "ttft_hi": ttft * ph,
                "decode_s": dec, "decode_lo": dec * dl, "decode_hi": dec * dh,
                "e2e_s": ttft + dec, "e2e_lo": ttft * pl + dec * dl,
                "e2e_hi": ttft * ph + dec * dh, "peak_mem_bytes": mem, "mem_lo": mem_lo,
                "mem_hi": mem_hi, "energy_j": energy, "energy_lo": e_lo, "energy_hi": e_hi,
                "provenance": prov, "extrapolated": (ex_pre > 1) | (ex_dec > 1)}

    def _memory(self, plan: _Plan, i: np.ndarray, o: np.ndarray, b: np.ndarray,
                shared: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rec = plan.entry.memory if plan.entry else None
        weights = float(plan.arch.weight_bytes(plan.quant))
        if rec and plan.entry and plan.entry.quant == plan.quant:
            coef = rec.coef
            mem = forms.memory_bytes(coef, plan.arch, coef["weight_bytes"], i, o, b,
                                     plan.kv_bytes, shared_tokens=shared)
            lo, hi = _iv(rec)
        else:
            coef = {"workspace_bytes": MEMORY_SPEC_WORKSPACE * weights + 256 * 2**20}
            if rec:
                coef = {k: rec.coef[k] for k in ("workspace_bytes",
                                                 "workspace_per_token_bytes")}
            mem = forms.memory_bytes(coef, plan.arch, weights, i, o, b, plan.kv_bytes,
                                     shared_tokens=shared)
            lo, hi = MEMORY_SPEC_INTERVAL
        return mem, mem * lo, mem * hi

    def _energy(self, plan: _Plan, ttft: np.ndarray,
                dec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        power = (plan.entry.power if plan.entry else None) or {}
        rec = power.get("decode_energy")
        nan = np.full(ttft.shape, np.nan)
        if not rec:
            return nan, nan, nan
        e = rec.coef["e0_j"] + forms.ramp_energy(rec.coef, dec)
        prefill_power = power.get("prefill_power")
        if not rec.includes_prefill_and_window and prefill_power:
            pc = prefill_power.coef
            e = e + pc["p0_w"] * ttft  # prefill energy at the measured prefill power
        lo, hi = _iv(rec)
        f = plan.widen
        lo, hi = 1 - (1 - lo) * f, 1 + (hi - 1) * f
        return e, e * lo, e * hi

    def predict(self, model: str, quant: str, input_tokens: int, output_tokens: int,
                batch: int = 1, power_mode: str | None = None,
                engine: str | None = None) -> Prediction:
        g = self.predict_grid(model, quant, input_tokens, np.array([output_tokens]),
                              np.array([batch]), power_mode, engine)
        prov = Provenance(g["provenance"][0])
        note = self._plan(model, quant, power_mode, engine).note
        if g["extrapolated"][0]:
            note = "; ".join(n for n in (note, "extrapolated beyond the fitted range") if n)
        ttft_note = "; ".join(n for n in (note, self.prefill_note(batch, engine)) if n) or None

        def est(v: str, lo: str, hi: str) -> Estimate:
            return Estimate(value=float(g[v][0]), lo=float(g[lo][0]), hi=float(g[hi][0]),
                            provenance=prov, note=note)

        energy = est("energy_j", "energy_lo", "energy_hi")
        e2e = est("e2e_s", "e2e_lo", "e2e_hi").model_copy(update={"note": ttft_note})
        entry = self._plan(model, quant, power_mode, engine).entry
        mem = est("peak_mem_bytes", "mem_lo", "mem_hi")
        if not (entry and entry.memory and entry.quant == get_quant(quant).name):
            mem = mem.model_copy(update={"provenance": Provenance.SPEC,
                                         "note": "weights + KV cache + default workspace"})
        if batch > 1 and applies(self.resolved_engine(engine), self.prefix_caching):
            shared = f"the prompt's cached KV blocks held once for the {batch} samples"
            mem = mem.model_copy(update={"note": "; ".join(n for n in (mem.note, shared) if n)})
        if self.kv_cache_dtype != "auto":
            held = kv_cache.held(self.kv_cache_dtype)
            mem = mem.model_copy(update={"note": "; ".join(n for n in (mem.note, held) if n),
                                         "provenance": Provenance.SPEC})
        has_energy = bool(np.isfinite(energy.value))
        power = None
        if has_energy:
            power = Estimate(value=energy.value / e2e.value, lo=energy.lo / e2e.hi,
                             hi=energy.hi / e2e.lo, provenance=prov, note=note)
        ttft = est("ttft_s", "ttft_lo", "ttft_hi").model_copy(update={"note": ttft_note})
        return Prediction(ttft_s=ttft,
                          decode_s=est("decode_s", "decode_lo", "decode_hi"), e2e_s=e2e,
                          peak_mem_bytes=mem,
                          energy_j=energy if has_energy else None, avg_power_w=power)


def _known_engines() -> set[str]:
    from edgeprof.fit._engine_terms import ALIASES, ENGINES

    return set(ENGINES) | set(ALIASES)


def _calibrated_quants(cal: dict[str, Any] | None) -> set[str] | None:
    """Quants of the measured fits a calibration came from (``fitted_on`` entries
    ``model/quant/engine/mode``); None without that list (taken to cover every quant)."""
    fitted = (cal or {}).get("fitted_on")
    if not isinstance(fitted, list) or not fitted:
        return None
    return {str(e).split("/")[1] for e in fitted if "/" in str(e)}


def _same_engine(fit_engine: Any, engine: str) -> bool:
    """Whether a fit's engine is ``engine`` (a fit without one serves any engine)."""
    if not fit_engine:
        return True
    name = str(fit_engine).lower()
    return (normalize_engine(name) if name in _known_engines() else name) == engine


def _engine_iv(iv: dict[str, Any] | None) -> tuple[float, float]:
    """An engine's held-out interval (``calibration.engines.E.interval``), else the spec one."""
    iv = iv or {}
    return float(iv.get("lo", SPEC_INTERVAL[0])), float(iv.get("hi", SPEC_INTERVAL[1]))


def _batch_range(record: PhaseFit | None) -> float:
    """The largest batch a phase fit was measured at (1 without one: spec and engine terms
    come from batch-1 figures)."""
    if record is None or not record.fitted_on or "batch" not in record.fitted_on:
        return 1.0
    return float(record.fitted_on["batch"][1])


def _iv(record: PhaseFit) -> tuple[float, float]:
    iv = record.interval
    return (0.8, 1.25) if iv is None else (float(iv.lo), float(iv.hi))


def _plain(obj: Any) -> Any:
    """Plain Python types (numpy scalars → float/int; NaN → None) for YAML/JSON."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
