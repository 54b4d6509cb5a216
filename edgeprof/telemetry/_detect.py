"""Which power source this machine offers (each implemented by its hardware family under
:mod:`edgeprof.device`): Jetson rails > tegrastats > NVML > RAPL > none.

``EDGEPROF_POWER_SOURCE`` forces one (``jetson``, ``tegrastats``, ``nvml``, ``rapl``,
``none``); a forced source that is not present is an error, while auto-detection falls back
quietly to the next one.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from edgeprof.device._power_source import NoSource, PowerSource
from edgeprof.device.cpu._rapl import RaplSource
from edgeprof.device.jetson._rails import JetsonRailsSource
from edgeprof.device.jetson._tegrastats import TegrastatsSource
from edgeprof.device.nvidia._nvml import NvmlSource
from edgeprof.errors import UnsupportedError, UserInputError

DETECTORS: dict[str, Callable[[], PowerSource | None]] = {
    "jetson": JetsonRailsSource.detect,
    "tegrastats": TegrastatsSource.detect,
    "nvml": NvmlSource.detect,
    "rapl": RaplSource.detect,
}

_HINTS = {
    "jetson": "no readable INA3221/INA238 rails under /sys/bus/i2c (try sudo, or a Jetson)",
    "tegrastats": "tegrastats is not on PATH or printed no rails",
    "nvml": "NVML did not initialise or the GPU reports no power (nvidia-ml-py, a driver)",
    "rapl": "no readable /sys/class/powercap/intel-rapl:*/energy_uj (it is often root-only)",
}


def detect_source(forced: str | None = None) -> PowerSource:
    """The best available source, or the one named by ``forced``/``EDGEPROF_POWER_SOURCE``."""
    origin = "--source" if forced else "EDGEPROF_POWER_SOURCE"
    forced = (forced or os.environ.get("EDGEPROF_POWER_SOURCE") or "").strip().lower() or None
    if forced is not None:
        if forced == "none":
            return NoSource()
        if forced not in DETECTORS:
            raise UserInputError(
                f"Unknown power source {forced!r} in {origin}; use one of "
                f"{', '.join([*DETECTORS, 'none'])}."
            )
        source = DETECTORS[forced]()
        if source is None:
            raise UnsupportedError(
                f"Power source {forced!r} was requested but is not available: {_HINTS[forced]}. "
                "Unset EDGEPROF_POWER_SOURCE to auto-detect."
            )
        return source
    for detector in DETECTORS.values():
        source = detector()
        if source is not None:
            return source
    return NoSource()
