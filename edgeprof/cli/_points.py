"""The ``edgeprof predict --points`` CSV: typed rows, each within its model's context.

Columns ``model, quant, input_tokens, output_tokens`` and optionally ``batch``,
``power_mode``, ``engine`` (the names benchmark tools print are read as these: ``isl`` /
``osl``, ``input_len`` / ``output_len``, ``batch_size``, ``quantization``, ... — see
``COLUMN_ALIASES``); any other columns (an id, a measured value to compare with) are kept as
given under ``input_columns``. Each row is a :class:`PointRow`; a malformed value is one error
naming the file, the line and the column. A row naming a model the catalog lacks, or whose
input + output exceeds its model's context length (``edgeprof.catalog.check_context``), is
kept with that one-line ``error`` so the file's other rows are still predicted.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edgeprof.catalog import check_context, resolve_model
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.files import read_text_checked
from edgeprof.fit._engine_terms import normalize_engine
from edgeprof.units import MAX_INT

COLUMNS = ("model", "quant", "input_tokens", "output_tokens")
OPTIONAL = ("batch", "power_mode", "engine")
MAX_BATCH = 65536
HINT = f"pass a CSV with columns {', '.join(COLUMNS)}[, {', '.join(OPTIONAL)}]"
#: Header spellings of other tools (folded: lower case, spaces/underscores/dashes as "_") read
#: as edgeprof's columns: AIPerf / GenAI-Perf and vLLM bench (input/output lengths,
#: concurrency), TensorRT-LLM (isl/osl), llama-bench (n_prompt/n_gen), OpenAI (max_tokens).
COLUMN_ALIASES = {
    **dict.fromkeys(("isl", "input_len", "input_length", "input_tokens", "prompt_tokens",
                     "n_prompt", "prompt_len", "in_tokens"), "input_tokens"),
    **dict.fromkeys(("osl", "output_len", "output_length", "output_tokens", "max_tokens",
                     "n_gen", "gen_tokens", "out_tokens", "generated_tokens"),
                    "output_tokens"),
    **dict.fromkeys(("batch", "batch_size", "bs", "concurrency", "num_seqs", "n_parallel"),
                    "batch"),
    **dict.fromkeys(("quant", "quantization", "precision", "dtype", "quant_algo",
                     "weight_format"), "quant"),
    **dict.fromkeys(("model", "model_name", "model_id"), "model"),
    **dict.fromkeys(("power_mode", "nvpmodel"), "power_mode"),
    **dict.fromkeys(("engine", "backend", "framework"), "engine"),
}


class PointRow(BaseModel):
    """One point to predict."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    quant: str = Field(min_length=1)
    input_tokens: int = Field(ge=1, le=MAX_INT)
    output_tokens: int = Field(ge=1, le=MAX_INT)
    batch: int = Field(default=1, ge=1, le=MAX_BATCH)
    power_mode: str | None = None
    engine: str | None = None

    @field_validator("batch", "power_mode", "engine", mode="before")
    @classmethod
    def _blank(cls, v: Any, info: Any) -> Any:  # an empty cell: the default
        if v is None or (isinstance(v, str) and not v.strip()):
            return 1 if info.field_name == "batch" else None
        return v

    @field_validator("engine")
    @classmethod
    def _engine(cls, v: str | None) -> str | None:
        return None if v is None else normalize_engine(v)

    def as_point(self) -> dict[str, Any]:
        return self.model_dump()


def _row_error(exc: ValidationError, where: str) -> DataFormatError:
    first = exc.errors()[0]
    column = ".".join(str(x) for x in first["loc"]) or "row"
    inner = (first.get("ctx") or {}).get("error")
    if isinstance(inner, UserInputError):
        return DataFormatError(f"{where} column {column!r}: {inner}")
    if column in ("input_tokens", "output_tokens", "batch") and first["type"].startswith(
            ("int_", "missing")):
        return DataFormatError(f"{where} column {column!r}: token counts and batch must be "
                               f"integers; got {first.get('input')!r:.40}.")
    bound = {"input_tokens": f"1..{MAX_INT}", "output_tokens": f"1..{MAX_INT}",
             "batch": f"1..{MAX_BATCH}"}.get(column)
    if bound:
        return DataFormatError(f"{where} column {column!r} must be in {bound} (input_tokens, "
                               f"output_tokens and batch must be ≥ 1); got "
                               f"{first.get('input')!r:.40}.")
    return DataFormatError(f"{where} column {column!r}: {first['msg']}; got "
                           f"{first.get('input')!r:.40}.")


def _header_map(path: Path, fieldnames: list[str]) -> dict[str, str]:
    """Each header that names an edgeprof column (directly or by ``COLUMN_ALIASES``) → it."""
    mapped: dict[str, str] = {}
    for name in fieldnames:
        column = COLUMN_ALIASES.get(re.sub(r"[\s_-]+", "_", name.strip().lower()))
        if column is None:
            continue
        if column in mapped.values():
            first = next(k for k, v in mapped.items() if v == column)
            raise DataFormatError(f"{path}: the columns {first!r} and {name!r} both give "
                                  f"{column}; keep one.")
        mapped[name] = column
    return mapped


def read_points(path: Path) -> list[dict[str, Any]]:
    """The points of a ``--points`` CSV. A row whose model is unknown or whose lengths exceed
    its model's context carries an ``error`` (one line) instead of being predicted."""
    if not path.exists():
        raise UserInputError(f"{path} does not exist; {HINT}.")
    text = read_text_checked(path, "points file", HINT)
    reader = csv.DictReader(text.splitlines())
    header = _header_map(path, [f for f in reader.fieldnames or [] if f is not None])
    missing = [c for c in COLUMNS if c not in header.values()]
    if missing:
        raise DataFormatError(f"{path} lacks the columns {', '.join(missing)}; {HINT}.")
    points = []
    for line, raw in enumerate(reader, 2):
        where = f"{path}:{line}:"
        given = {header[k]: v for k, v in raw.items() if k in header}
        try:
            row = PointRow.model_validate(given)
        except ValidationError as exc:
            raise _row_error(exc, where) from None
        point = row.as_point()
        try:
            arch = resolve_model(row.model)
            check_context(arch, row.input_tokens, row.output_tokens, inputs="input_tokens",
                          outputs="output_tokens", where=f"{where} ")
        except UserInputError as exc:
            point["error"] = f"{where} {exc}" if not str(exc).startswith(where) else str(exc)
        extra = {k: v for k, v in raw.items() if k is not None and k not in header}
        if extra:
            point["input_columns"] = extra
        points.append(point)
    if not points:
        raise DataFormatError(f"{path} holds no points; {HINT}.")
    return points
