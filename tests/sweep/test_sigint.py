"""Ctrl-C prints one line and exits 130: finished rows are kept, nothing reports success."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep_kill import _env, _lines

from edgeprof.cli._app import INTERRUPTED
from edgeprof.table import read_measurements

ARGS = ["sweep", "--engine", "sleep", "--models", "qwen2.5-0.5b-scaled-2L", "--quants", "fp32",
        "--inputs", "16,32,64", "--outputs", "8", "--repeats", "3", "--warmup", "0",
        "--idle-baseline", "0", "--cooldown", "300ms"]


@pytest.mark.slow
def test_sigint_during_a_sweep_exits_130_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "edgeprof.cli._app", *ARGS, "--out", str(out)]
    proc = subprocess.Popen(cmd, env=_env(tmp_path / "calls.log"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _lines(out / "measurements.jsonl") < 2 and time.monotonic() < deadline \
            and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == INTERRUPTED and lines.count(INTERRUPTED) == 1, err
    rows = read_measurements(out)
    assert 2 <= len(rows) < 9 and len({r.key for r in rows}) == len(rows)


def test_typer_130_is_not_dropped(capsys) -> None:
    """typer turns KeyboardInterrupt into a returned 130; main() must pass it on."""
    import edgeprof.cli._app as cli

    @cli.app.command("zz-interrupt", hidden=True)
    def _zz() -> None:
        raise KeyboardInterrupt

    code = cli.main(["zz-interrupt"])
    err = capsys.readouterr().err
    assert code == 130
    assert [line for line in err.splitlines() if line.strip()] == [INTERRUPTED]


def test_ctrl_c_during_start_up(monkeypatch, capsys) -> None:
    import edgeprof.cli._app as cli

    def boom() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_register_all", boom)
    assert cli.main(["models"]) == 130
    assert capsys.readouterr().err.strip() == INTERRUPTED
