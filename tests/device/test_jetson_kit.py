"""Every script in jetson/ run against fake nvpmodel / jetson_clocks / tegrastats on PATH."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "jetson"
FAKES = Path(__file__).parents[1] / "fixtures" / "jetson_kit"
BOARD_ETC = Path(__file__).parents[1] / "fixtures" / "boards" / "agx-orin-64gb-devkit" / "etc"
VENV_BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(PATH=f"{FAKES}:{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               FAKE_STATE=str(state), EDGEPROF_ETC_ROOT=str(BOARD_ETC))
    env.update(extra)
    return env


def _run(script: str, *args: str, env: dict[str, str],
         timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(KIT / script), *args], env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def _calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "state" / "calls"
    return path.read_text().splitlines() if path.exists() else []


def test_set_power_mode_lists_sets_by_name_and_refuses_unknown(tmp_path: Path) -> None:
    env = _env(tmp_path)
    listed = _run("set_power_mode.sh", "--list", env=env)
    assert listed.returncode == 0
    assert listed.stdout.split("\n")[:2] == ["0 MAXN", "1 MODE_15W"]
    done = _run("set_power_mode.sh", "15W", env=env)  # MODE_ prefix optional
    assert done.returncode == 0, done.stderr
    assert "nvpmodel -m 1" in _calls(tmp_path)
    assert done.stdout.startswith("NV Power Mode: MODE_15W")
    assert (tmp_path / "state" / "mode").read_text().strip() == "1"
    bad = _run("set_power_mode.sh", "99W", env=env)
    assert bad.returncode == 2 and "unknown power mode '99W'" in bad.stderr


def test_set_power_mode_stops_on_reboot_and_without_root(tmp_path: Path) -> None:
    reboot = _run("set_power_mode.sh", "MODE_30W", env=_env(tmp_path, FAKE_REBOOT_IDS="2"))
    assert reboot.returncode == 4 and "needs a reboot" in reboot.stderr
    assert not (tmp_path / "state" / "mode").exists()  # the fake was answered "no"
    user = _run("set_power_mode.sh", "MAXN", env=_env(tmp_path, FAKE_UID="1000"))
    assert user.returncode == 2 and "needs root" in user.stderr


def test_lock_clocks_stores_locks_restores_and_shows(tmp_path: Path) -> None:
    env = _env(tmp_path)
    saved = tmp_path / "clocks.conf"
    assert _run("lock_clocks.sh", "lock", str(saved), env=env).returncode == 0
    assert saved.exists()
    assert _run("lock_clocks.sh", "restore", str(saved), env=env).returncode == 0
    shown = _run("lock_clocks.sh", "show", env=env)
    assert shown.returncode == 0 and "GPU MinFreq" in shown.stdout
    assert _calls(tmp_path) == [f"jetson_clocks --store {saved}", "jetson_clocks",
                                f"jetson_clocks --restore {saved}", "jetson_clocks --show"]
    missing = _run("lock_clocks.sh", "restore", str(tmp_path / "none"), env=env)
    assert missing.returncode == 2 and "no stored clock state" in missing.stderr
    assert _run("lock_clocks.sh", "spin", env=env).returncode == 2
    user = _run("lock_clocks.sh", "lock", env=_env(tmp_path, FAKE_UID="1000"))
    assert user.returncode == 2 and "needs root" in user.stderr


def test_pack_results_bundles_the_sweep_and_the_board_state(tmp_path: Path) -> None:
    sweep = tmp_path / "runs" / "orin"
    sweep.mkdir(parents=True)
    (sweep / "measurements.jsonl").write_text("{}\n")
    archive = tmp_path / "out.tar.gz"
    done = _run("pack_results.sh", str(sweep), str(archive), env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert {"orin/measurements.jsonl", "board/devices.json", "board/nvpmodel-q.txt",
                "board/tegrastats.txt", "board/jetson_clocks-show.txt"} <= names
        member = tar.extractfile("board/nvpmodel-q.txt")
        assert member is not None and b"NV Power Mode: MAXN" in member.read()
        tegra = tar.extractfile("board/tegrastats.txt")
        assert tegra is not None and b"VDD_GPU_SOC" in tegra.read()
    assert _run("pack_results.sh", str(tmp_path / "nope"), env=_env(tmp_path)).returncode == 2


def test_run_sweep_passes_options_the_cli_accepts(tmp_path: Path, run_cli) -> None:
    """With a recording `edgeprof` first on PATH: every call's options parse in the real CLI."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    log = tmp_path / "edgeprof.args"
    (fake_bin / "edgeprof").write_text(
        f'#!/usr/bin/env bash\nprintf "%q " "$@" >>{shlex.quote(str(log))}\necho >>{log}\n'
        'if [[ $1 == devices ]]; then echo "[]"; fi\n')
    (fake_bin / "edgeprof").chmod(0o755)
    env = _env(tmp_path)
    env["PATH"] = f"{fake_bin}:{env['PATH']}"
    out = tmp_path / "run"
    done = _run("run_sweep.sh", str(out), "qwen2.5-0.5b-scaled-1L", "fp32,int8",
                env=env | {"DEVICE": "cpu", "FIT_DEVICE": "jetson-agx-orin-64gb"})
    assert done.returncode == 0, done.stderr
    calls = [shlex.split(line) for line in log.read_text().splitlines()]
    assert [c[0] for c in calls] == ["devices", "sweep", "fit"]
    sweep = calls[1]
    assert sweep[sweep.index("--power-modes") + 1] == "MAXN,15W,30W,50W"
    code, _, err = run_cli(*sweep, "--dry-run")  # the real parser: no "No such option"
    assert code == 0, err
    fit = calls[2]
    assert fit[1:4] == [str(out), "--out", str(out / "profile.yaml")]
    assert fit[fit.index("--device") + 1] == "jetson-agx-orin-64gb"


def test_run_sweep_without_nvpmodel_conf_says_so(tmp_path: Path) -> None:
    env = _env(tmp_path, EDGEPROF_ETC_ROOT=str(tmp_path / "no-etc"))
    done = _run("run_sweep.sh", str(tmp_path / "run"), env=env)
    assert done.returncode == 3 and "cannot read" in done.stderr


@pytest.mark.slow
def test_run_sweep_end_to_end_on_fakes(tmp_path: Path) -> None:
    """The real sweep (torch, CPU, 1-layer toy) in MODE_15W set through the fake, then a fit."""
    out = tmp_path / "run"
    env = _env(tmp_path, ENGINE="torch", INPUTS="8,16,24", OUTPUTS="2", BATCHES="1",
               REPEATS="1", IDLE_BASELINE="0", DEVICE="cpu",
               FIT_DEVICE="jetson-agx-orin-64gb")
    done = _run("run_sweep.sh", str(out), "qwen2.5-0.5b-scaled-1L", "fp32", "MODE_15W",
                env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "nvpmodel -m 1" in _calls(tmp_path)
    rows = [json.loads(x) for x in (out / "measurements.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and {r["power_mode"] for r in rows} == {"15W"}
    assert all(r["status"] == "ok" for r in rows)
    assert (out / "profile.yaml").stat().st_size > 0
    assert json.loads((out / "devices.json").read_text())
