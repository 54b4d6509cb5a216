"""The sweep spec: which axes to measure and how, from a YAML file and/or flags.

Axes take lists or strings (``"128,512"``, ``"128:1024:128"``, ``"128..1024"``); model and
quant names are resolved against the catalog so that a typo fails before anything runs.
Flags override the file key by key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
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


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    return {_ALIASES.get(k, k.replace("-", "_")): v for k, v in raw.items()}


def read_spec_file(path: Path | str) -> dict[str, Any]:
    """The raw keys of a YAML spec file (validated later, with the flags merged in)."""
    path = Path(path)
    try:
        from edgeprof.files import read_text_checked

        data = yaml.safe_load(read_text_checked(path, "spec file", "check the --spec path"))
    except OSError as exc:
        raise UserInputError(f"Cannot read the spec file {path} ({exc.strerror}); "
                             "check the --spec path.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise DataFormatError(f"{path} is not valid YAML{where}; fix the spec file.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataFormatError(f"{path} must hold a mapping of sweep keys (models:, quants:, …).")
    data = data.get("sweep", data) if isinstance(data.get("sweep"), dict) else data
    return _normalise(data)


def _check_spec_limits(spec: SweepSpec) -> None:
    """Engine options typed per engine; prompt + output within each model's context."""
    from edgeprof.engines.options import check_engine_options

    check_engine_options(spec.engine, spec.engine_options)
    longest = max(spec.inputs) + max(spec.outputs)
    for name in spec.models:
        limit = resolve_model(name).max_position
        if longest > limit:
            raise UserInputError(f"--inputs {max(spec.inputs)} + --outputs {max(spec.outputs)} "
                                 f"= {longest} tokens exceeds {name}'s context length of "
                                 f"{limit}; use shorter lengths.")


def build_spec(file_keys: dict[str, Any] | None = None, **flags: Any) -> SweepSpec:
    """Merge spec-file keys and flags (flags win; ``None`` flags are ignored) and validate."""
    merged = _normalise(dict(file_keys or {}))
    merged.update(_normalise({k: v for k, v in flags.items() if v is not None}))
    if "models" not in merged:
        raise UserInputError("No models to sweep; pass --models a,b or put models: in --spec.")
    try:
        spec = SweepSpec.model_validate(merged)
        _check_spec_limits(spec)
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
