"""Every power source runs the shared conformance suite (edgeprof.device._conformance):
Jetson rails on fixture Orin / Xavier / Thor trees, RAPL on a fixture powercap tree, NVML
through a fake pynvml, tegrastats from a recorded line, and the no-sensor stand-in."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from unittest import mock

import pytest
from test_telemetry_sources import FIX, REC, fake_pynvml, use_board

from edgeprof.device._conformance import CHECKS, check_reading_units
from edgeprof.device._power_source import NoSource, PowerSource, Reading
from edgeprof.device.cpu._rapl import RaplSource
from edgeprof.device.jetson._rails import JetsonRailsSource
from edgeprof.device.jetson._tegrastats import reading_from_line
from edgeprof.device.nvidia._nvml import NvmlSource


class RecordedTegrastats(PowerSource):
    """tegrastats' parser over a recorded Orin line (the subprocess is tested elsewhere)."""

    name = "tegrastats"
    update_period_s = 0.1

    def read(self) -> Reading:
        return reading_from_line((REC / "tegrastats_orin_jp6.txt").read_text())


def _factory(kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    if kind in ("orin-agx-jp6", "xavier-agx-jp4", "thor-agx"):
        use_board(monkeypatch, kind)
        return JetsonRailsSource.detect
    if kind == "rapl":
        root = tmp_path / "board"
        shutil.copytree(FIX / "rapl-host", root, symlinks=True)
        use_board(monkeypatch, root)
        return RaplSource.detect
    if kind == "nvml":
        monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
        return NvmlSource.detect
    if kind == "tegrastats":
        return RecordedTegrastats
    return NoSource


KINDS = ("orin-agx-jp6", "xavier-agx-jp4", "thor-agx", "rapl", "nvml", "tegrastats", "none")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_source_conforms(kind, check, monkeypatch, tmp_path):
    check(_factory(kind, monkeypatch, tmp_path))


def test_a_milliwatt_slip_is_caught():
    class Slipped(PowerSource):
        name = "slipped"

        def read(self) -> Reading:
            return Reading(total_w=215_500.0)  # NVML's mW taken as W

    with pytest.raises(AssertionError, match="milliwatts"):
        check_reading_units(Slipped)


def test_nan_power_is_caught():
    class Broken(PowerSource):
        name = "broken"

        def read(self) -> Reading:
            return Reading(total_w=float("nan"))

    with pytest.raises(AssertionError, match="finite"), mock.patch("time.sleep"):
        check_reading_units(Broken)
