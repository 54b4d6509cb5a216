"""A point whose process dies (SIGKILL, OOM killer) leaves a ``killed`` row on resume, is not
re-run unless ``--retry-killed``, and the sweep finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeprof.sweep._store import SweepStore, death_cause
from edgeprof.table import read_measurements

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sweep"
ARGS = ["sweep", "--engine", "kill", "--models", "qwen2.5-0.5b-scaled-2L", "--quants", "fp32",
        "--inputs", "16,32,64", "--outputs", "4", "--batches", "1", "--repeats", "2",
        "--warmup", "0", "--idle-baseline", "0", "--json"]
TOTAL = 3 * 2


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    events = tmp_path / "memory.events"
    if not events.exists():
        events.write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(FIXTURES), env.get("PYTHONPATH", "")])
    env["EDGEPROF_ENGINE_PLUGINS"] = "kill=kill_engine:KillEngine"
    env["EDGEPROF_POWER_SOURCE"] = "none"
    env["EDGEPROF_MEMORY_EVENTS"] = str(events)
    env.update(extra)
    return env


def _sweep(out: Path, env: dict[str, str], *more: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "edgeprof.cli._app", *ARGS, *more, "--out", str(out)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.slow
def test_oom_killed_point_gets_a_killed_row_and_is_not_rerun(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    env = _env(tmp_path, KILL_AT_INPUT="32", KILL_AS_OOM="1")
    first = _sweep(out, env)
    assert first.returncode == -9  # died in in=32 r0, before writing its row
    assert (out / ".in-progress.json").exists()
    assert [r.input_tokens for r in read_measurements(out)] == [16, 16]

    second = _sweep(out, env)  # same command: the point that killed it is not run again
    assert second.returncode == 0, second.stderr
    rows = read_measurements(out)
    assert len({r.key for r in rows}) == len(rows) == TOTAL
    killed = [r for r in rows if r.status == "killed"]
    assert [(r.input_tokens, r.repeat) for r in killed] == [(32, 0), (32, 1)]
    assert all("OOM killer" in (r.error or "") and "oom_kill 0 -> 1" in (r.error or "")
               for r in killed)
    assert {r.input_tokens for r in rows if r.ok} == {16, 64}
    assert not (out / ".in-progress.json").exists()
    assert json.loads(second.stdout)["total_rows"] == TOTAL

    again = _sweep(out, env, "--retry-killed")  # asked: retried, and killed again
    assert again.returncode == -9
    healed = _sweep(out, _env(tmp_path), "--retry-killed")  # the cause is gone
    assert healed.returncode == 0, healed.stderr
    rows = read_measurements(out)
    assert len(rows) == TOTAL and all(r.ok for r in rows)


def test_a_plain_sigkill_is_recorded_with_an_unknown_cause(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    env = _env(tmp_path, KILL_AT_INPUT="64")
    assert _sweep(out, env).returncode == -9
    assert _sweep(out, env).returncode == 0
    killed = [r for r in read_measurements(out) if r.status == "killed"]
    assert [(r.input_tokens, r.repeat) for r in killed] == [(64, 0), (64, 1)]
    assert all("cause unknown" in (r.error or "") for r in killed)


def test_marker_of_a_finished_point_or_a_torn_marker_writes_nothing(tmp_path: Path) -> None:
    store = SweepStore(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".in-progress.json").write_text('{"what": "point", "rows": [')  # torn
    assert store.recover_killed() == 0
    assert not (tmp_path / ".in-progress.json").exists()


def test_death_cause_reads_the_oom_counter(tmp_path: Path, monkeypatch) -> None:
    events = tmp_path / "memory.events"
    events.write_text("oom 3\noom_kill 5\n")
    monkeypatch.setenv("EDGEPROF_MEMORY_EVENTS", str(events))
    assert "oom_kill 4 -> 5" in death_cause(0, 4)
    assert death_cause(0, 5).startswith("cause unknown")
    assert death_cause(0, None).startswith("cause unknown")
