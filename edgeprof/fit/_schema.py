"""The ``fits:`` entries of a profile file, as pydantic models: the one statement of their
schema, and the validator ``Profile.load`` reads them through.

An entry is one (model, quant, engine, power mode) with a fit per phase (``prefill``,
``decode``, ``memory``; ``power`` holds ``prefill_power`` and ``decode_energy``) and, when
``edgeprof load`` measured it, a ``concurrency`` fit. Each phase fit is a ``form`` (the
formula, for people), its ``coef`` (finite numbers, by name) and how well it fits. Fields
the fitters add beyond these (per-phase diagnostics) are kept as they are.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edgeprof.errors import DataFormatError
from edgeprof.estimates import Provenance

HINT = "regenerate it with `edgeprof fit`"
#: Coefficients a phase's form cannot do without (the others have defaults: a prefill fit
#: without ``token_s``, written before it existed, reads as 0 — the previous form).
REQUIRED_COEF = {"prefill": ("overhead_s", "s_per_tflop"), "decode": ("step_s", "kv_s")}
#: Coefficients that must be ≥ 0 (fits are bounded so; a negative one breaks monotonicity).
NON_NEGATIVE_COEF = {"prefill": ("overhead_s", "s_per_tflop", "token_s", "chunk_s")}


class Interval(BaseModel):
    """A multiplicative prediction interval: the truth lies in [lo, hi] × the prediction at
    coverage ``level``."""

    lo: float
    hi: float
    level: float = 0.9


class PhaseFit(BaseModel):
    """One phase's fitted model."""

    model_config = ConfigDict(extra="allow")

    form: str | None = None
    coef: dict[str, float]
    fitted_params: list[str] = Field(default_factory=list)
    n: int | None = Field(None, description="measurements fitted")
    fitted_on: dict[str, list[float]] | None = Field(None, description="axis → [min, max]")
    train_mape: float | None = None
    cv_mape: float | None = None
    extrapolation: dict[str, Any] | None = Field(None, description="error beyond the fitted "
                                                 "range: fit_max, test_n, mape")
    interval: Interval | None = None
    outliers: list[dict[str, Any]] = Field(default_factory=list, description="points "
                                           "flagged and left out of the fit")
    includes_prefill_and_window: bool | None = Field(
        None, description="energy fits: the energy already covers prefill and the window")

    @field_validator("coef", mode="before")
    @classmethod
    def _finite(cls, coef: Any) -> Any:
        if not isinstance(coef, dict):
            raise ValueError("must be a mapping of coefficient names to numbers")
        for k, v in coef.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"coef.{k} is {v!r:.40}, not a finite number")
        return coef


class FitEntry(BaseModel):
    """One (model, quant, engine, power mode) of a profile."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    quant: str = Field(min_length=1)
    engine: str | None = None
    power_mode: str | None = None
    sources: list[str] = Field(default_factory=list)
    provenance: Provenance | None = None
    prefill: PhaseFit | None = None
    decode: PhaseFit | None = None
    memory: PhaseFit | None = None
    power: dict[str, PhaseFit | None] | None = None
    throttled_rows: dict[str, Any] | None = Field(None, description="throttle / clock-drop "
                                                  "rows: rule (left out or kept), rows")
    concurrency: dict[str, Any] | None = None


def dump_fits(entries: list[FitEntry]) -> list[dict[str, Any]]:
    """The entries as the plain dicts a profile's ``fits:`` holds (the one serializer).

    Fields are in declaration order (the fitters' record order), extras after them; fields
    never set are left out (``concurrency`` without load data, ``includes_prefill_and_window``
    outside energy fits), a phase set to None stays ``null``. NaN stays NaN here;
    ``Profile.save`` writes it as null.
    """
    return [e.model_dump(mode="json", exclude_unset=True, fallback=_scalar) for e in entries]


def _scalar(value: Any) -> Any:
    """A numpy scalar in an extra field as the Python number (``.item()``)."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} into a profile")


def check_fits(fits: Any, path: str | Path) -> list[dict[str, Any]]:
    """Validate a profile's ``fits:`` list entry by entry; the first problem becomes one
    line naming the file and the field (``fits[2].decode.coef.step_s``). Returns the
    entries as read (the dicts the fitters wrote)."""
    if fits is None:
        return []
    if not isinstance(fits, list):
        raise DataFormatError(f"The profile {path}: `fits:` must be a list of fit entries; "
                              f"{HINT}.")
    for n, entry in enumerate(fits):
        if not isinstance(entry, dict):
            raise DataFormatError(f"The profile {path}: fits[{n}] must be a mapping; {HINT}.")
        try:
            fit = FitEntry.model_validate(entry)
        except ValidationError as exc:
            raise DataFormatError(f"The profile {path}: {_describe(n, exc)}; {HINT}.") from None
        for phase in ("prefill", "decode"):
            rec = getattr(fit, phase)
            if rec is None:
                continue
            missing = [k for k in REQUIRED_COEF[phase] if k not in rec.coef]
            if missing:
                raise DataFormatError(f"The profile {path}: fits[{n}].{phase}.coef lacks "
                                      f"{', '.join(missing)}; {HINT}.")
            negative = [k for k in NON_NEGATIVE_COEF.get(phase, ()) if rec.coef.get(k, 0) < 0]
            if negative:
                raise DataFormatError(f"The profile {path}: fits[{n}].{phase}.coef."
                                      f"{negative[0]} is negative; {HINT}.")
    return fits


def _describe(n: int, exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = [str(x) for x in first["loc"]]
    msg = str(first["msg"]).removeprefix("Value error, ")
    if msg.startswith("coef."):  # the validator names the coefficient itself
        field, rest = msg.split(" ", 1)
        return f"fits[{n}].{'.'.join([*loc[:-1], field])} {rest}"
    if first["type"] == "missing" and loc[-1] == "coef":
        return f"fits[{n}].{'.'.join(loc[:-1])} has no `coef:` mapping"
    if first["type"] == "missing" or (loc and loc[-1] in ("model", "quant")):
        return f"fits[{n}].{'.'.join(loc)} is missing or not a name"
    return f"fits[{n}].{'.'.join(loc)}: {msg}"
