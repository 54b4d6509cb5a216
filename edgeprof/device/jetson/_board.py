"""Which Jetson board this is: the device tree's model and ``compatible`` strings, the L4T
release and the memory, mapped to a shipped profile (``JETSON_MODELS``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgeprof.device._fs import etc_root, procfs_root, read_raw
from edgeprof.device._spec import list_device_names, load_device_spec
from edgeprof.device._types import DetectedDevice
from edgeprof.device.cpu._info import read_meminfo_bytes


@dataclass(frozen=True)
class JetsonModel:
    """One row of the board table: a profile and how to recognise its board."""

    profile: str
    keywords: tuple[str, ...]  # all must appear in the device-tree model string (lower case)
    modules: tuple[str, ...] = ()  # module part numbers in device-tree ``compatible``


# Board → profile. Module part numbers decide first; else the model string, then the memory
# (smallest profile memory that holds MemTotal) tells variants with one model string apart.
JETSON_MODELS: tuple[JetsonModel, ...] = (
    JetsonModel("jetson-agx-thor", ("agx thor",), ("p3834-0008",)),
    JetsonModel("jetson-agx-orin-32gb", ("agx orin",), ("p3701-0000", "p3701-0004")),
    JetsonModel("jetson-agx-orin-64gb", ("agx orin",), ("p3701-0005",)),
    JetsonModel("jetson-orin-nx-16gb", ("orin nx",), ("p3767-0000",)),
    JetsonModel("jetson-orin-nx-8gb", ("orin nx",), ("p3767-0001",)),
    JetsonModel("jetson-orin-nano-8gb", ("orin nano",), ("p3767-0003", "p3767-0005")),
    JetsonModel("jetson-orin-nano-4gb", ("orin nano",), ("p3767-0004",)),
)

def jetson_board() -> DetectedDevice | None:
    """The Jetson board from the device tree and ``nv_tegra_release``, or None."""
    raw = read_raw(procfs_root() / "device-tree/model")
    if raw is None or "jetson" not in raw.lower():
        return None
    model = raw.replace("\x00", "").strip()
    compatible = (read_raw(procfs_root() / "device-tree/compatible") or "").replace("\x00", " ")
    release = read_raw(etc_root() / "nv_tegra_release") or ""
    l4t = None
    match = re.search(r"R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)", release)
    if match:
        l4t = f"{match.group(1)}.{match.group(2)}"
    memory = read_meminfo_bytes()
    return DetectedDevice(
        id="cuda:0", kind="jetson", name=model, memory_bytes=memory,
        profile=jetson_profile(model, compatible, memory),
        details={"l4t": l4t, "compatible": compatible.split(), "nv_tegra_release":
                 release.strip().splitlines()[0] if release.strip() else None},
    )


def jetson_profile(model: str, compatible: str = "", memory_bytes: int | None = None,
                   ) -> str | None:
    """The shipped profile for a board (see ``JETSON_MODELS``), None when unknown."""
    shipped = set(list_device_names())
    for row in JETSON_MODELS:
        if any(m in compatible for m in row.modules) and row.profile in shipped:
            return row.profile
    lower = model.lower()
    rows = [r for r in JETSON_MODELS
            if all(k in lower for k in r.keywords) and r.profile in shipped]
    if not rows:
        return None
    if len(rows) == 1 or memory_bytes is None:
        return rows[0].profile
    sized = sorted((load_device_spec(r.profile).memory_bytes, r.profile) for r in rows)
    for mem, name in sized:
        if memory_bytes <= mem:
            return name
    return sized[-1][1]
