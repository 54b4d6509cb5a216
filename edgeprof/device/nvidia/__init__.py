"""The NVIDIA GPU family: CUDA enumeration, profiles by card name, NVML telemetry."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports

if TYPE_CHECKING:
    from edgeprof.device.nvidia._gpus import gpu_profile
    from edgeprof.device.nvidia._nvml import NvmlSource, throttle_names

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "NvmlSource": "edgeprof.device.nvidia._nvml",
    "gpu_profile": "edgeprof.device.nvidia._gpus",
    "throttle_names": "edgeprof.device.nvidia._nvml",
}

__all__ = [
    "NvmlSource", "gpu_profile", "throttle_names",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
