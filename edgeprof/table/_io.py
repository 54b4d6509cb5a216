"""Reading and writing measurements tables: JSONL (native), CSV (import/export), Parquet.

The JSONL store is append-only: every row is one line written and fsync'ed before the next
point starts, so a sweep killed at any moment loses at most the line being written, which
the reader detects (it does not parse) and drops with a warning.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edgeprof.errors import DataFormatError
from edgeprof.files import atomic_write, read_text_checked
from edgeprof.table._schema import CONTRACT_COLUMNS, SCHEMA_VERSION, Measurement, RunConditions

MEASUREMENTS_FILE = "measurements.jsonl"
RUN_FILE = "run.json"

_NUMERIC_INT = {"input_tokens", "output_tokens", "batch", "repeat", "peak_mem_bytes",
                "weight_bytes"}
_NUMERIC_FLOAT = {"ttft_s", "decode_s", "tbt_s", "e2e_s", "avg_power_w", "energy_j",
                  "prefill_power_w", "decode_power_w", "prefill_energy_j", "decode_energy_j",
                  "idle_power_w"}


def resolve_table_path(path: Path) -> Path:
    """A measurements file, or a sweep folder holding ``measurements.jsonl``."""
    path = Path(path)
    if path.is_dir():
        candidate = path / MEASUREMENTS_FILE
        if not candidate.exists():
            raise DataFormatError(f"{path} holds no {MEASUREMENTS_FILE}; run `edgeprof sweep` "
                                  f"with --out {path} or pass a CSV/JSONL file.")
        return candidate
    if not path.exists():
        raise DataFormatError(f"{path} does not exist; pass a measurements file or sweep folder.")
    return path


#: Largest integer a table cell may hold (token counts, bytes): beyond it a value is damage.
_MAX_CELL_INT = 2**53


def _check_cells(raw: Any, where: str) -> None:
    """Refuse non-finite floats and absurd integers before they reach numpy."""
    if not isinstance(raw, dict):
        raise DataFormatError(f"{where}: a row must be a JSON object (column: value), not "
                              f"{type(raw).__name__}; fix or remove it.")
    for key, value in raw.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise DataFormatError(f"{where}: column {key!r} is {value}; give a finite number "
                                  "or leave it empty.")
        if isinstance(value, int) and abs(value) > _MAX_CELL_INT:
            raise DataFormatError(f"{where}: column {key!r} is {value}, out of range; fix or "
                                  "remove the row.")
        if isinstance(value, list):
            for item in value:
                if isinstance(item, float) and not math.isfinite(item):
                    raise DataFormatError(f"{where}: column {key!r} holds {item}; give "
                                          "finite numbers.")


def _parse_row(raw: dict[str, Any], where: str) -> Measurement:
    _check_cells(raw, where)
    try:
        return Measurement.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "row"
        raise DataFormatError(f"{where}: column {field!r}: {first['msg']}.") from None


def iter_jsonl(path: Path) -> Iterator[Measurement]:
    text = read_text_checked(path, "measurements table",
                             "pass a measurements .jsonl/.csv written by edgeprof")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if number == len(lines):  # a torn last line from an interrupted write
                warnings.warn(f"{path}:{number}: dropped an incomplete last line", stacklevel=2)
                continue
            raise DataFormatError(f"{path}:{number} is not valid JSON; fix or remove it.") from None
        except ValueError as exc:  # e.g. an integer with thousands of digits
            raise DataFormatError(f"{path}:{number}: {str(exc)[:80]}; fix or remove it.") \
                from None
        yield _parse_row(raw, f"{path}:{number}")


def _coerce_csv(raw: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key is None:
            continue
        key = key.strip()
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None, "None", "nan", "NaN", "null"):
            out[key] = None
            continue
        if key in _NUMERIC_INT:
            out[key] = int(float(value))
        elif key in _NUMERIC_FLOAT:
            out[key] = float(value)
        elif key in ("flags",):
            out[key] = [f for f in value.split(";") if f]
        elif key == "token_times_s":
            out[key] = json.loads(value)
        else:
            out[key] = value
    out.setdefault("status", "ok")
    if out.get("flags") is None:
        out.pop("flags", None)
    return out


def iter_csv(path: Path) -> Iterator[Measurement]:
    text = read_text_checked(path, "measurements table",
                             "pass a measurements .jsonl/.csv written by edgeprof")
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            raise DataFormatError(f"{path}: not a CSV table ({exc}).") from None
        missing = [c for c in ("model", "quant", "input_tokens", "output_tokens")
                   if c not in (fieldnames or [])]
        if missing:
            raise DataFormatError(f"{path} lacks the columns {', '.join(missing)}; the contract "
                                  f"columns are: {', '.join(CONTRACT_COLUMNS)}.")
        rows = enumerate(reader, 2)
        while True:
            try:
                number, raw = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                raise DataFormatError(f"{path}: not a CSV table ({exc}).") from None
            try:
                row = _coerce_csv(raw)
            except (ValueError, OverflowError, RecursionError) as exc:
                raise DataFormatError(f"{path}:{number}: a cell cannot be read "
                                      f"({str(exc)[:80]}); fix the row.") from None
            row.setdefault("device", "unknown")
            row.setdefault("engine", "unknown")
            row.setdefault("batch", 1)
            row.setdefault("repeat", 0)
            row.setdefault("source", "imported:csv")
            yield _parse_row(row, f"{path}:{number}")


def read_measurements(path: Path | str) -> list[Measurement]:
    """Read a JSONL, CSV or Parquet measurements table, or a sweep folder."""
    path = resolve_table_path(Path(path))
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return list(iter_jsonl(path))
    if suffix == ".csv":
        return list(iter_csv(path))
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataFormatError("Reading Parquet needs pyarrow: pip install pyarrow.") from None
        try:
            table = pq.read_table(path).to_pylist()
        except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError family
            raise DataFormatError(f"{path} is not a readable Parquet file "
                                  f"({str(exc)[:80]}).") from None
        return [_parse_row(r, str(path)) for r in table]
    raise DataFormatError(f"{path}: unknown table format {suffix!r}; use .jsonl, .csv or .parquet.")


def append_row(path: Path, row: Measurement) -> None:
    """Append one row and make it durable before returning."""
    line = json.dumps(row.model_dump(mode="json"), separators=(",", ":")) + "\n"
    with open(path, "a") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def repair_torn_tail(path: Path) -> None:
    """Cut an incomplete last line (left by SIGKILL mid-write) so appends stay valid."""
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(path, "r+b") as fh:
        fh.truncate(cut)


def write_measurements(path: Path | str, rows: Iterable[Measurement]) -> Path:
    """Write a whole table (JSONL or CSV by suffix)."""
    path = Path(path)
    rows = list(rows)
    if path.suffix.lower() == ".csv":
        extra = sorted({k for r in rows for k in r.model_dump() if k not in CONTRACT_COLUMNS})
        columns = list(CONTRACT_COLUMNS) + extra
        with io.StringIO(newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            for r in rows:
                d = r.model_dump(mode="json")
                if isinstance(d.get("flags"), list):
                    d["flags"] = ";".join(d["flags"])
                if d.get("token_times_s") is not None:
                    d["token_times_s"] = json.dumps(d["token_times_s"])
                writer.writerow({c: d.get(c) for c in columns})
            atomic_write(path, fh.getvalue())
    else:
        atomic_write(path, "".join(json.dumps(r.model_dump(mode="json"), separators=(",", ":"))
                                   + "\n" for r in rows))
    return path


def write_run_conditions(folder: Path, conditions: RunConditions) -> None:
    atomic_write(Path(folder) / RUN_FILE, json.dumps(conditions.model_dump(mode="json"), indent=2))


def read_run_json(folder: Path | str) -> dict[str, Any] | None:
    """The one reader of ``run.json``: the JSON object in ``folder/run.json`` (or beside a
    table file), ``None`` when there is none; a damaged file is one ``DataFormatError``."""
    folder = Path(folder)
    path = folder / RUN_FILE if folder.is_dir() or not folder.suffix else folder.with_name(
        RUN_FILE)
    if not path.exists():
        return None
    try:
        raw = json.loads(read_text_checked(path, "run conditions file",
                                           "remove it to start afresh"))
    except (json.JSONDecodeError, ValueError, RecursionError):
        raise DataFormatError(f"{path} is not valid JSON; remove it to start afresh.") from None
    if not isinstance(raw, dict):
        raise DataFormatError(f"{path} must hold a JSON object; remove it to start afresh.")
    return raw


def read_run_conditions(folder: Path) -> RunConditions | None:
    """``run.json`` as :class:`RunConditions`, its schema version checked."""
    raw = read_run_json(folder)
    if raw is None:
        return None
    path = Path(folder) / RUN_FILE
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DataFormatError(f"{path} has schema version {version}; this edgeprof reads "
                              f"version {SCHEMA_VERSION}.")
    try:
        return RunConditions.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"]) or "file"
        raise DataFormatError(f"{path}: field {field!r}: {first['msg']}; remove it to start "
                              "afresh.") from None
