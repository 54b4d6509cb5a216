"""Samplers that run beside a workload: power, energy, memory, clocks, thermals."""

from edgeprof.telemetry.base import NullSampler, PhaseEnergy, PowerSampler


def default_sampler(period_s: float = 0.05) -> PowerSampler:
    """The best power sampler this machine offers (NullSampler until sources are wired in)."""
    return NullSampler()


__all__ = ["NullSampler", "PhaseEnergy", "PowerSampler", "default_sampler"]
