"""--power-modes as a sweep axis, against a recorded nvpmodel (no board needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from edgeprof.device import load_device_spec
from edgeprof.device.jetson._power_mode import PowerModeController
from edgeprof.errors import UserInputError
from edgeprof.sweep import _runner as runner_module
from edgeprof.sweep import build_spec, prepare
from edgeprof.table import read_measurements
from edgeprof.telemetry import NullSampler

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures"))
sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "sweep"))
from fake_jetson_board import BOARDS, FakeBoard
from fake_jetson_board import on_path as _on_path
from sweep_engines import SleepEngine


def _sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeBoard):
    conf = BOARDS / "agx-orin-64gb-devkit" / "etc" / "nvpmodel.conf"
    ctl = PowerModeController(load_device_spec("jetson-agx-orin-64gb"), runner=fake,
                              conf_path=conf, use_sudo=False, which=_on_path,
                              sleep=lambda s: None)
    monkeypatch.setattr(runner_module, "power_controller", lambda spec: ctl)
    spec = build_spec(engine="sleep", models="qwen2.5-0.5b-scaled-2L", quants="fp32,int4",
                      inputs="16", outputs="4", power_modes="15W,MAXN")
    return prepare(spec, tmp_path, sampler=NullSampler(), engine=SleepEngine(), idle_s=0)


def test_each_mode_is_set_and_recorded_in_every_row(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBoard(BOARDS / "agx-orin-64gb-devkit" / "etc" / "nvpmodel.conf", active=0)
    _sweep(tmp_path, monkeypatch, fake).run()
    rows = read_measurements(tmp_path)
    assert {(r.quant, r.power_mode) for r in rows} == {
        ("fp32", "15W"), ("fp32", "MAXN"), ("int4", "15W"), ("int4", "MAXN")}
    assert all(r.status == "ok" for r in rows)
    switches = [c[0][2] for c in fake.calls if c[0][:2] == ["nvpmodel", "-m"]]
    assert switches and switches[0] != "0"  # 15W's id first, then back to MAXN (id 0)
    assert "0" in switches
    assert fake.active == 0


def test_no_rights_stops_with_one_line_and_keeps_nothing_half_done(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBoard(BOARDS / "agx-orin-64gb-devkit" / "etc" / "nvpmodel.conf", active=0,
                     denied=True)
    with pytest.raises(UserInputError, match="sudo"):
        _sweep(tmp_path, monkeypatch, fake).run()
    table = tmp_path / "measurements.jsonl"  # nothing was measured in a mode not reached
    assert not table.exists() or not any(r.power_mode == "15W"
                                         for r in read_measurements(tmp_path))


def test_off_a_jetson_the_flag_is_refused(tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("sweep", "--engine", "torch", "--models", "qwen2.5-0.5b-scaled-1L",
                           "--quants", "fp32", "--inputs", "8", "--outputs", "2",
                           "--power-modes", "15W,MAXN", "--out", str(tmp_path / "s"))
    assert code == 2 and "needs a Jetson with nvpmodel" in err
