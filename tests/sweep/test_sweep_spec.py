"""Sweep spec parsing, flag/file merging and bad input through the CLI (exit 2, one line)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from edgeprof.errors import UnknownModelError, UnknownQuantError, UserInputError
from edgeprof.sweep import all_points, build_spec, read_spec_file

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sweep"


@pytest.fixture(autouse=True)
def _sleep_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("EDGEPROF_ENGINE_PLUGINS", "sleep=sweep_engines:SleepEngine")
    monkeypatch.setenv("EDGEPROF_POWER_SOURCE", "none")


def test_axes_accept_lists_and_ranges() -> None:
    spec = build_spec(models="qwen2.5-0.5b-scaled-2L", quants="FP32,w8a8", inputs="128:512:128",
                      outputs="16..64", batches="1,4")
    assert spec.quants == ["fp32", "int8"]
    assert spec.inputs == [128, 256, 384, 512]
    assert spec.outputs == [16, 32, 64]
    assert spec.n_points == 1 * 2 * 4 * 3 * 2 * 3


def test_loop_order_loads_each_model_quant_once() -> None:
    spec = build_spec(models="qwen2.5-0.5b-scaled-2L,llama-3.2-1b-scaled-1L",
                      quants="fp32,int8", inputs="16,32", batches="1,2", repeats=2)
    pts = all_points(spec)
    pairs = [(p.model, p.quant) for p in pts]
    # each (model, quant) forms one contiguous run of points
    runs = [pairs[0]] + [b for a, b in itertools.pairwise(pairs) if a != b]
    assert len(runs) == len(set(runs)) == 4
    assert runs[0][0] == runs[1][0]  # model outermost, then quant
    assert [p.repeat for p in pts[:2]] == [0, 1]


def test_flags_override_the_file(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("models: [qwen2.5-0.5b-scaled-2L]\nquants: fp32,int8\ninputs: [64]\n"
                 "repeats: 5\ncooldown: 2s\ntimeout-per-point: 10min\n")
    spec = build_spec(read_spec_file(f), repeats=2, quants=None)
    assert spec.repeats == 2 and spec.quants == ["fp32", "int8"] and spec.inputs == [64]
    assert spec.cooldown_s == 2.0 and spec.timeout_per_point_s == 600.0


@pytest.mark.parametrize(("kwargs", "exc"), [
    ({"models": "gpt-17"}, UnknownModelError),
    ({"models": "qwen2.5-0.5b", "quants": "int3"}, UnknownQuantError),
    ({"models": "qwen2.5-0.5b", "inputs": "-5"}, UserInputError),
    ({"models": "qwen2.5-0.5b", "repeats": 0}, UserInputError),
    ({"quants": "fp32"}, UserInputError),
])
def test_bad_spec_values(kwargs: dict, exc: type) -> None:
    with pytest.raises(exc):
        build_spec(**kwargs)


def _one_line_error(code: int, err: str) -> None:
    assert code == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert "Traceback" not in err


BASE = ["sweep", "--engine", "sleep", "--inputs", "16", "--outputs", "2", "--repeats", "1",
        "--idle-baseline", "0"]


@pytest.mark.parametrize(("extra", "needle"), [
    (["--models", "no-such-model"], "edgeprof models"),
    (["--models", "qwen2.5-0.5b-scaled-2L", "--quants", "int3"], "int3"),
    (["--models", "qwen2.5-0.5b-scaled-2L", "--outputs", "-4"], "--outputs"),
    (["--models", "qwen2.5-0.5b-scaled-2L", "--engine", "nope"], "Unknown engine"),
    (["--models", "qwen2.5-0.5b-scaled-2L", "--device", "cuda:7"], "cuda:7"),
])
def test_cli_bad_input_is_one_line_exit_2(run_cli, tmp_path: Path, extra: list[str],
                                          needle: str) -> None:
    code, _, err = run_cli(*BASE, *extra, "--out", str(tmp_path / "o"))
    _one_line_error(code, err)
    assert needle in err


def test_cli_malformed_spec(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [qwen2.5-0.5b\n  quants: : :\n")
    code, _, err = run_cli("sweep", "--spec", str(bad), "--out", str(tmp_path / "o"))
    _one_line_error(code, err)
    assert "not valid YAML" in err
    bad.write_text("models: [qwen2.5-0.5b-scaled-2L]\nqaunts: [fp32]\n")
    code, _, err = run_cli("sweep", "--spec", str(bad), "--out", str(tmp_path / "o"))
    _one_line_error(code, err)
    assert "qaunts" in err
    code, _, err = run_cli("sweep", "--spec", str(tmp_path / "missing.yaml"))
    _one_line_error(code, err)


def test_cli_out_under_a_file(run_cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run_cli(*BASE, "--models", "qwen2.5-0.5b-scaled-2L",
                           "--out", str(blocker / "run"))
    _one_line_error(code, err)
    assert "--out" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_cli_unwritable_out(run_cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = run_cli(*BASE, "--models", "qwen2.5-0.5b-scaled-2L",
                               "--out", str(locked / "run"))
    finally:
        locked.chmod(0o700)
    _one_line_error(code, err)
    assert "--out" in err


def test_cli_dry_run_lists_points(run_cli, tmp_path: Path) -> None:
    import json

    code, out, _ = run_cli("sweep", "--models", "qwen2.5-0.5b-scaled-2L", "--quants", "fp32,int4",
                           "--inputs", "16,32", "--outputs", "4", "--repeats", "2", "--dry-run",
                           "--json")
    assert code == 0
    data = json.loads(out)
    assert data["rows"] == 8 and len(data["points"]) == 8
    assert not (tmp_path / "o").exists()
