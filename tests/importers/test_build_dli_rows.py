"""scripts/build_dli_rows.py: the held-out DLI rows in benchmarks/data are what it makes of
the course file (checked on a verbatim excerpt), and the rows it must drop are dropped."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXCERPT = ROOT / "tests" / "fixtures" / "importers" / "dli_trt_llm_0_9_0_excerpt.csv"
#: The excerpt's line k (1 = header) is the course file's line ORIGINAL[k - 1].
ORIGINAL = (1, 3, 7, 9, 44, 48, 50, 56, 178)
SHIPPED = {"batched": "datacenter-batched.csv", "unseen-cards": "datacenter-unseen-cards.csv"}


def _builder():
    spec = importlib.util.spec_from_file_location("build_dli_rows",
                                                  ROOT / "scripts" / "build_dli_rows.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _line(source: str) -> int:
    return int(re.search(r"line (\d+)$", source).group(1))


@pytest.mark.parametrize(("which", "lines"), [("batched", {44, 48}), ("unseen-cards", {56})])
def test_the_shipped_rows_are_what_the_script_makes_of_the_course_file(which: str,
                                                                        lines: set[int]) -> None:
    made = list(_builder().rows(EXCERPT, which))
    for row in made:  # the excerpt's line numbers, as the course file's
        row[11] = re.sub(r"line \d+$", f"line {ORIGINAL[_line(row[11]) - 1]}", row[11])
    assert {_line(r[11]) for r in made} == lines  # GH200, TP 2, H100 Mixed, no latency: out
    assert len(made) == 3 * len(lines)  # TTFT, TPOT, latency of each
    with (ROOT / "benchmarks" / "data" / SHIPPED[which]).open(newline="") as f:
        shipped = [r for r in csv.reader(f) if r[0] != "board" and _line(r[11]) in lines]
    assert sorted(made) == sorted(shipped)


def test_a_wrong_call_is_one_usage_line_and_exit_2(capsys) -> None:
    assert _builder().main([str(EXCERPT), "everything"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
