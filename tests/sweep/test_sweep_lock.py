"""One writer per sweep folder: a second concurrent sweep is refused in one line naming the
running one, and the first finishes with exactly one row per point and repeat."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep_kill import _env, _lines

from edgeprof.table import read_measurements

ARGS = ["sweep", "--engine", "sleep", "--models", "qwen2.5-0.5b-scaled-2L", "--quants", "fp32",
        "--inputs", "16,32,64", "--outputs", "8,16", "--batches", "1", "--repeats", "2",
        "--warmup", "0", "--idle-baseline", "0", "--cooldown", "4s"]
TOTAL = 3 * 2 * 2  # 6 shapes, 4 s apart: the first sweep runs ~20 s after its first row


@pytest.mark.slow
def test_second_sweep_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "edgeprof.cli._app", *ARGS, "--out", str(out)]
    env = _env(tmp_path / "calls.log")
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 120
    while _lines(out / "measurements.jsonl") < 1 and time.monotonic() < deadline \
            and first.poll() is None:
        time.sleep(0.02)
    assert first.poll() is None, "the first sweep ended before the second could start"
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2, second.stderr
    errors = [line for line in second.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "in use by another sweep" in errors[0], second.stderr
    assert f"pid {first.pid}" in errors[0] and "started" in errors[0]
    assert "Traceback" not in second.stderr
    _, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    keys = [r.key for r in read_measurements(out)]
    assert len(keys) == len(set(keys)) == TOTAL


def test_lock_is_reentrant_in_one_process_and_named(tmp_path: Path) -> None:
    from edgeprof.files import LOCK_FILE, lock_folder

    lock_folder(tmp_path, "sweep")
    lock_folder(tmp_path, "sweep")  # the same process may reopen its own folder
    text = (tmp_path / LOCK_FILE).read_text()
    import os

    assert text.startswith(f"pid {os.getpid()}, started ")
    child = subprocess.run([sys.executable, "-c", "import sys; from edgeprof.files import "
                            "lock_folder; lock_folder(sys.argv[1], 'sweep')", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode != 0 and f"pid {os.getpid()}" in child.stderr
