"""Shared plumbing of the tool-output importers (llama-bench, vLLM, GenAI-Perf/AIPerf, Edge-LLM).

Each importer turns one tool's result file (or a folder of them) into measurement rows labeled
``imported:<tool>``, with the tool's version in a ``tool_version`` column and in ``run.json``.
What a file cannot say (the device, often the weight format) comes from options, and every
assumption made is written to ``run.json``. A malformed file raises one ``DataFormatError``
line naming the file and the field.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeprof import __version__
from edgeprof.catalog import QUANT_FORMATS, get_quant, resolve_model
from edgeprof.errors import DataFormatError, UnknownModelError, UnknownQuantError, UserInputError
from edgeprof.table import (
    MEASUREMENTS_FILE,
    Measurement,
    RunConditions,
    point_key,
    write_measurements,
    write_run_conditions,
)

UNRECORDED = "unrecorded"


@dataclass
class ImportOptions:
    """What the user tells an importer; ``None`` means "read it from the file"."""

    device: str
    model: str | None = None
    quant: str | None = None
    engine: str | None = None
    tool_version: str | None = None
    power_mode: str | None = None
    batch: int | None = None


@dataclass
class ImportResult:
    """Rows plus what run.json should say about them."""

    rows: list[Measurement]
    tool: str
    versions: set[str] = field(default_factory=set)
    assumptions: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def finish(self, no_version: str | None = None) -> ImportResult:
        """Number repeats in file order and, if some file named no tool version, record
        ``no_version`` (what it lacked) as an assumption; returns self."""
        if no_version and UNRECORDED in self.versions:
            self.assumptions.append(f"{no_version} (pass --tool-version)")
        self.rows = renumber_repeats(self.rows)
        return self


def fail(path: Path, message: str) -> DataFormatError:
    """The one-line error for a malformed file."""
    return DataFormatError(f"{path}: {message}")


def load_json(path: Path, tool: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataFormatError(f"{path} does not exist; pass a {tool} result file.") from None
    except UnicodeDecodeError:
        raise fail(path, f"is not text; pass a {tool} result file.") from None
    except json.JSONDecodeError as exc:
        raise fail(path, f"is not valid JSON ({exc.msg}, line {exc.lineno}); "
                         f"pass a {tool} result file.") from None


def number(obj: dict[str, Any], key: str, path: Path, where: str = "",
           required: bool = True) -> float | None:
    """A finite number from ``obj[key]`` (numbers written as strings are accepted)."""
    place = f"{where} " if where else ""
    if key not in obj or obj[key] is None or obj[key] == "":
        if required:
            raise fail(path, f"{place}lacks the field {key!r}.")
        return None
    value = obj[key]
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise fail(path, f"{place}field {key!r} is {value!r}, not a number.") from None
    if not math.isfinite(out):
        raise fail(path, f"{place}field {key!r} is {value!r}, not a finite number.")
    return out


def integer(obj: dict[str, Any], key: str, path: Path, where: str = "",
            required: bool = True) -> int | None:
    value = number(obj, key, path, where, required)
    if value is None:
        return None
    if value != int(value) or value < 0:
        place = f"{where} " if where else ""
        raise fail(path, f"{place}field {key!r} is {obj[key]!r}, not a whole number ≥ 0.")
    return int(value)


def positive(value: float, key: str, path: Path, where: str = "") -> float:
    if value <= 0:
        place = f"{where} " if where else ""
        raise fail(path, f"{place}field {key!r} is {value!r}; a time must be > 0.")
    return value


_HUB_SUFFIXES = re.compile(r"(-gguf|\.gguf|-awq|-gptq|-fp8|-int4|-int8|-bf16|-fp16)$")


def model_name(options: ImportOptions, candidates: Iterable[str | None], path: Path,
               tool: str) -> str:
    """The catalog name: ``--model``, else the first candidate the catalog resolves."""
    if options.model:
        return resolve_model(options.model).name
    tried = []
    for raw in candidates:
        if not raw:
            continue
        stem = Path(str(raw)).name
        keys = [str(raw), stem]
        low = stem.lower()
        for _ in range(3):
            low = _HUB_SUFFIXES.sub("", low)
        low = re.sub(r"\.gguf$", "", low)
        low = re.sub(r"[-.](i?q\d\w*|f16|f32|bf16)$", "", low)  # GGUF type suffix
        keys += [low, low.removesuffix("-instruct")]
        for key in keys:
            try:
                return resolve_model(key).name
            except UnknownModelError:
                continue
        tried.append(str(raw))
    named = f" (it names {', '.join(repr(t) for t in tried)})" if tried else ""
    raise UserInputError(f"{path}: cannot tell which catalog model this {tool} run used{named}; "
                         "pass --model (see `edgeprof models`).")


def quant_name(options: ImportOptions, found: str | None, path: Path, tool: str) -> str:
    if options.quant:
        return get_quant(options.quant).name
    if found:
        try:
            return get_quant(found).name
        except UnknownQuantError:
            pass
    raise UserInputError(f"{path}: a {tool} result does not say the weight format in "
                         f"edgeprof's terms; pass --quant ({', '.join(QUANT_FORMATS)}).")


def engine_name(options: ImportOptions, found: str | None, path: Path, tool: str) -> str:
    name = options.engine or found
    if not name:
        raise UserInputError(f"{path}: a {tool} result does not name the serving engine; "
                             "pass --engine (vllm, trtllm, mlc, llama.cpp, torch, onnxruntime).")
    return name


def input_files(path: Path, patterns: tuple[str, ...], tool: str) -> list[Path]:
    """``path`` itself, or every file under a folder that matches one of ``patterns``."""
    if path.is_dir():
        files = sorted({p for pat in patterns for p in path.rglob(pat) if p.is_file()})
        if not files:
            raise DataFormatError(f"{path} holds no {tool} result files "
                                  f"({', '.join(patterns)}).")
        return files
    if not path.exists():
        raise DataFormatError(f"{path} does not exist; pass a {tool} result file or folder.")
    return [path]


def renumber_repeats(rows: list[Measurement]) -> list[Measurement]:
    """Repeats of one point numbered 0..n-1 in file order, so no two rows share a key."""
    seen: dict[tuple, int] = defaultdict(int)
    out = []
    for r in rows:
        d = r.model_dump()
        d["repeat"] = 0
        key = point_key(d)
        out.append(r.model_copy(update={"repeat": seen[key]}))
        seen[key] += 1
    return out


def write_import(out: Path | str, result: ImportResult, options: ImportOptions) -> Path:
    """Write ``out/measurements.jsonl`` and ``out/run.json``; returns the table path."""
    from edgeprof.device import load_device_spec

    if not result.rows:
        where = ", ".join(result.files) or "the given path"
        raise DataFormatError(f"{where} holds no {result.tool} measurements.")
    spec = load_device_spec(options.device)
    engine = result.rows[0].engine
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = renumber_repeats(result.rows)
    path = write_measurements(out / MEASUREMENTS_FILE, rows)
    version = ", ".join(sorted(result.versions)) or UNRECORDED
    write_run_conditions(out, RunConditions(
        edgeprof_version=__version__, device=spec.name, power_mode=options.power_mode,
        engine=engine, source=f"imported:{result.tool}", tool=result.tool, tool_version=version,
        imported_from=result.files, device_spec=spec.model_dump(mode="json"),
        assumptions=result.assumptions))
    return path


def common(options: ImportOptions, tool: str, version: str, engine: str, model: str,
           quant: str) -> dict[str, Any]:
    """Columns every imported row shares."""
    from edgeprof.device import load_device_spec

    spec = load_device_spec(options.device)
    mode = spec.power_mode(options.power_mode) if options.power_mode else None  # known mode?
    return {"device": spec.name, "engine": engine, "model": model, "quant": quant,
            "power_mode": mode.name if mode else None, "source": f"imported:{tool}",
            "tool": tool, "tool_version": version, "quant_impl": "native"}

