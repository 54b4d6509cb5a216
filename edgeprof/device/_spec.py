"""Device specs: memory, bandwidth, peak compute per data type, native quant formats, and
(for Jetson boards) power modes. Each figure names its source; a spec figure is labeled
``spec``, a figure edgeprof measured here is labeled ``measured``.

Shipped specs live in the top-level ``profiles/`` folder, one YAML per device, under the
``device:`` key of a profile (fitted models, if any, sit beside it under ``fits:``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from edgeprof.errors import UserInputError
from edgeprof.units import fold_name


class PowerMode(BaseModel):
    """One nvpmodel power mode of a Jetson board."""

    model_config = ConfigDict(extra="allow")

    name: str  # e.g. MAXN, 30W
    id: int | None = None  # nvpmodel -m <id>
    power_cap_w: float | None = None
    gpu_max_freq_mhz: float | None = None
    cpu_cores_online: int | None = None
    cpu_max_freq_mhz: float | None = None
    emc_max_freq_mhz: float | None = None
    memory_bandwidth_gbs: float | None = Field(
        default=None, description="peak bandwidth in this mode if the EMC clock is capped"
    )
    gpu_tflops_scale: float | None = Field(
        default=None, description="GPU peak compute relative to the top mode (clock ratio)"
    )
    source: str | None = None


class DeviceSpec(BaseModel):
    """What the hardware can do on paper (or as measured here, per ``label``)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="profile name, e.g. jetson-agx-orin-64gb")
    display_name: str
    kind: str = Field(description="jetson | gpu | cpu")
    memory_bytes: int = Field(gt=0)
    memory_reserve_bytes: int | None = Field(
        default=None, ge=0, description="unified memory not available to the model: OS, "
        "carveouts, CUDA context (see sources.memory_reserve_bytes)")
    memory_bandwidth_gbs: float = Field(gt=0, description="peak DRAM bandwidth, GB/s")
    peak_tflops: dict[str, float] = Field(
        default_factory=dict,
        description="dense peak compute per data type (fp32, fp16, bf16, fp8, int8), TFLOPS/TOPS",
    )
    native_quants: list[str] = Field(default_factory=list)
    compute_capability: str | None = None
    tdp_w: float | None = None
    idle_power_w: float | None = None
    power_modes: list[PowerMode] = Field(default_factory=list)
    default_power_mode: str | None = None
    label: str = Field(default="spec", description="spec (from a data sheet) or measured")
    sources: dict[str, str] = Field(default_factory=dict, description="figure -> source")
    notes: str | None = None

    @property
    def usable_memory_bytes(self) -> int:
        """``memory_bytes`` less the reserve (recommend's default --memory-limit)."""
        return max(1, self.memory_bytes - (self.memory_reserve_bytes or 0))

    def power_mode(self, name: str | None) -> PowerMode | None:
        if name is None:
            return None
        def key(text: str) -> str:  # "MAXN SUPER", "maxn-super" and "MAXN_SUPER" are one mode
            return fold_name(text).replace("-", "")

        for mode in self.power_modes:
            if key(mode.name) == key(name) or str(mode.id) == name.strip():
                return mode
        known = ", ".join(m.name for m in self.power_modes) or "none"
        raise UserInputError(f"{self.name} has no power mode {name!r}; known modes: {known}.")


def profiles_dir() -> Path:
    """The shipped profiles folder (``EDGEPROF_PROFILES`` overrides)."""
    env = os.environ.get("EDGEPROF_PROFILES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "profiles"


def list_device_names() -> list[str]:
    folder = profiles_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


# A bare family name that several profiles start with, but that published figures use for one
# of them: "H100" is the SXM5 part in AIConfigurator's systems (h100_sxm) and in NVIDIA's DLI
# datasets ("H100 80GB HBM3"); the NVL is always named as such.
DEFAULT_VARIANTS: dict[str, str] = {"h100": "h100-sxm"}


def resolve_device_name(name: str) -> str:
    """The shipped profile a device name means: the exact name, or the one shipped name it
    spells with other case, spaces or underscores, without the ``nvidia-``/``jetson-`` prefix
    or without the trailing variant (``H100 SXM`` → ``h100-sxm``, ``agx-thor`` →
    ``jetson-agx-thor``); a family name in ``DEFAULT_VARIANTS`` (``h100``) means its variant.
    A name that fits several (``jetson-agx-orin``) or none is a one-line error naming the
    choices."""
    names = list_device_names()
    if name in names:
        return name
    key = fold_name(name).removeprefix("nvidia-")
    if DEFAULT_VARIANTS.get(key) in names:
        return DEFAULT_VARIANTS[key]
    keys = {key, f"jetson-{key}"}
    exact = [n for n in names if n in keys]
    hits = exact or [n for n in names if any(n.startswith(f"{k}-") for k in keys)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UserInputError(f"Device {name!r} fits several profiles: {', '.join(hits)}; "
                             "pass one of them.")
    known = ", ".join(names) or "none shipped"
    raise UserInputError(f"Unknown device {name!r}; known: {known}.")


def load_device_spec(name_or_path: str | Path) -> DeviceSpec:
    """A device spec from a shipped profile name (see :func:`resolve_device_name`) or a
    profile/spec YAML path (read by :func:`edgeprof.device._spec_file.read_device_spec_file`:
    typed, versioned)."""
    path = Path(name_or_path)
    if not path.suffix:
        path = profiles_dir() / f"{resolve_device_name(str(name_or_path))}.yaml"
    if not path.exists():
        names = ", ".join(list_device_names()) or "none shipped"
        raise UserInputError(f"Unknown device {str(name_or_path)!r}; known: {names}.")
    # Parsed once per file content (a --points file maps every row's power mode through
    # here); a copy each call, since callers may change their spec.
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    return _read_spec(path.resolve(), digest).model_copy(deep=True)


@functools.lru_cache(maxsize=64)
def _read_spec(path: Path, digest: str) -> DeviceSpec:
    """The parsed spec of ``path`` while its bytes hash to ``digest``."""
    from edgeprof.device._spec_file import read_device_spec_file

    return read_device_spec_file(path)
