"""Plain accuracy tables: one row per (model, quant, budget, samples).

CSV columns: ``model, quant, budget, samples, accuracy`` (a fraction 0..1), optional
``n_questions`` (gives a binomial interval), ``method`` (``majority`` — the default — or
``pass``), ``benchmark``, ``source``, ``url``, ``evidence``, ``avg_output_tokens``,
``verified``, ``note``. A row with an empty ``budget``
(the source states no token limit) is kept for display but never used for a budget query.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import norm

from edgeprof.errors import DataFormatError

REQUIRED = ("model", "quant", "budget", "samples", "accuracy")
METHODS = ("majority", "pass")


@dataclass(frozen=True)
class TableRow:
    model: str
    quant: str
    budget: int | None
    samples: int
    accuracy: float
    method: str = "majority"
    n_questions: int | None = None
    benchmark: str | None = None
    source: str | None = None
    verified: str | None = None
    note: str | None = None
    url: str | None = None
    evidence: str | None = None
    avg_output_tokens: float | None = None


def _int(text: str, where: str, name: str, minimum: int = 1) -> int:
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{where}: {name} must be a whole number; got {text!r}.") from None
    if not math.isfinite(value) or value != int(value) or value < minimum:
        raise DataFormatError(f"{where}: {name} must be a whole number ≥ {minimum}; got {text!r}.")
    return int(value)


def _float(text: str | None, where: str, name: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"{where}: {name} must be a number; got {text!r}.") from None
    if not value > 0 or not math.isfinite(value):
        raise DataFormatError(f"{where}: {name} must be a finite number > 0; got {text!r}.")
    return value


def read_table(path: Path) -> list[TableRow]:
    """Validated rows of an accuracy table CSV (comment lines start with ``#``)."""
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.lstrip().startswith("#")]
    reader = csv.DictReader(lines)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {', '.join(missing)}; an accuracy table "
                              f"needs {', '.join(REQUIRED)}.")
    rows: list[TableRow] = []
    for i, raw in enumerate(reader, 2):
        rec = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"{path} row {i}"
        try:
            acc = float(rec["accuracy"])
        except ValueError:
            raise DataFormatError(
                f"{where}: accuracy {rec['accuracy']!r} is not a number.") from None
        if not 0.0 <= acc <= 1.0 or math.isnan(acc):
            raise DataFormatError(f"{where}: accuracy must be a fraction in 0..1 (write 0.839 "
                                  f"for 83.9 %); got {rec['accuracy']!r}.")
        method = (rec.get("method") or "majority").lower()
        if method not in METHODS:
            raise DataFormatError(f"{where}: method must be majority or pass; got {method!r}.")
        rows.append(TableRow(
            model=rec["model"], quant=rec["quant"].lower(),
            budget=_int(rec["budget"], where, "budget") if rec["budget"] else None,
            samples=_int(rec["samples"], where, "samples"), accuracy=acc, method=method,
            n_questions=_int(rec["n_questions"], where, "n_questions")
            if rec.get("n_questions") else None,
            benchmark=rec.get("benchmark") or None, source=rec.get("source") or None,
            verified=rec.get("verified") or None, note=rec.get("note") or None,
            url=rec.get("url") or None, evidence=rec.get("evidence") or None,
            avg_output_tokens=_float(rec.get("avg_output_tokens"), where,
                                     "avg_output_tokens")))
    if not rows:
        raise DataFormatError(f"{path} has a header but no rows.")
    return rows


def wilson_interval(p: float, n: int, level: float) -> tuple[float, float]:
    """Wilson score interval for a proportion p measured on n questions."""
    z = float(norm.ppf(0.5 + level / 2.0))
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
