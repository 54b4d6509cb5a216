"""The sweep spec: which axes to measure and how, from a YAML file and/or flags.

Axes take lists or strings (``"128,512"``, ``"128:1024:128"``, ``"128..1024"``); model and
quant names are resolved against the catalog so that a typo fails before anything runs.
Flags override the file key by key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edgeprof.catalog import get_quant, resolve_model
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.units import parse_duration, parse_int_axis, parse_str_list

# Keys that may differ between runs into one folder without mixing incompatible rows
# (the axes only add or drop points; scheduling never changes what a row means).
RESUMABLE_KEYS = frozenset({"models", "quants", "inputs", "outputs", "batches", "repeats",
                            "power_modes", "cooldown_s", "timeout_per_point_s"})


class SweepSpec(BaseModel):
    """What one ``edgeprof sweep`` measures."""

    model_config = ConfigDict(extra="forbid")

    engine: str = "torch"
    device: str = "cpu"
    models: list[str]
    quants: list[str] = Field(default_factory=lambda: ["fp32"])
    inputs: list[int] = Field(default_factory=lambda: [128])
    outputs: list[int] = Field(default_factory=lambda: [64])
    batches: list[int] = Field(default_factory=lambda: [1])
    repeats: int = Field(default=3, ge=1)
    warmup: int = Field(default=1, ge=0)
    power_modes: list[str] | None = None
    cooldown_s: float = Field(default=0.0, ge=0)
    timeout_per_point_s: float | None = Field(default=None, gt=0)
    engine_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("models", mode="before")
    @classmethod
    def _models(cls, v: Any) -> list[str]:
        return [resolve_model(m).name for m in parse_str_list(v, "models")]

    @field_validator("quants", mode="before")
    @classmethod
    def _quants(cls, v: Any) -> list[str]:
        return list(dict.fromkeys(get_quant(q).name for q in parse_str_list(v, "quants")))

    @field_validator("inputs", "outputs", "batches", mode="before")
    @classmethod
    def _axis(cls, v: Any, info: Any) -> list[int]:
        return parse_int_axis(v, info.field_name)

    @field_validator("power_modes", mode="before")
    @classmethod
    def _modes(cls, v: Any) -> list[str] | None:
        return None if v in (None, "", []) else parse_str_list(v, "power-modes")

    @field_validator("cooldown_s", mode="before")
    @classmethod
    def _cooldown(cls, v: Any) -> float:
        if isinstance(v, str) and v.strip() in ("0", "0s", "0ms"):
            return 0.0
        return 0.0 if v in (None, 0) else parse_duration(v)

    @field_validator("timeout_per_point_s", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> float | None:
        return None if v in (None, "", "none", 0) else parse_duration(v)

    @property
    def n_points(self) -> int:
        modes = len(self.power_modes or [None])
        return (len(self.models) * len(self.quants) * modes * len(self.inputs)
                * len(self.outputs) * len(self.batches) * self.repeats)

    def incompatibility(self, old: dict[str, Any]) -> str | None:
        """Why rows of this spec must not join a folder measured with ``old``, or None."""
        mine = self.model_dump()
        for key in sorted(set(mine) - RESUMABLE_KEYS):
            if key in old and old[key] != mine[key]:
                return f"{key} was {old[key]!r}, now {mine[key]!r}"
        return None


# Spec-file spellings → field names (the flags' names work in the file too).
_ALIASES = {"input_tokens": "inputs", "output_tokens": "outputs", "batch": "batches",
            "cooldown": "cooldown_s", "timeout_per_point": "timeout_per_point_s",
            "power-modes": "power_modes", "timeout-per-point": "timeout_per_point_s"}


def normalise_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """Spec-file and flag spellings → field names."""
    return {_ALIASES.get(k, str(k).replace("-", "_")): v for k, v in raw.items()}


def _check_spec_limits(spec: SweepSpec, named: dict[str, str]) -> None:
    """Engine options typed per engine; prompt + output within each model's context
    (``named``: how to call the inputs/outputs in the message — a flag or a file key)."""
    from edgeprof.catalog import check_context
    from edgeprof.engines._options import check_engine_options

    check_engine_options(spec.engine, spec.engine_options, where=named["engine_options"])
    for name in spec.models:
        check_context(name, max(spec.inputs), max(spec.outputs), inputs=named["inputs"],
                      outputs=named["outputs"])


def build_spec(file_keys: dict[str, Any] | None = None, **flags: Any) -> SweepSpec:
    """Merge spec-file keys and flags (flags win; ``None`` flags are ignored) and validate."""
    merged = normalise_keys(dict(file_keys or {}))
    given = normalise_keys({k: v for k, v in flags.items() if v is not None})
    merged.update(given)
    path = getattr(file_keys, "path", None)  # a SpecFileKeys from read_spec_file
    named = {k: f"{k} (in {path})" if path is not None and k in file_keys and k not in given
             else f"--{k}" for k in ("inputs", "outputs")}
    named["engine_options"] = (f"engine_options (in {path})" if path is not None
                               and "engine_options" in file_keys else "engine_options")
    if "models" not in merged:
        raise UserInputError("No models to sweep; pass --models a,b or put models: in --spec.")
    try:
        spec = SweepSpec.model_validate(merged)
        _check_spec_limits(spec, named)
        return spec
    except ValidationError as exc:
        first = exc.errors()[0]
        if first.get("ctx", {}).get("error") and isinstance(first["ctx"]["error"],
                                                             UserInputError):
            raise first["ctx"]["error"] from None
        field = ".".join(str(p) for p in first["loc"]) or "spec"
        if first["type"] == "extra_forbidden":
            known = ", ".join(SweepSpec.model_fields)
            raise DataFormatError(f"Unknown sweep key {field!r}; known keys: {known}.") from None
        raise DataFormatError(f"Sweep key {field!r}: {first['msg']}; got "
                              f"{first.get('input')!r}.") from None
