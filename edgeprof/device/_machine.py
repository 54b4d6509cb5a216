"""One immutable snapshot of the machine a sweep runs on, built with a single ``detect()``
(pyperf's ``collect_metadata``): the row name, the fingerprint, the device spec and the power
mode, passed down to everything that records them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edgeprof.device._detect import detect, device_row_name, fingerprint, host_spec


@dataclass(frozen=True)
class MachineSnapshot:
    """What this machine is, read once. ``spec`` is the DeviceSpec as JSON (``None`` when
    it could not be formed); ``power_mode`` the active Jetson mode, if any."""

    device: str
    name: str
    fingerprint: dict[str, Any] = field(default_factory=dict)
    spec: dict[str, Any] | None = None
    power_mode: str | None = None


def snapshot(device: str = "auto", *, bandwidth_seconds: float = 1.0,
             power_mode: str | None = None, with_spec: bool = True) -> MachineSnapshot:
    """Detect the machine once and derive every recorded fact from that one detection."""
    devices = detect()
    name = device_row_name(device, devices)  # an unknown --device fails here, once
    spec: dict[str, Any] | None = None
    if with_spec:
        try:
            spec = host_spec(device, bandwidth_seconds, devices=devices).model_dump(mode="json")
        except Exception:  # a spec is a convenience for `fit`; never fail a sweep over it
            spec = None
    return MachineSnapshot(device=device, name=name, fingerprint=fingerprint(device, devices),
                           spec=spec, power_mode=power_mode)
