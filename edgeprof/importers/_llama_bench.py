"""Import llama.cpp ``llama-bench`` results: ``-o json``, ``-o jsonl``, ``-o csv`` or ``-o md``.

A record's test shape is ``n_prompt`` / ``n_gen`` / ``n_depth`` (md: the ``test`` column,
``pp512``, ``tg128``, ``pp512+tg128``, ``… @ d512``); its time is ``avg_ns`` (md: ``t/s``).
Mapping onto edgeprof's columns:

* ``pp N`` (prompt processing): the prompt of N tokens in one pass -> ``ttft_s`` of an
  N-token prompt, ``output_tokens`` 1. llama-bench times no sampling, so this is prefill alone.
* ``tg N`` (text generation): N one-token decode steps -> ``decode_s`` over N tokens, so
  ``output_tokens`` N + 1 (the first token belongs to the prefill), ``tbt_s`` = time / N.
* ``pp N + tg M``: the prompt then M steps -> ``e2e_s`` only (it cannot be split).
* ``@ dD`` (KV cache prefilled with D tokens): tg at depth D is decode at context D
  (``input_tokens`` D); pp at depth D is not a TTFT of any prompt, so it keeps its time in
  ``prefill_at_depth_s`` and leaves ``ttft_s`` empty (the fit does not use it).

JSON / JSONL carry every repetition (``samples_ns``): one row per repetition. CSV and md carry
the mean only (one row, with ``stddev_s``). ``batch`` is 1: llama-bench runs one sequence;
``n_batch`` / ``n_ubatch`` are its prompt chunk sizes and are kept as columns.
The weight format comes from the GGUF type (``Q4_K_M`` -> int4, ``Q8_0`` -> int8, ``F16``,
``BF16``, ``F32``), the version from ``build_commit`` / ``build_number``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from edgeprof.errors import DataFormatError
from edgeprof.importers._tool import (
    UNRECORDED,
    ImportOptions,
    ImportResult,
    common,
    engine_name,
    fail,
    input_files,
    integer,
    model_name,
    number,
    positive,
    quant_name,
    write_import,
)
from edgeprof.table import Measurement

TOOL = "llama-bench"
ENGINE = "llama.cpp"
PATTERNS = ("*.json", "*.jsonl", "*.csv", "*.md")

# GGUF tensor types (file-name spelling or llama.cpp's model_type text) -> edgeprof quant
_GGUF = [
    (re.compile(r"(?:^|[^a-z0-9])(i?q4[_a-z0-9]*|q4)(?:$|[^a-z0-9])"), "int4"),
    (re.compile(r"(?:^|[^a-z0-9])(q8_0|q8)(?:$|[^a-z0-9])"), "int8"),
    (re.compile(r"(?:^|[^a-z0-9])bf16(?:$|[^a-z0-9])"), "bf16"),
    (re.compile(r"(?:^|[^a-z0-9])f16(?:$|[^a-z0-9])"), "fp16"),
    (re.compile(r"(?:^|[^a-z0-9])f32(?:$|[^a-z0-9])"), "fp32"),
]
_GGUF_DETAIL = re.compile(r"(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)", re.IGNORECASE)


_SIZES = {" - medium": "_m", " - small": "_s", " - large": "_l"}


def gguf_quant(*texts: str | None) -> tuple[str | None, str | None]:
    """(edgeprof quant, GGUF type as written) from a file name or model_type text."""
    for text in texts:
        if not text:
            continue
        low = Path(text).name.lower().replace("mostly ", "")
        for long, short in _SIZES.items():
            low = low.replace(long, short)
        for pattern, quant in _GGUF:
            if pattern.search(low):
                detail = _GGUF_DETAIL.findall(low.removesuffix(".gguf"))
                return quant, (detail[-1].upper() if detail else None)
    return None, None


# ---------------------------------------------------------------------------- parsing
def _records(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Raw records and the format they came in (json, jsonl, csv or md)."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise fail(path, "is not text; pass llama-bench -o json/jsonl/csv/md output.") from None
    body = text.strip()
    if not body:
        raise fail(path, "is empty; pass llama-bench -o json/jsonl/csv/md output.")
    if body.startswith("["):
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise fail(path, f"is not valid JSON ({exc.msg}, line {exc.lineno}).") from None
        if not all(isinstance(r, dict) for r in data):
            raise fail(path, "is a JSON array but not of llama-bench test objects.")
        return data, "json"
    if body.startswith("{"):
        out = []
        for i, line in enumerate(body.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise fail(path, f"line {i} is not valid JSON ({exc.msg}).") from None
            if not isinstance(rec, dict):
                raise fail(path, f"line {i} is not a llama-bench test object.")
            out.append(rec)
        return out, "jsonl"
    if body.startswith("|"):
        return _markdown(path, body), "md"
    rows = list(csv.DictReader(io.StringIO(body)))
    if not rows or ("avg_ns" not in rows[0] and "avg_ts" not in rows[0]):
        raise fail(path, "is neither llama-bench JSON, JSONL, markdown nor CSV with an "
                         "'avg_ns' column.")
    return rows, "csv"


_TEST = re.compile(r"^(?:pp\s*(?P<pp>\d+))?\s*\+?\s*(?:tg\s*(?P<tg>\d+))?"
                   r"(?:\s*@\s*d\s*(?P<d>\d+))?$")
_TS = re.compile(r"^\s*(?P<avg>[0-9.eE+-]+)\s*(?:±\s*(?P<sd>[0-9.eE+-]+))?\s*$")


def _markdown(path: Path, body: str) -> list[dict[str, Any]]:
    lines = [ln.strip() for ln in body.splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    if "test" not in header or "t/s" not in header:
        raise fail(path, "markdown table lacks the 'test' or 't/s' column.")
    out = []
    for n, line in enumerate(lines[2:], 3):
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) != len(header):
            raise fail(path, f"markdown row {n} has {len(cells)} cells, the header "
                             f"{len(header)}.")
        row = dict(zip(header, cells, strict=True))
        test = _TEST.match(row["test"].replace("pg", "pp"))
        if not test or not (test["pp"] or test["tg"]):
            raise fail(path, f"markdown row {n}: field 'test' is {row['test']!r}, not "
                             "ppN, tgN, ppN+tgM or '… @ dN'.")
        ts = _TS.match(row["t/s"])
        if not ts:
            raise fail(path, f"markdown row {n}: field 't/s' is {row['t/s']!r}, not "
                             "'mean ± stddev'.")
        n_prompt, n_gen = int(test["pp"] or 0), int(test["tg"] or 0)
        avg_ts = float(ts["avg"])
        if avg_ts <= 0:
            raise fail(path, f"markdown row {n}: field 't/s' is {row['t/s']!r}; must be > 0.")
        tokens = n_prompt + n_gen
        rec: dict[str, Any] = {
            "n_prompt": n_prompt, "n_gen": n_gen, "n_depth": int(test["d"] or 0),
            "avg_ts": avg_ts, "avg_ns": tokens / avg_ts * 1e9,
            "model_type": row.get("model"), "backends": row.get("backend"),
        }
        if ts["sd"]:
            sd_ts = float(ts["sd"])
            rec["stddev_ns"] = tokens * sd_ts / avg_ts**2 * 1e9  # first-order propagation
        for col in ("ngl", "threads", "n_batch", "n_ubatch"):
            if col in row:
                rec["n_gpu_layers" if col == "ngl" else col] = row[col]
        out.append(rec)
    if not out:
        raise fail(path, "markdown table has no result rows.")
    return out


# ---------------------------------------------------------------------------- mapping
def _version(rec: dict[str, Any], options: ImportOptions) -> str:
    if options.tool_version:
        return options.tool_version
    commit, number_ = rec.get("build_commit"), rec.get("build_number")
    if commit:
        return f"{commit} ({number_})" if number_ not in (None, "") else str(commit)
    return UNRECORDED


def _rows(path: Path, rec: dict[str, Any], i: int, fmt: str,
          options: ImportOptions) -> list[Measurement]:
    where = f"record {i}"
    n_prompt = integer(rec, "n_prompt", path, where)
    n_gen = integer(rec, "n_gen", path, where)
    depth = integer(rec, "n_depth", path, where, required=False) or 0
    assert n_prompt is not None and n_gen is not None
    if n_prompt == 0 and n_gen == 0:
        raise fail(path, f"{where}: fields 'n_prompt' and 'n_gen' are both 0.")
    if "avg_ns" in rec and rec["avg_ns"] not in (None, ""):
        avg_s = positive(number(rec, "avg_ns", path, where) or 0.0, "avg_ns", path, where) / 1e9
    else:
        ts = positive(number(rec, "avg_ts", path, where) or 0.0, "avg_ts", path, where)
        avg_s = (n_prompt + n_gen) / ts
    samples = rec.get("samples_ns")
    if samples is not None and not (isinstance(samples, list) and samples
                                    and all(isinstance(s, int | float) and s > 0
                                            for s in samples)):
        raise fail(path, f"{where}: field 'samples_ns' is not a list of positive times.")
    times = [s / 1e9 for s in samples] if samples else [avg_s]

    filename, model_type = rec.get("model_filename"), rec.get("model_type")
    model = model_name(options, [filename, model_type], path, TOOL)
    found, detail = gguf_quant(filename, model_type)
    quant = quant_name(options, found, path, TOOL)
    engine = engine_name(options, ENGINE, path, TOOL)
    base = common(options, TOOL, _version(rec, options), engine, model, quant)
    extra: dict[str, Any] = {"gguf_type": detail, "tool_format": fmt, "batch": 1,
                             "llama_bench_test": _test_name(n_prompt, n_gen, depth)}
    for col in ("n_batch", "n_ubatch", "n_threads", "n_gpu_layers", "backends", "gpu_info",
                "cpu_info", "type_k", "type_v", "flash_attn", "test_time"):
        if rec.get(col) not in (None, ""):
            extra[col] = rec[col]
    if rec.get("stddev_ns") not in (None, "") and not samples:
        extra["stddev_s"] = (number(rec, "stddev_ns", path, where) or 0.0) / 1e9
    out = []
    for t in times:
        if n_gen == 0:  # pp: a prompt of n_prompt tokens
            if depth:
                cols = {"input_tokens": n_prompt, "output_tokens": 1, "prefill_at_depth_s": t,
                        "context_depth": depth, "phase": "prefill-at-depth"}
            else:
                cols = {"input_tokens": n_prompt, "output_tokens": 1, "ttft_s": t, "e2e_s": t,
                        "decode_s": 0.0, "phase": "prefill"}
        elif n_prompt == 0:  # tg: n_gen decode steps at context depth
            cols = {"input_tokens": max(depth, 1), "output_tokens": n_gen + 1, "decode_s": t,
                    "tbt_s": t / n_gen, "phase": "decode"}
            if depth:
                cols["context_depth"] = depth
        else:  # pg: prompt then n_gen steps
            cols = {"input_tokens": n_prompt + depth, "output_tokens": n_gen + 1, "e2e_s": t,
                    "phase": "prefill+decode"}
            if depth:
                cols["context_depth"] = depth
        out.append(Measurement(**base, **extra, **cols, repeat=0))
    return out


def _test_name(n_prompt: int, n_gen: int, depth: int) -> str:
    parts = ([f"pp{n_prompt}"] if n_prompt else []) + ([f"tg{n_gen}"] if n_gen else [])
    return "+".join(parts) + (f" @ d{depth}" if depth else "")


_BUILD = re.compile(r"^build:\s*(?P<commit>[0-9a-fA-F]+)\s*\((?P<number>\d+)\)", re.MULTILINE)


def _md_build(path: Path) -> dict[str, Any] | None:
    """A ``build: <commit> (<number>)`` line under a markdown table, if there is one."""
    m = _BUILD.search(path.read_text())
    return {"build_commit": m["commit"], "build_number": int(m["number"])} if m else None


def _looks_like_llama_bench(path: Path) -> bool:
    """In folder mode, tell llama-bench output from other files (READMEs, other JSON)."""
    try:
        head = path.read_text()[:20000]
    except (OSError, UnicodeDecodeError):
        return False
    if path.suffix == ".md":
        return re.search(r"\|\s*test\s*\|\s*t/s\s*\|", head) is not None
    return "n_prompt" in head and ("avg_ns" in head or "avg_ts" in head)


def llama_bench_rows(path: Path | str, options: ImportOptions) -> ImportResult:
    """Rows of one llama-bench output file or of every such file under a folder."""
    path = Path(path)
    result = ImportResult(rows=[], tool=TOOL, assumptions=[
        "batch 1 (llama-bench runs one sequence)",
        "pp tests: ttft_s is prompt processing alone (llama-bench times no sampling)",
        "tg tests: output_tokens = n_gen + 1, decode_s covers the n_gen timed steps",
    ])
    for f in input_files(path, PATTERNS, TOOL):
        if path.is_dir() and not _looks_like_llama_bench(f):
            result.assumptions.append(f"skipped {f}: not llama-bench output")
            continue
        records, fmt = _records(f)
        result.files.append(str(f))
        build = _md_build(f) if fmt == "md" else None
        for i, rec in enumerate(records, 1):
            if build:
                rec = {**build, **rec}
            rows = _rows(f, rec, i, fmt, options)
            result.rows += rows
            result.versions.add(rows[0].model_dump()["tool_version"])
        if fmt == "md" and not build and not options.tool_version:
            result.assumptions.append(f"{f.name}: markdown output carries no build; version "
                                      f"{UNRECORDED} (pass --tool-version)")
    if not result.rows:
        raise DataFormatError(f"{path} holds no llama-bench results.")
    return result.finish()


def import_llama_bench(path: Path | str, out: Path | str, **options: Any) -> Path:
    """Write a sweep folder from llama-bench output; returns the measurements path."""
    opts = ImportOptions(**options)
    result = llama_bench_rows(path, opts)
    return write_import(out, result, opts)
