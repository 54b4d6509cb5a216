"""Sources against fixture boards, mocked NVML, recorded tool output, and detection."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest

from edgeprof.device._fs import thermal_zones
from edgeprof.device.cpu._info import cpu_freqs_mhz
from edgeprof.device.cpu._rapl import RaplSource
from edgeprof.device.jetson._clocks import gpu_clock_mhz, gpu_devfreq
from edgeprof.device.jetson._rails import JetsonRailsSource
from edgeprof.device.jetson._tegrastats import TegrastatsSource, parse_line, reading_from_line
from edgeprof.device.jetson._tools import parse_jetson_clocks_show, parse_nvpmodel_query
from edgeprof.device.nvidia._nvml import NvmlSource, throttle_names
from edgeprof.errors import UnsupportedError, UserInputError
from edgeprof.telemetry import default_sampler, detect_source
from edgeprof.telemetry._memory import unified_memory

FIX = Path(__file__).parents[1] / "fixtures" / "telemetry"
REC = FIX / "recorded"


def use_board(monkeypatch, board: str | Path) -> Path:
    root = FIX / board if isinstance(board, str) else board
    monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(root / "sys"))
    monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(root / "proc"))
    return root


def test_orin_hwmon_rails_skip_nc_and_shunt_sum(monkeypatch):
    use_board(monkeypatch, "orin-agx-jp6")
    src = JetsonRailsSource.detect()
    assert src is not None and src.name == "jetson-hwmon"
    r = src.read()
    assert r.rails_w == pytest.approx({"VDD_GPU_SOC": 5.024 * 0.610, "VDD_CPU_CV": 5.024 * 0.152,
                                       "VIN_SYS_5V0": 5.016 * 0.604,
                                       "VDDQ_VDD2_1V8AO": 5.032 * 0.101})
    assert r.total_w == pytest.approx(sum(r.rails_w.values()))
    assert src.total_rule == "sum of rails"


def test_xavier_iio_rails(monkeypatch):
    use_board(monkeypatch, "xavier-agx-jp4")
    src = JetsonRailsSource.detect()
    assert src is not None and src.name == "jetson-iio"
    r = src.read()
    assert set(r.rails_w) == {"GPU", "CPU", "SOC", "CV", "VDDRQ", "SYS5V"}
    assert r.rails_w["CPU"] == pytest.approx(19072 * 480 // 1000 / 1e3)
    assert r.total_w == pytest.approx(sum(r.rails_w.values()))


def test_thor_ina238_vin_is_the_total(monkeypatch):
    use_board(monkeypatch, "thor-agx")
    src = JetsonRailsSource.detect()
    assert src is not None
    r = src.read()
    assert r.rails_w == pytest.approx({"VIN": 29.991936})
    assert r.total_w == pytest.approx(29.991936) and src.total_rule == "VIN"
    assert gpu_clock_mhz(gpu_devfreq()) == {"gpu": 1575.0, "gpu_max": 1575.0}


def test_orin_host_probes(monkeypatch):
    use_board(monkeypatch, "orin-agx-jp6")
    assert thermal_zones()["tj-thermal"] == 48.0
    assert gpu_clock_mhz(gpu_devfreq())["gpu"] == pytest.approx(1300.5)
    assert cpu_freqs_mhz()["cpu3"] == pytest.approx(2201.6)
    assert unified_memory()["nvmap_used_bytes"] == 1048576 * 1024


def test_rapl_wraps_around(tmp_path, monkeypatch):
    root = tmp_path / "board"
    shutil.copytree(FIX / "rapl-host", root, symlinks=True)
    use_board(monkeypatch, root)
    src = RaplSource.detect()
    assert src is not None and [z.name for z in src.zones] == ["package-0@intel-rapl:0"]
    first = src.read()
    energy = root / "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj"
    energy.write_text("4000\n")  # wrapped: 1000 µJ before the top + 4000 after
    time.sleep(0.01)
    second = src.read()
    assert first.energy_j is not None and second.energy_j is not None
    assert second.energy_j - first.energy_j == pytest.approx(5000e-6)
    assert second.total_w is not None and second.total_w > 0


def fake_pynvml(energy_supported: bool = True, power_supported: bool = True):
    class NVMLError(Exception):
        pass

    class NVMLError_NotSupported(NVMLError):
        pass

    calls = {"shutdown": 0}

    def energy(h):
        if not energy_supported:
            raise NVMLError_NotSupported()
        return 123_456_789  # mJ

    def power(h):
        if not power_supported:
            raise NVMLError_NotSupported()
        return 215_500  # mW

    def shutdown():
        calls["shutdown"] += 1

    return SimpleNamespace(
        NVMLError=NVMLError, NVMLError_NotSupported=NVMLError_NotSupported,
        NVML_CLOCK_SM=1, NVML_CLOCK_MEM=2, NVML_TEMPERATURE_GPU=0,
        nvmlClocksEventReasonSwPowerCap=0x4, nvmlClocksEventReasonHwSlowdown=0x8,
        nvmlClocksEventReasonSwThermalSlowdown=0x20, nvmlClocksEventReasonHwThermalSlowdown=0x40,
        nvmlClocksEventReasonHwPowerBrakeSlowdown=0x80,
        nvmlInit=lambda: None, nvmlShutdown=shutdown, nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: "h0",
        nvmlDeviceGetPowerUsage=power, nvmlDeviceGetTotalEnergyConsumption=energy,
        nvmlDeviceGetClockInfo=lambda h, c: {1: 1980, 2: 9501}[c],
        nvmlDeviceGetTemperature=lambda h, s: 71,
        nvmlDeviceGetCurrentClocksEventReasons=lambda h: 0x4 | 0x40,
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=3 * 2**30, total=80 * 2**30),
        nvmlDeviceGetName=lambda h: "NVIDIA H100 80GB HBM3",
        nvmlDeviceGetEnforcedPowerLimit=lambda h: 700_000,
        calls=calls,
    )


def test_nvml_reads_power_energy_clocks_and_reasons():
    nv = fake_pynvml()
    with mock.patch.dict(sys.modules, {"pynvml": nv}):
        src = NvmlSource.detect()
    assert src is not None and src.has_energy_counter
    r = src.read()
    assert r.total_w == pytest.approx(215.5) and r.energy_j == pytest.approx(123_456.789)
    assert r.clocks_mhz == {"gpu": 1980.0, "gpu_mem": 9501.0}
    assert r.throttle == ["thermal", "power-cap"]
    assert r.mem_used_bytes == 3 * 2**30
    assert src.describe()["power_limit_w"] == pytest.approx(700.0)
    src.close()
    assert nv.calls["shutdown"] == 1


def test_nvml_without_energy_counter_falls_back_to_power():
    nv = fake_pynvml(energy_supported=False)
    with mock.patch.dict(sys.modules, {"pynvml": nv}):
        src = NvmlSource.detect()
    assert src is not None and not src.has_energy_counter
    r = src.read()
    assert r.energy_j is None and r.total_w == pytest.approx(215.5)


def test_nvml_without_power_is_not_a_source():
    nv = fake_pynvml(power_supported=False)  # e.g. a Jetson iGPU through NVML
    with mock.patch.dict(sys.modules, {"pynvml": nv}):
        assert NvmlSource.detect() is None
    assert nv.calls["shutdown"] == 1


def test_throttle_names_ignore_idle_bits():
    nv = fake_pynvml()
    assert throttle_names(nv, 0x1) == []
    assert throttle_names(nv, 0x80) == ["power-cap"]


def test_tegrastats_lines():
    orin = reading_from_line((REC / "tegrastats_orin_jp6.txt").read_text())
    assert orin.rails_w == pytest.approx({"VDD_GPU_SOC": 3.066, "VDD_CPU_CV": 0.766,
                                          "VIN_SYS_5V0": 3.028, "VDDQ_VDD2_1V8AO": 0.503})
    assert orin.total_w == pytest.approx(3.066 + 0.766 + 3.028 + 0.503)
    assert orin.clocks_mhz == {"gpu": 305.0}
    assert "CV0" not in orin.temps_c and orin.temps_c["tj"] == 47.5
    xavier = parse_line((REC / "tegrastats_xavier_jp4.txt").read_text())
    assert xavier["rails_mw"]["VDD_IN"] == 14025 and "RAM" not in xavier["rails_mw"]
    assert xavier["gpu_load_pct"] == 37 and xavier["ram_total_bytes"] == 7844 * 2**20
    nano = reading_from_line((REC / "tegrastats_nano_jp4.txt").read_text())
    assert nano.total_w == pytest.approx(4.520)  # POM_5V_IN is the board total


def test_tegrastats_source_runs_and_stops_the_tool(tmp_path, monkeypatch):
    tool = tmp_path / "tegrastats"
    line = (REC / "tegrastats_orin_jp6.txt").read_text().strip()
    tool.write_text(f"#!{sys.executable}\nimport time, sys\nwhile True:\n"
                    f"    print({line!r}, flush=True)\n    time.sleep(0.02)\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    src = TegrastatsSource.detect(interval_ms=20)
    assert src is not None
    assert src.read().total_w == pytest.approx(7.363)
    src.close()
    assert src._proc.poll() is not None
    assert not [t for t in threading.enumerate() if t.name == "edgeprof-tegrastats"]


def test_nvpmodel_and_jetson_clocks_parsing():
    assert parse_nvpmodel_query((REC / "nvpmodel_q_orin.txt").read_text()) == ("MAXN", 0)
    assert parse_nvpmodel_query("garbage") is None
    tx2 = parse_jetson_clocks_show((REC / "jetson_clocks_show_tx2.txt").read_text())
    assert tx2["pinned"] is False and tx2["power_mode"] == "MAXP_CORE_ARM"
    gpu = tx2["gpu"]
    assert (gpu["MinFreq"], gpu["MaxFreq"], gpu["CurrentFreq"]) == (114750000, 1134750000,
                                                                    114750000)
    pinned = parse_jetson_clocks_show((REC / "jetson_clocks_show_pinned.txt").read_text())
    assert pinned["pinned"] is True


def test_detection_order_and_forcing(monkeypatch, tmp_path):
    use_board(monkeypatch, "orin-agx-jp6")
    monkeypatch.delenv("EDGEPROF_POWER_SOURCE", raising=False)
    assert detect_source().name == "jetson-hwmon"
    monkeypatch.setenv("EDGEPROF_POWER_SOURCE", "none")
    assert detect_source().name == "none"
    monkeypatch.setenv("EDGEPROF_POWER_SOURCE", "bogus")
    with pytest.raises(UserInputError, match="Unknown power source"):
        detect_source()
    monkeypatch.setenv("EDGEPROF_POWER_SOURCE", "rapl")
    with pytest.raises(UnsupportedError, match="rapl"):
        detect_source()


def test_empty_machine_has_no_power(monkeypatch, tmp_path):
    use_board(monkeypatch, tmp_path)
    monkeypatch.delenv("EDGEPROF_POWER_SOURCE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no tegrastats
    with mock.patch.object(NvmlSource, "detect", return_value=None):
        s = default_sampler()
    assert s.source == "none" and not s.available


def test_this_machine_reports_power_unavailable(monkeypatch):
    """On the project's build machine (no GPU, no RAPL) — skipped where a source exists."""
    for var in ("EDGEPROF_SYSFS_ROOT", "EDGEPROF_PROCFS_ROOT", "EDGEPROF_POWER_SOURCE"):
        monkeypatch.delenv(var, raising=False)
    s = default_sampler(0.05)
    if s.available:
        s.stop()
        pytest.skip(f"this machine has a power source ({s.source})")
    with s:
        t0 = time.perf_counter_ns()
        time.sleep(0.06)
        ph = s.window(t0, time.perf_counter_ns())
    assert s.source == "none" and ph.energy_j is None and "power-unavailable" in ph.flags
