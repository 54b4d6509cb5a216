"""Outputs are written to a temp file, fsynced and renamed: a kill during any ``--out``
write leaves the previous file whole, and the output-path rule is the same everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from edgeprof.errors import UserInputError
from edgeprof.files import atomic_write, check_output_dir, check_output_path

ROW = {"device": "jetson-orin-nano-8gb", "engine": "torch", "model": "qwen2.5-0.5b",
       "quant": "int8", "output_tokens": 4, "batch": 1, "status": "ok", "ttft_s": 0.1,
       "decode_s": 0.2, "e2e_s": 0.3}

# A child that runs one CLI command and SIGKILLs itself inside atomic_write, after the
# temp file holds half the data and before the rename: the moment a plain write would
# have left a truncated target.
CHILD = textwrap.dedent("""
    import os, signal, sys
    import edgeprof.files as files
    real = os.replace
    def killed_replace(src, dst):
        if str(dst) == sys.argv[1]:
            with open(src, "r+b") as fh:
                fh.truncate(max(1, os.path.getsize(src) // 2))
            os.kill(os.getpid(), signal.SIGKILL)
        return real(src, dst)
    files.os.replace = killed_replace
    from edgeprof.cli._app import main
    sys.exit(main(sys.argv[2:]))
""")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("aw") / "sweep"
    d.mkdir()
    (d / "measurements.jsonl").write_text(
        "".join(json.dumps(ROW | {"input_tokens": i, "repeat": r}) + "\n"
                for i in (16, 32, 64, 128) for r in range(2)))
    return d


def _kill_during_write(target: Path, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, str(target), *argv],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_sigkill_during_each_out_write_keeps_the_previous_file(sweep: Path,
                                                               tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    rec = tmp_path / "rec.json"
    manifest = tmp_path / "m.yaml"
    rec_argv = ["recommend", "--device", "jetson-orin-nano-8gb", "--accuracy",
                "synthetic-traces", "--budgets", "256..512", "--max-samples", "2",
                "--trials", "5", "--budget", "60s", "--out", str(rec)]
    commands = [
        (profile, ["fit", str(sweep), "--device", "jetson-orin-nano-8gb", "--out",
                   str(profile)]),
        (rec, rec_argv),
        (manifest, ["export", str(rec), "--out", str(manifest), "--allow-scaled"]),
    ]
    from edgeprof.cli._app import main

    for target, argv in commands:
        assert main(argv) == 0, argv  # the good previous file
        before = target.read_bytes()
        assert before
        proc = _kill_during_write(target, argv)
        assert proc.returncode == -9, proc.stderr  # killed inside the write
        assert target.read_bytes() == before, f"{target.name} damaged by a kill"
        assert not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}")
                    and p.suffix != ".tmp"]


def test_atomic_write_failure_keeps_old_file_and_cleans_up(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        atomic_write(target, "new" * 1000)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    monkeypatch.undo()
    atomic_write(target, "new")
    assert target.read_text() == "new"


def test_output_path_rule(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "p.yaml"
    assert check_output_path(deep) == deep and deep.parent.is_dir()  # parent created
    with pytest.raises(UserInputError, match="is a folder"):
        check_output_path(tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserInputError, match="not a folder"):
        check_output_path(tmp_path / "f" / "p.yaml")
    with pytest.raises(UserInputError, match="is a file"):
        check_output_dir(tmp_path / "f", "--plots")
    assert check_output_dir(tmp_path / "figs", "--plots").is_dir()


def test_fit_out_into_a_new_folder_is_created(run_cli, sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "p.yaml"
    code, _, err = run_cli("fit", str(sweep), "--device", "jetson-orin-nano-8gb",
                           "--out", str(out))
    assert code == 0, err
    assert out.is_file()
