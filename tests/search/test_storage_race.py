"""Shared Optuna studies: --storage checked up front, and four workers started at once on
one new SQLite database all finish, the study holding all their trials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edgeprof.errors import UserInputError
from edgeprof.search._storage import check_storage_url, sqlite_file

ARGV = ["recommend", "--device", "jetson-orin-nano-8gb", "--accuracy", "synthetic-traces",
        "--budgets", "256..1024", "--max-samples", "4", "--trials", "6", "--budget", "60s",
        "--study-name", "shared", "--json"]


@pytest.mark.slow
def test_four_workers_on_one_new_sqlite_study(tmp_path: Path) -> None:
    db = tmp_path / "study.db"
    url = f"sqlite:///{db}"
    cmd = [sys.executable, "-m", "edgeprof.cli._app", *ARGV, "--storage", url]
    procs = [subprocess.Popen([*cmd, "--seed", str(i)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    results = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    asked = sum(json.loads(out)["search"]["trials_asked"] for out, _ in results)
    import optuna

    study = optuna.load_study(study_name="shared", storage=url)
    assert asked >= 4 and len(study.trials) >= asked


@pytest.mark.parametrize(("url", "message"), [
    ("bogus://x", "unknown URL scheme 'bogus'"),
    ("study.db", "unknown URL scheme '(none)'"),
    ("sqlite://x.db", "three slashes"),
    ("sqlite:////nonexistent-edgeprof-dir/x.db", "folder /nonexistent-edgeprof-dir does not"),
])
def test_bad_storage_urls_are_one_line(url: str, message: str) -> None:
    with pytest.raises(UserInputError, match="--storage") as info:
        check_storage_url(url)
    assert message in str(info.value)


def test_good_storage_urls(tmp_path: Path) -> None:
    assert check_storage_url(f"sqlite:///{tmp_path}/s.db")
    assert check_storage_url("sqlite:///:memory:")
    assert sqlite_file(f"sqlite:///{tmp_path}/s.db") == tmp_path / "s.db"
    assert sqlite_file("postgresql://u@h/db") is None
