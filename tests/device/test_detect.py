"""Device detection on replayed machines: a CPU-only host, a Jetson AGX Orin, mocked GPUs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from edgeprof.device import _detect as det
from edgeprof.device._bandwidth import BandwidthResult
from edgeprof.device.cpu import _info as cpu_info
from edgeprof.device.jetson import _board as jetson_board
from edgeprof.device.nvidia import _gpus as nvidia_gpus
from edgeprof.errors import UserInputError

ROOTS = Path(__file__).parents[1] / "fixtures" / "detect"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Replay a fixture tree with no GPU visible (torch.cuda off, pynvml absent)."""
    monkeypatch.setitem(sys.modules, "pynvml", None)

    def use(name: str, torch_gpus: bool = False) -> None:
        if not torch_gpus:
            monkeypatch.setattr(nvidia_gpus, "_torch_gpus", lambda: None)
        root = ROOTS / name
        monkeypatch.setenv("EDGEPROF_PROCFS_ROOT", str(root / "proc"))
        monkeypatch.setenv("EDGEPROF_SYSFS_ROOT", str(root / "sys"))
        monkeypatch.setenv("EDGEPROF_ETC_ROOT", str(root / "etc"))

    return use


@pytest.fixture
def fake_bandwidth(monkeypatch: pytest.MonkeyPatch) -> None:
    import edgeprof.device._bandwidth as bw

    monkeypatch.setattr(bw, "measure_memory_bandwidth", lambda seconds=1.0, **_: BandwidthResult(
        gbs=123.4, method="copy", size_bytes=2**28, repeats=7))


def test_cpu_only_host(machine, fake_bandwidth) -> None:
    machine("cpu-only")
    found = det.detect()
    assert [d.kind for d in found] == ["cpu"]
    cpu = cpu_info.read_cpu()
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert (cpu.logical_cores, cpu.physical_cores, cpu.mhz) == (4, 2, 3800.0)
    assert cpu.memory_bytes == 16384000 * 1024
    spec = det.host_spec("auto")
    assert spec.kind == "cpu" and spec.label == "measured"
    assert spec.memory_bandwidth_gbs == 123.4
    assert "measured" in spec.sources["memory_bandwidth_gbs"]
    assert "estimated" in spec.sources["peak_tflops"]
    # 2 cores × 3.8 GHz × 64 FP32 FLOPs/cycle (AVX-512, two FMA pipes); AMX bf16 1024/cycle
    assert spec.peak_tflops["fp32"] == pytest.approx(0.4864)
    assert spec.peak_tflops["bf16"] == pytest.approx(2 * 3.8 * 1024 / 1000)
    assert {"fp32", "bf16", "int8", "int4"} <= set(spec.native_quants)
    assert "fp8" not in spec.native_quants
    assert det.device_row_name("cpu") == "cpu-intel-r-xeon-r-platinum-8480"
    fp = det.fingerprint("cpu")
    assert fp["memory_gib"] == 16 and fp["jetson_model"] is None and fp["gpus"] == []
    with pytest.raises(UserInputError, match="cuda:0"):
        det.host_spec("cuda:0")


def test_jetson_agx_orin(machine) -> None:
    machine("agx-orin")
    found = {d.kind: d for d in det.detect()}
    board = found["jetson"]
    assert board.profile == "jetson-agx-orin-64gb"
    assert board.details["l4t"] == "36.4.3"
    assert board.compute_capability == "8.7"
    assert found["cpu"].name == "ARM Cortex-A78AE"
    spec = det.host_spec("auto")
    assert spec.name == "jetson-agx-orin-64gb" and spec.label == "spec"
    assert det.host_spec("cuda").name == spec.name
    assert det.device_row_name("cuda:0") == "jetson-agx-orin-64gb"
    assert det.fingerprint()["jetson_profile"] == "jetson-agx-orin-64gb"


def test_jetson_memory_picks_the_variant() -> None:
    model = "NVIDIA Jetson AGX Orin Developer Kit"
    assert jetson_board.jetson_profile(model, "", 30536276 * 1024) == "jetson-agx-orin-32gb"
    assert jetson_board.jetson_profile(model, "", 64335836 * 1024) == "jetson-agx-orin-64gb"
    assert jetson_board.jetson_profile(model, "nvidia,p3701-0004", None) == "jetson-agx-orin-32gb"
    assert jetson_board.jetson_profile("NVIDIA Jetson TX2", "", None) is None


def _props(name: str, mem: float, cc: tuple[int, int]) -> SimpleNamespace:
    return SimpleNamespace(name=name, total_memory=int(mem), major=cc[0], minor=cc[1],
                           multi_processor_count=100)


def test_gpus_from_torch_cuda(machine, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    machine("cpu-only", torch_gpus=True)
    gpus = [_props("NVIDIA GeForce RTX 4090", 24e9, (8, 9)),
            _props("NVIDIA H200 NVL", 141e9, (9, 0)), _props("NVIDIA RTX A4000", 16e9, (8, 6))]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: len(gpus))
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: gpus[i])
    found = [d for d in det.detect() if d.kind == "gpu"]
    assert [d.id for d in found] == ["cuda:0", "cuda:1", "cuda:2"]
    assert found[0].profile == "rtx-4090" and found[1].profile is None
    assert det.host_spec("cuda:0").name == "rtx-4090"
    h200 = det.host_spec("cuda:1")
    assert h200.kind == "gpu" and "fp8" in h200.native_quants and h200.memory_bytes == 141e9
    a4000 = det.host_spec("cuda:2")
    assert "fp8" not in a4000.native_quants and "bf16" in a4000.native_quants
    assert det.host_spec("auto").name == "rtx-4090"
    assert det.device_row_name("cuda:1") == "gpu-nvidia-h200-nvl"
    assert nvidia_gpus.gpu_profile("NVIDIA H200") == "h200-sxm"  # the SXM card has a profile


def test_gpus_from_nvml(machine, monkeypatch: pytest.MonkeyPatch) -> None:
    machine("cpu-only")
    nvml = ModuleType("pynvml")
    nvml.NVML_CLOCK_MEM = 2
    nvml.nvmlInit = lambda: None
    nvml.nvmlShutdown = lambda: None
    nvml.nvmlDeviceGetCount = lambda: 1
    nvml.nvmlDeviceGetHandleByIndex = lambda i: i
    nvml.nvmlDeviceGetName = lambda h: b"NVIDIA L4"
    nvml.nvmlDeviceGetMemoryInfo = lambda h: SimpleNamespace(total=24 * 2**30)
    nvml.nvmlDeviceGetCudaComputeCapability = lambda h: (8, 9)
    nvml.nvmlDeviceGetMemoryBusWidth = lambda h: 192
    nvml.nvmlDeviceGetMaxClockInfo = lambda h, kind: 6251
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    gpu = next(d for d in det.detect() if d.kind == "gpu")
    assert gpu.profile == "l4" and gpu.compute_capability == "8.9"
    assert gpu.details["spec_bandwidth_gbs"] == pytest.approx(300.0, rel=0.01)
    nvml.nvmlDeviceGetName = lambda h: "NVIDIA Mystery GPU"
    spec = det.host_spec("cuda:0")
    assert spec.memory_bandwidth_gbs == pytest.approx(300.0, rel=0.01)
    assert "fp8" in spec.native_quants and spec.compute_capability == "8.9"


def test_devices_cli_json(machine, fake_bandwidth, run_cli) -> None:
    machine("agx-orin")
    code, out, err = run_cli("devices", "--json")
    assert code == 0, err
    data = json.loads(out)
    cpu = next(d for d in data if d["kind"] == "cpu")
    assert cpu["memory_bandwidth"] == {"gbs": 123.4, "method": "copy", "size_bytes": 2**28,
                                       "repeats": 7, "label": "measured"}
    assert cpu["spec"]["label"] == "measured"
    board = next(d for d in data if d["kind"] == "jetson")
    assert board["spec"]["name"] == "jetson-agx-orin-64gb"
    code, out, _ = run_cli("devices", "--no-bandwidth")
    assert code == 0 and "jetson-agx-orin" in out and "not measured" in out
