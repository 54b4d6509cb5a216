"""``edgeprof telemetry`` against a replayed Orin board and on a machine without sensors."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import pytest

from edgeprof.device.nvidia._nvml import NvmlSource

ORIN = Path(__file__).parents[1] / "fixtures" / "telemetry" / "orin-agx-jp6"
RAILS_W = {"VDD_GPU_SOC": 5.024 * 0.610, "VDD_CPU_CV": 5.024 * 0.152,
           "VIN_SYS_5V0": 5.016 * 0.604, "VDDQ_VDD2_1V8AO": 5.032 * 0.101}


def test_orin_fixture_json(run_cli, monkeypatch):
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(ORIN / "sys"))
    monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(ORIN / "proc"))
    monkeypatch.delenv("EDGEPROF_POWER_SOURCE", raising=False)
    code, out, _ = run_cli("telemetry", "--duration", "600ms", "--period", "20ms", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["source"] == "jetson-hwmon" and data["power_available"] is True
    assert data["rails_w"] == pytest.approx(RAILS_W, rel=1e-9)
    total = sum(RAILS_W.values())
    assert data["total_w"] == pytest.approx(total, rel=1e-9)
    assert data["energy_j"] == pytest.approx(total * data["window_s"], rel=0.02)
    assert 0.55 < data["window_s"] < 1.5
    assert data["temps_c"]["tj-thermal"] == 48.0 and data["clocks_mhz"]["gpu"] == 1300.5
    assert data["memory"]["nvmap_used_bytes"] == 1073741824


def test_no_power_source_says_so(run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("EDGEPROF_POWER_SOURCE", raising=False)
    with mock.patch.object(NvmlSource, "detect", return_value=None):
        code, out, err = run_cli("telemetry", "--duration", "100ms", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["source"] == "none" and data["power_available"] is False
    assert data["energy_j"] is None and data["total_w"] is None
    assert "No power source available" in data["message"] and "No power source" in err


def test_bad_flags_are_one_line_errors(run_cli):
    code, _, err = run_cli("telemetry", "--duration", "soon")
    assert code == 2 and err.startswith("Error: Cannot read the duration")
    code, _, err = run_cli("telemetry", "--duration", "100ms", "--period", "0.1ms")
    assert code == 2 and "sampling period" in err
