"""The recommendation file is typed: provenance an enum, the problem and what the answer
rests on models, a version the loader checks, and one set of winner rows for CLI and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from edgeprof.errors import DataFormatError
from edgeprof.estimates import Estimate, Provenance
from edgeprof.search._present import winner_rows
from edgeprof.search._result import (
    SCHEMA_VERSION,
    Recommendation,
    RecProblem,
    load_recommendation,
)

ARGS = ("recommend", "--device", "jetson-agx-thor", "--budget", "5s", "--accuracy",
        "synthetic-traces", "--models", "qwen2.5-0.5b-scaled-4L", "--budgets", "128,256",
        "--max-samples", "2", "--trials", "4")


@pytest.fixture(scope="module")
def rec_json(tmp_path_factory) -> Path:
    from edgeprof.cli._app import main

    path = tmp_path_factory.mktemp("rec") / "rec.json"
    assert main([*ARGS, "--out", str(path)]) == 0
    return path


def test_estimate_provenance_is_the_enum() -> None:
    e = Estimate(value=1.0, lo=0.5, hi=2.0, provenance="predicted:measured-fit")
    assert e.provenance is Provenance.FITTED
    assert json.loads(e.model_dump_json())["provenance"] == "predicted:measured-fit"
    with pytest.raises(ValidationError):
        Estimate(value=1.0, lo=1.0, hi=1.0, provenance="from memory")


def test_report_legend_lists_every_provenance() -> None:
    from edgeprof.report._html import PROVENANCES

    assert set(map(str, Provenance)) <= set(PROVENANCES)


def test_problem_and_provenance_are_models(rec_json: Path) -> None:
    rec = load_recommendation(rec_json)
    assert isinstance(rec.problem, RecProblem)
    assert rec.problem.device == "jetson-agx-thor" and rec.problem.slo_s == 5.0
    assert rec.problem.pct_label == "p95"
    assert rec.problem.axes["budgets"] == [128, 256]
    assert rec.provenance.device == "jetson-agx-thor"
    assert rec.provenance.accuracy_kind is not None
    assert rec.provenance.concurrency == 1
    # the caller's notes are in the result, not patched in afterwards
    assert any("memory limit" in n for n in rec.notes)
    assert any(n.startswith("latency predicted for engine") for n in rec.notes)
    for key, src in rec.provenance.sources.items():
        assert "/" in key and Provenance(src.latency)


def test_problem_labels_follow_the_percentile() -> None:
    pr = RecProblem(slo_s=2.0, input_tokens=64, memory_limit_bytes=2**30, percentile=99.0,
                    confidence=0.0, device="x", space_size=3)
    assert pr.pct_label == "p99" and pr.bound_label == "point"
    assert "SLO 2 s at p99" in pr.describe() and "3 configurations on x" in pr.describe()
    assert RecProblem(slo_s=1, input_tokens=1, memory_limit_bytes=1,
                      confidence=0.9).bound_label == "90% upper bound"


def test_recommendation_problem_keeps_every_field_of_the_problem() -> None:
    """The file's copy of the question is a separate (pydantic) class: a field added to the
    search's Problem must appear there with the same default, or it is dropped on write."""
    import dataclasses

    from edgeprof.search._problem import Problem

    for f in dataclasses.fields(Problem):
        assert f.name in RecProblem.model_fields, f.name
        if f.default is not dataclasses.MISSING:
            assert RecProblem.model_fields[f.name].default == f.default, f.name


def test_newer_schema_version_is_refused(rec_json: Path, tmp_path: Path) -> None:
    data = json.loads(rec_json.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    data["schema_version"] = SCHEMA_VERSION + 1
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match="upgrade edgeprof"):
        load_recommendation(newer)
    data["schema_version"] = "one"
    newer.write_text(json.dumps(data))
    with pytest.raises(DataFormatError, match="'schema_version' must be an integer"):
        load_recommendation(newer)
    del data["schema_version"]  # files without one are version 1
    newer.write_text(json.dumps(data))
    assert load_recommendation(newer).schema_version == 1


def test_cli_and_report_show_the_same_winner_rows(rec_json: Path, run_cli) -> None:
    from edgeprof.report._pareto import _winner

    rec = Recommendation.model_validate_json(rec_json.read_text())
    assert rec.winner is not None
    rows = winner_rows(rec.winner, rec.problem)
    labels = [r.label for r in rows]
    assert labels[0] == "configuration" and "SYNTHETIC" in labels
    assert any(lab.startswith("checked at") for lab in labels)
    html = _winner(rec.winner, rec.problem)
    code, table, _ = run_cli(*ARGS)
    assert code == 0
    for row in rows:
        assert row.label.split(" (")[0] in html
        assert row.label.split(" (")[0] in table
        if row.estimate is not None:
            value = row.numbers().split(" [")[0]
            assert value in html and value in table
