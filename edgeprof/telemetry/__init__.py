"""Samplers that run beside a workload: power, energy, memory, clocks, thermals — the
sampler, measurement windows, integration and traces. The hardware they read (NVML, Jetson
rails, tegrastats, RAPL, clocks, thermal zones) lives by family under :mod:`edgeprof.device`.

``default_sampler(period_s)`` picks the best power source on this machine (Jetson rails >
tegrastats > NVML > RAPL > none; ``EDGEPROF_POWER_SOURCE`` forces one) and wraps it in a
background :class:`Sampler`. Without any source it still samples clocks, temperatures and
memory, and reports power as ``None`` (source ``"none"``).
"""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.device._power_source import NoSource, PowerSource, Reading
from edgeprof.telemetry._base import NullSampler, PhaseEnergy, PowerSampler
from edgeprof.telemetry._detect import detect_source
from edgeprof.telemetry._sampler import DEFAULT_PERIOD_S, Sampler

if TYPE_CHECKING:
    from edgeprof.device._power_source import unwrap_delta
    from edgeprof.telemetry._integrate import counter_energy, integrate_power
    from edgeprof.telemetry._memory import PeakRSS, unified_memory
    from edgeprof.telemetry._trace import TRACE_FILE, read_power_trace


def default_sampler(period_s: float = DEFAULT_PERIOD_S) -> Sampler:
    """The best power sampler this machine offers (not started; call ``start()``)."""
    return Sampler(detect_source(), period_s)


# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "PeakRSS": "edgeprof.telemetry._memory",
    "TRACE_FILE": "edgeprof.telemetry._trace",
    "counter_energy": "edgeprof.telemetry._integrate",
    "integrate_power": "edgeprof.telemetry._integrate",
    "read_power_trace": "edgeprof.telemetry._trace",
    "unified_memory": "edgeprof.telemetry._memory",
    "unwrap_delta": "edgeprof.device._power_source",
}

__all__ = [
    "TRACE_FILE",
    "NoSource",
    "NullSampler",
    "PeakRSS",
    "PhaseEnergy",
    "PowerSampler",
    "PowerSource",
    "Reading",
    "Sampler",
    "counter_energy",
    "default_sampler",
    "detect_source",
    "integrate_power",
    "read_power_trace",
    "unified_memory",
    "unwrap_delta",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
