"""A sweep killed with SIGKILL midway resumes and every point appears exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgeprof.table import read_measurements

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sweep"
ARGS = ["sweep", "--engine", "sleep", "--models", "qwen2.5-0.5b-scaled-2L",
        "--quants", "fp32,int8", "--inputs", "16,32,64", "--outputs", "8,16", "--batches", "1,2",
        "--repeats", "3", "--warmup", "1", "--idle-baseline", "0", "--json"]
TOTAL = 2 * 3 * 2 * 2 * 3


def _env(log: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(FIXTURES), env.get("PYTHONPATH", "")])
    env["EDGEPROF_ENGINE_PLUGINS"] = "sleep=sweep_engines:SleepEngine"
    env["EDGEPROF_POWER_SOURCE"] = "none"
    env["SLEEP_ENGINE_LOG"] = str(log)
    return env


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.slow
def test_sigkill_midway_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    table = out / "measurements.jsonl"
    cmd = [sys.executable, "-m", "edgeprof.cli._app", *ARGS, "--out", str(out)]
    env = _env(tmp_path / "calls.log")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _lines(table) < TOTAL // 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _lines(table)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < killed_at < TOTAL, "the sweep should have been killed midway"

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["total_rows"] == TOTAL
    assert summary["already_measured"] >= killed_at - 1  # at most a torn line lost
    rows = read_measurements(out)
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys)) == TOTAL
    # the point running at the kill (and its shape's later repeats) is `killed`, not re-run
    killed = {(r.quant, r.input_tokens, r.output_tokens, r.batch) for r in rows
              if r.status == "killed"}
    assert len(killed) <= 1 and all(r.ok or r.status == "killed" for r in rows)
    # the rerun loaded only the model × quant groups that still had missing points
    loads = [line for line in (tmp_path / "calls.log").read_text().splitlines()
             if line.startswith("load")]
    assert len(loads) <= 4
