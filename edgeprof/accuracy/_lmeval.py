"""Per-sample logs of lm-evaluation-harness (``lm_eval ... --log_samples``).

Accepted: ``samples_<task>_<timestamp>.jsonl`` files (0.4.x), one JSON object per document
and filter, with ``doc_id``, ``resps`` (``[[text, ...]]``: one request, its repeats),
``filtered_resps``, ``target``, ``filter`` and the metric values as top-level keys named in
``metrics`` (e.g. ``"exact_match": 1.0``). A folder of such files is read as repeated runs:
each file adds one sample per document (run lm_eval several times with different seeds).

What the file does not hold, and how edgeprof fills it in:

* model and quant: given by the caller (``--model``, ``--quant``).
* correctness per sample: the metric value (``--metric``, default: the first of ``metrics``,
  else ``exact_match`` / ``acc``) when a document has one repeat; with several repeats the
  filtered answer of each repeat is compared with ``target`` (exact string match, stripped).
* the extracted answer (for voting): ``filtered_resps`` of the chosen ``--filter``.
* output tokens: ``--tokens-field NAME`` (a top-level or ``doc`` key with an int, or a list
  of ints per repeat); otherwise an ESTIMATE of ceil(characters / 4) of the raw response —
  a tokenizer-free rule of thumb for English BPE vocabularies, labeled as estimated.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from edgeprof.accuracy._traces import Sample, parse_bool, parse_tokens, read_jsonl
from edgeprof.errors import DataFormatError, UserInputError

CHARS_PER_TOKEN = 4.0
_NAME = re.compile(r"^samples_(?P<task>.+?)_(?P<stamp>\d{4}-\d{2}-\d{2}T[0-9.\-:]+)\.jsonl$")


def is_lmeval_record(obj: dict[str, Any]) -> bool:
    return "doc_id" in obj and ("resps" in obj or "filtered_resps" in obj)


def lmeval_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("samples_*.jsonl"))
        if not files:
            raise DataFormatError(f"{path} has no samples_*.jsonl files; run lm_eval with "
                                  "--log_samples, or point at a traces file.")
        return files
    return [path]


def _task(path: Path) -> str:
    match = _NAME.match(path.name)
    return match["task"] if match else path.stem


def _flat(value: Any) -> list[Any]:
    """``[[a, b]]`` or ``[a, b]`` → ``[a, b]``; a scalar → ``[scalar]``."""
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], list):
            return list(value[0])
        return list(value)
    return [value]


def read_lmeval(path: Path, *, metric: str | None, filter_name: str | None,
                tokens_field: str | None) -> tuple[list[Sample], bool]:
    """Samples from one file or folder, and whether lengths were estimated."""
    samples: list[Sample] = []
    estimated = False
    for run, file in enumerate(lmeval_files(path)):
        task = _task(file)
        rows = [(n, obj) for n, obj in read_jsonl(file)]
        filters = list(dict.fromkeys(str(obj.get("filter", "none")) for _, obj in rows))
        chosen = filter_name
        if chosen is None:
            if len(filters) > 1:
                raise UserInputError(
                    f"{file} holds filters {', '.join(filters)}; pick one with --filter.")
            chosen = filters[0] if filters else "none"
        elif chosen not in filters:
            raise UserInputError(f"--filter {chosen!r} is not in {file}; it has "
                                 f"{', '.join(filters)}.")
        for lineno, obj in rows:
            if str(obj.get("filter", "none")) != chosen:
                continue
            where = f"{file}:{lineno}"
            if not is_lmeval_record(obj):
                raise DataFormatError(f"{where}: not an lm-eval sample (needs doc_id and resps).")
            texts = [str(t) for t in _flat(obj.get("resps", []))]
            answers = _flat(obj.get("filtered_resps", []))
            repeats = max(len(texts), 1)
            tokens = _tokens(obj, tokens_field, texts, repeats, where)
            estimated = estimated or tokens_field is None
            if repeats == 1:
                correct = [_metric(obj, metric, where)]
            elif len(answers) == repeats and "target" in obj:
                target = str(obj["target"]).strip()
                correct = [str(a).strip() == target for a in answers]
            else:
                raise DataFormatError(
                    f"{where}: {repeats} repeats but {len(answers)} filtered answers; per-sample "
                    "correctness is unknown. Use a filter without majority/take_first, or "
                    "convert to edgeprof traces.")
            for r in range(repeats):
                ans = answers[r] if len(answers) == repeats else (answers[0] if answers else None)
                samples.append(Sample(
                    question=f"{task}:{obj['doc_id']}", sample=f"{run}.{r}",
                    output_tokens=tokens[r], correct=correct[r],
                    answer=None if ans is None or str(ans).strip() in ("", "[invalid]")
                    else str(ans).strip(),
                    forced_correct=None, forced_answer=None, input_tokens=None))
    if not samples:
        raise DataFormatError(f"{path} holds no lm-eval samples.")
    return samples, estimated


def _metric(obj: dict[str, Any], metric: str | None, where: str) -> bool:
    names = [metric] if metric else [*(obj.get("metrics") or []), "exact_match", "acc"]
    for name in names:
        if name in obj:
            value = obj[name]
            if isinstance(value, int | float | bool):
                return bool(float(value) >= 0.5) if not isinstance(value, bool) else value
            return parse_bool(value, where, name)
    raise DataFormatError(f"{where}: no metric {' / '.join(map(str, names))}; name the "
                          "correctness metric with --metric.")


def _tokens(obj: dict[str, Any], field: str | None, texts: list[str], repeats: int,
            where: str) -> list[int]:
    if field is None:
        return [max(1, math.ceil(len(t) / CHARS_PER_TOKEN)) for t in texts] or [0]
    value = obj.get(field, (obj.get("doc") or {}).get(field) if isinstance(obj.get("doc"), dict)
                    else None)
    if value is None:
        raise DataFormatError(f"{where}: no field {field!r} (--tokens-field); check its name.")
    values = _flat(value)
    if len(values) != repeats:
        raise DataFormatError(f"{where}: {field!r} has {len(values)} counts for {repeats} "
                              "repeats.")
    return [parse_tokens(v, where, field) for v in values]
