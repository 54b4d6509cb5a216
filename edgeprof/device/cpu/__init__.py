"""The CPU family: cpuinfo, cpufreq, RAPL energy counters."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports

if TYPE_CHECKING:
    from edgeprof.device.cpu._info import cpu_freqs_mhz, cpu_spec, read_cpu
    from edgeprof.device.cpu._rapl import RaplSource

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "RaplSource": "edgeprof.device.cpu._rapl",
    "cpu_freqs_mhz": "edgeprof.device.cpu._info",
    "cpu_spec": "edgeprof.device.cpu._info",
    "read_cpu": "edgeprof.device.cpu._info",
}

__all__ = [
    "RaplSource", "cpu_freqs_mhz", "cpu_spec", "read_cpu",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
