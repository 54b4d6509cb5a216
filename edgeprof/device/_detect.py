"""What machine this is: ``detect()`` lists the CPU, CUDA GPUs and a Jetson board (each
family's code lives in :mod:`edgeprof.device.cpu`, :mod:`edgeprof.device.nvidia` and
:mod:`edgeprof.device.jetson`); ``host_spec(device)`` turns one into a :class:`DeviceSpec`:
a Jetson board or a known GPU maps to its shipped profile, an unknown GPU is derived from its
compute capability, and the CPU gets a spec whose bandwidth is **measured** here and whose
peak compute is **estimated**. ``fingerprint`` is the machine's identity for ``run.json``.
Roots are replayable (:mod:`edgeprof.device._fs`).
"""

from __future__ import annotations

import platform
from typing import Any

from edgeprof.device._spec import DeviceSpec, load_device_spec
from edgeprof.device._types import DetectedDevice, slug
from edgeprof.device.cpu._info import cpu_device, cpu_spec, read_cpu
from edgeprof.device.jetson._board import jetson_board
from edgeprof.device.nvidia._gpus import cuda_gpus, derived_gpu_spec
from edgeprof.errors import UserInputError

__all__ = ["CHECKED_FINGERPRINT_KEYS", "detect", "device_row_name", "fingerprint",
           "fingerprint_mismatch", "host_spec"]

# Fingerprint keys whose change means "another machine" (pyperf: not merged).
CHECKED_FINGERPRINT_KEYS = ("cpu_model", "cpu_logical_cores", "memory_gib", "gpus",
                            "jetson_model", "jetson_profile")


# ------------------------------------------------------------------------------ public API
def detect() -> list[DetectedDevice]:
    """The CPU (always), CUDA GPUs, and a Jetson board (its integrated GPU is ``cuda:0``)."""
    devices = [cpu_device()]
    board = jetson_board()
    gpus = cuda_gpus()
    if board is not None:
        if gpus:
            board.compute_capability = gpus[0].compute_capability
        elif board.profile:
            board.compute_capability = load_device_spec(board.profile).compute_capability
        devices.append(board)
        gpus = [g for g in gpus if g.id != board.id]
    return devices + gpus


def _pick(device: str, devices: list[DetectedDevice]) -> DetectedDevice:
    if device == "auto":
        for kind in ("jetson", "gpu", "cpu"):
            for d in devices:
                if d.kind == kind:
                    return d
    wanted = "cuda:0" if device == "cuda" else device
    for d in devices:
        if d.id == wanted:
            return d
    known = ", ".join(["auto", *(d.id for d in devices)])
    raise UserInputError(f"No device {device!r} on this machine; choose one of {known} "
                         "(run `edgeprof devices`).")


def host_spec(device: str = "auto", bandwidth_seconds: float = 1.0,
              devices: list[DetectedDevice] | None = None) -> DeviceSpec:
    """The spec of ``device`` here: a shipped profile when the hardware matches one, else
    derived (GPU) or measured + estimated (CPU: bandwidth measured now). ``devices``: an
    earlier ``detect()`` to reuse."""
    dev = _pick(device, detect() if devices is None else devices)
    if dev.profile:
        return load_device_spec(dev.profile)
    if dev.kind == "cpu":
        from edgeprof.device._bandwidth import measure_memory_bandwidth

        bw = measure_memory_bandwidth(seconds=bandwidth_seconds)
        return cpu_spec(bw.gbs, f"{bw.method}, {bw.size_bytes} B × {bw.repeats}")
    return derived_gpu_spec(dev)


def device_row_name(device: str, devices: list[DetectedDevice] | None = None) -> str:
    """The ``device`` column for rows measured on ``device`` (``cpu-<model>``, a profile)."""
    dev = _pick(device, detect() if devices is None else devices)
    if dev.kind == "cpu":
        return f"cpu-{slug(dev.name)}"
    return dev.profile or f"gpu-{slug(dev.name)}"


def fingerprint(device: str = "cpu",
                devices: list[DetectedDevice] | None = None) -> dict[str, Any]:
    """Identity of this machine for ``run.json``; ``CHECKED_FINGERPRINT_KEYS`` must match
    for a sweep to resume into an existing folder."""
    devices = detect() if devices is None else devices
    cpu = read_cpu()
    board = next((d for d in devices if d.kind == "jetson"), None)
    gpus = [d for d in devices if d.kind == "gpu"]
    return {
        "cpu_model": cpu.model,
        "cpu_logical_cores": cpu.logical_cores,
        "memory_gib": round((cpu.memory_bytes or 0) / 2**30),
        "gpus": [g.name for g in gpus],
        "jetson_model": board.name if board else None,
        "jetson_profile": board.profile if board else None,
        "l4t": board.details.get("l4t") if board else None,
        "cpu_mhz": cpu.mhz,
        "arch": cpu.arch,
        "hostname": platform.node(),
        "kernel": platform.release(),
        "device": device,
    }


def fingerprint_mismatch(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Checked keys whose values differ (empty: the same machine)."""
    return [k for k in CHECKED_FINGERPRINT_KEYS if k in old and old.get(k) != new.get(k)]
