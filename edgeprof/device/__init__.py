"""What machine this is: detection and device specs."""

from edgeprof.device.spec import DeviceSpec, PowerMode, list_device_names, load_device_spec

__all__ = ["DeviceSpec", "PowerMode", "list_device_names", "load_device_spec"]
