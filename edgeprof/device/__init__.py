"""What machine this is: detection and device specs."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.device._spec import (
    DeviceSpec,
    PowerMode,
    list_device_names,
    load_device_spec,
    profiles_dir,
)

if TYPE_CHECKING:
    from edgeprof.device._bandwidth import (
        BandwidthResult,
        bytes_per_pass,
        default_size_bytes,
        last_level_cache_bytes,
        measure_memory_bandwidth,
    )
    from edgeprof.device._conformance import CHECKS, check_reading_units, run_conformance
    from edgeprof.device._detect import detect, device_row_name, fingerprint, host_spec
    from edgeprof.device._machine import MachineSnapshot, snapshot
    from edgeprof.device._power_source import NoSource, PowerSource, Reading, unwrap_delta
    from edgeprof.device._spec_file import read_device_spec_file
    from edgeprof.device._types import DetectedDevice

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "BandwidthResult": "edgeprof.device._bandwidth",
    "CHECKS": "edgeprof.device._conformance",
    "DetectedDevice": "edgeprof.device._types",
    "MachineSnapshot": "edgeprof.device._machine",
    "NoSource": "edgeprof.device._power_source",
    "PowerSource": "edgeprof.device._power_source",
    "Reading": "edgeprof.device._power_source",
    "bytes_per_pass": "edgeprof.device._bandwidth",
    "check_reading_units": "edgeprof.device._conformance",
    "default_size_bytes": "edgeprof.device._bandwidth",
    "detect": "edgeprof.device._detect",
    "device_row_name": "edgeprof.device._detect",
    "fingerprint": "edgeprof.device._detect",
    "host_spec": "edgeprof.device._detect",
    "last_level_cache_bytes": "edgeprof.device._bandwidth",
    "measure_memory_bandwidth": "edgeprof.device._bandwidth",
    "read_device_spec_file": "edgeprof.device._spec_file",
    "run_conformance": "edgeprof.device._conformance",
    "snapshot": "edgeprof.device._machine",
    "unwrap_delta": "edgeprof.device._power_source",
}

__all__ = [
    "CHECKS",
    "BandwidthResult",
    "DetectedDevice",
    "DeviceSpec",
    "MachineSnapshot",
    "NoSource",
    "PowerMode",
    "PowerSource",
    "Reading",
    "bytes_per_pass",
    "check_reading_units",
    "default_size_bytes",
    "detect",
    "device_row_name",
    "fingerprint",
    "host_spec",
    "last_level_cache_bytes",
    "list_device_names",
    "load_device_spec",
    "measure_memory_bandwidth",
    "profiles_dir",
    "read_device_spec_file",
    "run_conformance",
    "snapshot",
    "unwrap_delta",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
