"""Samplers that run beside a workload: power, energy, memory, clocks, thermals — the
sampler, measurement windows, integration and traces. The hardware they read (NVML, Jetson
rails, tegrastats, RAPL, clocks, thermal zones) lives by family under :mod:`edgeprof.device`.

``default_sampler(period_s)`` picks the best power source on this machine (Jetson rails >
tegrastats > NVML > RAPL > none; ``EDGEPROF_POWER_SOURCE`` forces one) and wraps it in a
background :class:`Sampler`. Without any source it still samples clocks, temperatures and
memory, and reports power as ``None`` (source ``"none"``).
"""

from edgeprof.device.power_source import NoSource, PowerSource, Reading
from edgeprof.telemetry.base import NullSampler, PhaseEnergy, PowerSampler
from edgeprof.telemetry.detect import detect_source
from edgeprof.telemetry.sampler import DEFAULT_PERIOD_S, Sampler


def default_sampler(period_s: float = DEFAULT_PERIOD_S) -> Sampler:
    """The best power sampler this machine offers (not started; call ``start()``)."""
    return Sampler(detect_source(), period_s)


__all__ = [
    "NoSource",
    "NullSampler",
    "PhaseEnergy",
    "PowerSampler",
    "PowerSource",
    "Reading",
    "Sampler",
    "default_sampler",
    "detect_source",
]
