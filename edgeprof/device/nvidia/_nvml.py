"""NVIDIA GPUs through NVML (``pynvml`` from nvidia-ml-py), imported only when asked for.

Power is ``nvmlDeviceGetPowerUsage`` (mW); energy is ``nvmlDeviceGetTotalEnergyConsumption``
(mJ since the driver loaded; Volta and newer — older GPUs raise ``NotSupported`` and energy is
then integrated from power samples).
"""

from __future__ import annotations

import contextlib
from typing import Any

from edgeprof.device._power_source import PowerSource, Reading
from edgeprof.errors import MissingDependencyError

# NVML reports a power value that the driver refreshes roughly this often.
NVML_PERIOD_S = 0.02

_THERMAL = ("SwThermalSlowdown", "HwThermalSlowdown")
_POWER = ("SwPowerCap", "HwPowerBrakeSlowdown")


def load_pynvml() -> Any:
    try:
        import pynvml
    except ImportError:
        raise MissingDependencyError(
            "NVML telemetry needs nvidia-ml-py; install it with: pip install 'edgeprof[nvml]'."
        ) from None
    return pynvml


def throttle_names(nvml: Any, mask: int) -> list[str]:
    """Reasons in an NVML clocks-event bitmask, as ``thermal`` / ``power-cap`` / ``hw-slowdown``."""
    out = []

    def bit(name: str) -> int:
        return int(getattr(nvml, f"nvmlClocksEventReason{name}",
                           getattr(nvml, f"nvmlClocksThrottleReason{name}", 0)))

    if any(mask & bit(n) for n in _THERMAL):
        out.append("thermal")
    if any(mask & bit(n) for n in _POWER):
        out.append("power-cap")
    if mask & bit("HwSlowdown"):
        out.append("hw-slowdown")
    return out


class NvmlSource(PowerSource):
    """One NVML device (index ``index``)."""

    name = "nvml"
    update_period_s = NVML_PERIOD_S
    total_rule = "board power (nvmlDeviceGetPowerUsage)"

    def __init__(self, nvml: Any, index: int = 0) -> None:
        self._nvml = nvml
        self._handle = nvml.nvmlDeviceGetHandleByIndex(index)
        self.index = index
        self.has_energy_counter = True
        try:
            nvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except nvml.NVMLError:
            self.has_energy_counter = False
        nvml.nvmlDeviceGetPowerUsage(self._handle)  # raises NotSupported on e.g. Jetson iGPU
        self._reasons = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or \
            nvml.nvmlDeviceGetCurrentClocksThrottleReasons

    @classmethod
    def detect(cls, index: int = 0) -> NvmlSource | None:
        try:
            nvml = load_pynvml()
            nvml.nvmlInit()
        except Exception:
            return None
        try:
            if nvml.nvmlDeviceGetCount() <= index:
                nvml.nvmlShutdown()
                return None
            return cls(nvml, index)
        except Exception:
            nvml.nvmlShutdown()
            return None

    def _try(self, fn: str, *args: Any) -> Any:
        try:
            return getattr(self._nvml, fn)(self._handle, *args)
        except self._nvml.NVMLError:
            return None

    def read(self) -> Reading:
        n = self._nvml
        mw = self._try("nvmlDeviceGetPowerUsage")
        mj = self._try("nvmlDeviceGetTotalEnergyConsumption") if self.has_energy_counter else None
        clocks = {}
        sm = self._try("nvmlDeviceGetClockInfo", n.NVML_CLOCK_SM)
        mem = self._try("nvmlDeviceGetClockInfo", n.NVML_CLOCK_MEM)
        if sm is not None:
            clocks["gpu"] = float(sm)
        if mem is not None:
            clocks["gpu_mem"] = float(mem)
        temp = self._try("nvmlDeviceGetTemperature", n.NVML_TEMPERATURE_GPU)
        try:
            mask = int(self._reasons(self._handle))
        except n.NVMLError:
            mask = 0
        meminfo = self._try("nvmlDeviceGetMemoryInfo")
        return Reading(
            total_w=None if mw is None else mw / 1e3,
            rails_w={} if mw is None else {f"gpu{self.index}": mw / 1e3},
            energy_j=None if mj is None else mj / 1e3,
            clocks_mhz=clocks,
            temps_c={} if temp is None else {f"gpu{self.index}": float(temp)},
            throttle=throttle_names(n, mask),
            mem_used_bytes=None if meminfo is None else int(meminfo.used),
        )

    def describe(self) -> dict:
        name = self._try("nvmlDeviceGetName")
        limit = self._try("nvmlDeviceGetEnforcedPowerLimit")
        return {
            "source": self.name,
            "total": self.total_rule,
            "device": name.decode() if isinstance(name, bytes) else name,
            "energy_counter": self.has_energy_counter,
            "power_limit_w": None if limit is None else limit / 1e3,
        }

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._nvml.nvmlShutdown()
