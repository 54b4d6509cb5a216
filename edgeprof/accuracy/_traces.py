"""Per-sample evaluation traces: the records and their arrays for one (model, quant).

Traces JSONL, one JSON object per line::

    {"question_id": "q17", "model": "deepseek-r1-distill-qwen-1.5b", "quant": "bf16",
     "sample": 3, "output_tokens": 1874, "correct": true,
     "answer": "42", "forced_answer_correct": false, "input_tokens": 212}

``answer`` (extracted final answer, for voting), ``forced_answer_correct`` (is the answer
forced out of a sample cut off at the budget correct?), ``forced_answer`` and
``input_tokens`` are optional; other fields are kept out of the way (``provenance`` may say
``synthetic``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.errors import DataFormatError

REQUIRED = ("question_id", "model", "quant", "sample", "output_tokens", "correct")

#: Class codes used by the vote: 0 is the correct answer, -1 an abstention, > 0 a wrong answer.
CORRECT, ABSTAIN = 0, -1
_UNIQUE_BASE = 1 << 32  # codes for "a wrong answer nobody else gave"


@dataclass
class Sample:
    """One parsed record (internal; validated)."""

    question: str
    sample: str
    output_tokens: int
    correct: bool
    answer: str | None
    forced_correct: bool | None
    forced_answer: str | None
    input_tokens: int | None


@dataclass
class TraceSet:
    """All samples of one (model, quant), flattened; question ``q`` owns
    ``offsets[q]:offsets[q+1]``."""

    questions: list[str]
    offsets: np.ndarray
    lengths: np.ndarray
    correct: np.ndarray
    answer: np.ndarray  # wrong-answer code (>0), 0 if correct, -2 if no answer given
    forced: np.ndarray  # 1 / 0 forced answer correct, -1 unknown
    forced_answer: np.ndarray  # wrong forced-answer code (>0), -2 if not given
    has_answers: bool
    input_tokens: list[int] = field(default_factory=list)
    lengths_estimated: bool = False

    @property
    def samples_per_question(self) -> np.ndarray:
        return np.diff(self.offsets)

    def classes(self, budget: int, semantics: str, missing_answers: str) -> np.ndarray:
        """Vote class of every sample under a token budget (see module :mod:`._vote`)."""
        n = self.lengths.size
        unique = _UNIQUE_BASE + np.arange(n, dtype=np.int64)
        wrong_code = np.where(self.answer > 0, self.answer,
                              ABSTAIN if self.has_answers else
                              (unique if missing_answers == "distinct" else 1))
        full = np.where(self.correct, CORRECT, wrong_code)
        within = self.lengths <= budget
        if semantics == "truncate-wrong":
            cut = np.full(n, ABSTAIN, dtype=np.int64)
        else:
            forced_wrong = np.where(self.forced_answer > 0, self.forced_answer,
                                    unique if missing_answers == "distinct" or self.has_answers
                                    else 1)
            cut = np.where(self.forced == 1, CORRECT, forced_wrong)
        return np.where(within, full, cut).astype(np.int64)


def parse_bool(value: Any, where: str, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes",
                                                            "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise DataFormatError(f"{where}: {name} must be true/false or 1/0; got {value!r}.")


def parse_tokens(value: Any, where: str, name: str = "output_tokens") -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataFormatError(f"{where}: {name} must be a whole number; got {value!r}.") from None
    if not math.isfinite(number) or number != int(number) or number < 0:
        raise DataFormatError(
            f"{where}: {name} must be a whole number ≥ 0; got {value!r}. Fix the record.")
    return int(number)


def read_jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-empty line; a clear error for broken JSON."""
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
                why = getattr(exc, "msg", None) or str(exc)[:80]
                msg = f"{path}:{lineno} is not valid JSON ({why}); one object per line."
                raise DataFormatError(msg) from None
            if not isinstance(obj, dict):
                raise DataFormatError(f"{path}:{lineno} must be a JSON object, one per line.")
            yield lineno, obj


def parse_trace_record(obj: dict[str, Any], where: str) -> tuple[str, str, Sample]:
    """(raw model, quant, sample) from one traces record."""
    missing = [k for k in REQUIRED if k not in obj or obj[k] is None]
    if missing:
        raise DataFormatError(
            f"{where}: missing {', '.join(missing)}; every traces record needs "
            f"{', '.join(REQUIRED)}.")
    answer = obj.get("answer")
    forced = obj.get("forced_answer_correct")
    forced_answer = obj.get("forced_answer")
    inp = obj.get("input_tokens")
    sample = Sample(
        question=str(obj["question_id"]),
        sample=str(obj["sample"]),
        output_tokens=parse_tokens(obj["output_tokens"], where),
        correct=parse_bool(obj["correct"], where, "correct"),
        answer=None if answer is None or str(answer).strip() == "" else str(answer).strip(),
        forced_correct=None if forced is None else parse_bool(forced, where,
                                                              "forced_answer_correct"),
        forced_answer=None if forced_answer is None or str(forced_answer).strip() == ""
        else str(forced_answer).strip(),
        input_tokens=None if inp is None else parse_tokens(inp, where, "input_tokens"),
    )
    return str(obj["model"]), str(obj["quant"]), sample


def build_trace_set(samples: list[Sample], label: str, has_answer_field: bool,
                    lengths_estimated: bool = False) -> TraceSet:
    """Group samples by question, check duplicates, and code the answers."""
    by_question: dict[str, list[Sample]] = {}
    for s in samples:
        by_question.setdefault(s.question, []).append(s)
    questions = sorted(by_question)
    offsets = [0]
    lengths: list[int] = []
    correct: list[bool] = []
    answer: list[int] = []
    forced: list[int] = []
    forced_answer: list[int] = []
    inputs: list[int] = []
    for q in questions:
        group = by_question[q]
        seen: set[str] = set()
        codes: dict[str, int] = {}
        for s in group:
            if s.sample in seen:
                raise DataFormatError(
                    f"{label}: question {q!r} has sample {s.sample!r} twice; give each sample "
                    f"of a question its own 'sample' number.")
            seen.add(s.sample)
            lengths.append(s.output_tokens)
            correct.append(s.correct)
            answer.append(0 if s.correct else
                          (codes.setdefault(s.answer, len(codes) + 1) if s.answer else -2))
            forced.append(-1 if s.forced_correct is None else int(s.forced_correct))
            forced_answer.append(codes.setdefault(s.forced_answer, len(codes) + 1)
                                 if s.forced_answer else -2)
            if s.input_tokens is not None:
                inputs.append(s.input_tokens)
        offsets.append(len(lengths))
    return TraceSet(
        questions=questions,
        offsets=np.array(offsets, dtype=np.int64),
        lengths=np.array(lengths, dtype=np.int64),
        correct=np.array(correct, dtype=bool),
        answer=np.array(answer, dtype=np.int64),
        forced=np.array(forced, dtype=np.int8),
        forced_answer=np.array(forced_answer, dtype=np.int64),
        has_answers=has_answer_field,
        input_tokens=inputs,
        lengths_estimated=lengths_estimated,
    )


def read_traces(path: Path) -> tuple[dict[tuple[str, str], list[Sample]], set[tuple[str, str]],
                                     set[str]]:
    """Samples per (raw model, quant), the pairs that carry an ``answer`` field, and the
    provenance labels found."""
    groups: dict[tuple[str, str], list[Sample]] = {}
    with_answers: set[tuple[str, str]] = set()
    labels: set[str] = set()
    for lineno, obj in read_jsonl(path):
        model, quant, sample = parse_trace_record(obj, f"{path}:{lineno}")
        key = (model, quant.strip().lower())
        groups.setdefault(key, []).append(sample)
        if "answer" in obj:
            with_answers.add(key)
        if obj.get("provenance"):
            labels.add(str(obj["provenance"]))
    if not groups:
        raise DataFormatError(f"{path} holds no traces; expected one JSON object per line.")
    return groups, with_answers, labels
