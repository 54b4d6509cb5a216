"""What machine this is: the CPU, CUDA GPUs (torch or NVML) and a Jetson board.

``detect()`` lists the devices; ``host_spec(device)`` turns one into a :class:`DeviceSpec`:
a Jetson board or a known GPU maps to its shipped profile (``JETSON_MODELS`` /
``GPU_MODELS``), an unknown GPU is derived from its compute capability, and the CPU gets a
spec whose bandwidth is **measured** here and whose peak compute is **estimated** from cores ×
clock × FLOPs per cycle of its vector ISA. Roots are configurable for replay:
``EDGEPROF_SYSFS_ROOT``, ``EDGEPROF_PROCFS_ROOT``, ``EDGEPROF_ETC_ROOT``.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgeprof.device.spec import DeviceSpec, list_device_names, load_device_spec
from edgeprof.errors import UserInputError


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

# CUDA device name (lower case) → profile; each pattern is a regex searched in the name.
GPU_MODELS: tuple[tuple[str, str], ...] = (
    (r"h100.*(sxm|hbm3)", "h100-sxm"),
    (r"a100.*sxm4.*80", "a100-sxm4-80gb"),
    (r"rtx 4090", "rtx-4090"),
    (r"rtx 4060(?! ti)", "rtx-4060"),
    (r"rtx 3090(?! ti)", "rtx-3090"),
    (r"rtx a6000", "rtx-a6000"),
    (r"nvidia l4$|^l4$", "l4"),
)

# Fingerprint keys whose change means "another machine" (pyperf: not merged).
CHECKED_FINGERPRINT_KEYS = ("cpu_model", "cpu_logical_cores", "memory_gib", "gpus",
                            "jetson_model", "jetson_profile")


@dataclass
class DetectedDevice:
    """One device found on this machine. ``id`` is what ``--device`` takes."""

    id: str  # cpu | cuda:0 | ...
    kind: str  # cpu | gpu | jetson
    name: str
    memory_bytes: int | None = None
    profile: str | None = None  # shipped profile name, when one matches
    compute_capability: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- roots, files
def _root(var: str, default: str) -> Path:
    return Path(os.environ.get(var) or default)


def procfs() -> Path:
    return _root("EDGEPROF_PROCFS_ROOT", "/proc")


def sysfs() -> Path:
    return _root("EDGEPROF_SYSFS_ROOT", "/sys")


def etc() -> Path:
    return _root("EDGEPROF_ETC_ROOT", "/etc")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


# ------------------------------------------------------------------------------------ CPU
@dataclass(frozen=True)
class CpuInfo:
    model: str
    logical_cores: int
    physical_cores: int
    mhz: float | None
    flags: frozenset[str]
    memory_bytes: int | None
    arch: str


# Arm ``CPU part`` ids (cpuinfo has no model name on Arm).
ARM_CPU_PARTS = {"0xd08": "Cortex-A72", "0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1",
                 "0xd40": "Neoverse-V1", "0xd42": "Cortex-A78AE", "0xd4f": "Neoverse-V2",
                 "0xd83": "Neoverse-V3AE", "0xd84": "Neoverse-V3"}


def read_meminfo_bytes() -> int | None:
    text = _read(procfs() / "meminfo") or ""
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.M)
    return int(match.group(1)) * 1024 if match else None


def read_cpu() -> CpuInfo:
    """CPU model, cores, clock and ISA flags from ``<procfs>/cpuinfo`` (and cpufreq)."""
    text = _read(procfs() / "cpuinfo") or ""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    fields: list[dict[str, str]] = []
    for block in blocks:
        entry = {}
        for line in block.splitlines():
            if ":" in line:
                key, _, value = line.partition(":")
                entry[key.strip().lower()] = value.strip()
        fields.append(entry)
    procs = [f for f in fields if "processor" in f]
    first = procs[0] if procs else (fields[0] if fields else {})
    part = ARM_CPU_PARTS.get((first.get("cpu part") or "").lower())
    model = (first.get("model name") or (f"ARM {part}" if part else None)
             or first.get("hardware") or first.get("cpu model")
             or platform.processor() or platform.machine() or "unknown cpu")
    logical = len(procs) or os.cpu_count() or 1
    cores = {(f.get("physical id", "0"), f.get("core id", f.get("processor"))) for f in procs}
    physical = len(cores) if procs and "core id" in first else logical
    flags = frozenset((first.get("flags") or first.get("features") or "").split())
    mhz = _max_mhz() or _float(first.get("cpu mhz"))
    return CpuInfo(model, logical, physical, mhz, flags, read_meminfo_bytes(), platform.machine())


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _max_mhz() -> float | None:
    khz = _read(sysfs() / "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
    value = _float(khz.strip()) if khz else None
    return value / 1000 if value else None


def cpu_flops_per_cycle(flags: frozenset[str]) -> dict[str, float]:
    """Dense FLOPs (or int8 ops) per core per cycle by ISA, assuming two FMA pipes.

    An estimate: AVX-512 parts with one FMA pipe reach half of it; AMX tiles are counted
    at their per-core rate (1024 bf16, 2048 int8 per cycle).
    """
    if "avx512f" in flags:
        fp32 = 2 * 16 * 2.0
    elif "avx2" in flags and "fma" in flags:
        fp32 = 2 * 8 * 2.0
    elif "avx" in flags:
        fp32 = 2 * 8.0
    elif "asimd" in flags or "neon" in flags:
        fp32 = 2 * 4 * 2.0
    else:
        fp32 = 4.0
    out = {"fp32": fp32}
    if "amx_bf16" in flags:
        out["bf16"] = 1024.0
    elif "avx512_bf16" in flags or "bf16" in flags:
        out["bf16"] = 2 * fp32
    if "amx_int8" in flags:
        out["int8"] = 2048.0
    elif {"avx512_vnni", "avx_vnni", "asimddp", "i8mm"} & flags:
        out["int8"] = 4 * fp32
    if "amx_fp16" in flags:
        out["fp16"] = 1024.0
    elif "avx512_fp16" in flags or "fphp" in flags:
        out["fp16"] = 2 * fp32
    for dtype in ("bf16", "fp16", "int8"):  # no native instructions: widened to fp32
        out.setdefault(dtype, fp32)
    return out


def cpu_native_quants(flags: frozenset[str]) -> list[str]:
    """Formats with real low-precision arithmetic on this CPU (fp8 never: no CPU has it)."""
    quants = ["fp32"]
    if {"avx512_bf16", "amx_bf16", "bf16"} & flags:
        quants.append("bf16")
    if {"avx512_fp16", "amx_fp16", "fphp"} & flags:
        quants.append("fp16")
    if {"avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm", "avx2"} & flags:
        quants.append("int8")
    quants.append("int4")  # weight-only int4 kernels (dequantize in registers) exist everywhere
    return quants


def cpu_device(cpu: CpuInfo | None = None) -> DetectedDevice:
    cpu = cpu or read_cpu()
    return DetectedDevice(
        id="cpu", kind="cpu", name=cpu.model, memory_bytes=cpu.memory_bytes,
        profile=None,
        details={"logical_cores": cpu.logical_cores, "physical_cores": cpu.physical_cores,
                 "mhz": cpu.mhz, "arch": cpu.arch},
    )


def cpu_spec(bandwidth_gbs: float, method: str = "measured", cpu: CpuInfo | None = None,
             ) -> DeviceSpec:
    """A CPU spec: bandwidth as given (measured here), peak compute estimated."""
    cpu = cpu or read_cpu()
    per_cycle = cpu_flops_per_cycle(cpu.flags)
    ghz = (cpu.mhz or 0.0) / 1000
    peak = {k: round(cpu.physical_cores * ghz * v / 1000, 4) for k, v in per_cycle.items()
            if ghz > 0}
    return DeviceSpec(
        name=f"cpu-{slug(cpu.model)}", display_name=cpu.model, kind="cpu",
        memory_bytes=cpu.memory_bytes or 1, memory_bandwidth_gbs=bandwidth_gbs,
        peak_tflops=peak, native_quants=cpu_native_quants(cpu.flags), label="measured",
        sources={
            "memory_bandwidth_gbs": f"measured here ({method})",
            "peak_tflops": f"estimated: {cpu.physical_cores} cores × {ghz:.2f} GHz × "
                           "FLOPs/cycle of the ISA flags (two FMA pipes assumed; a dtype "
                           "without native instructions counted at the fp32 rate)",
            "memory_bytes": "MemTotal in /proc/meminfo",
        },
        notes="peak_tflops estimated, not measured",
    )


# --------------------------------------------------------------------------------- Jetson
def jetson_board() -> DetectedDevice | None:
    """The Jetson board from the device tree and ``nv_tegra_release``, or None."""
    raw = _read(procfs() / "device-tree/model")
    if raw is None or "jetson" not in raw.lower():
        return None
    model = raw.replace("\x00", "").strip()
    compatible = (_read(procfs() / "device-tree/compatible") or "").replace("\x00", " ")
    release = _read(etc() / "nv_tegra_release") or ""
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


# ------------------------------------------------------------------------------------ GPUs
def gpu_profile(name: str) -> str | None:
    lower = name.lower().strip()
    shipped = set(list_device_names())
    for pattern, profile in GPU_MODELS:
        if re.search(pattern, lower) and profile in shipped:
            return profile
    return None


def cuda_gpus() -> list[DetectedDevice]:
    """CUDA GPUs through torch.cuda, else NVML (pynvml); empty without either."""
    found = _torch_gpus()
    return found if found is not None else _nvml_gpus()


def _torch_gpus() -> list[DetectedDevice] | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    out = []
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        cc = f"{p.major}.{p.minor}"
        out.append(DetectedDevice(
            id=f"cuda:{i}", kind="gpu", name=p.name, memory_bytes=int(p.total_memory),
            profile=gpu_profile(p.name), compute_capability=cc,
            details={"sm_count": p.multi_processor_count, "via": "torch.cuda"}))
    return out


def _nvml_gpus() -> list[DetectedDevice]:
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver / no GPU: NVML raises its own error types
        return []
    out = []
    try:
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(h)
            name = name.decode() if isinstance(name, bytes) else str(name)
            mem = int(pynvml.nvmlDeviceGetMemoryInfo(h).total)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(h)
            details: dict[str, Any] = {"via": "nvml"}
            try:
                bus = pynvml.nvmlDeviceGetMemoryBusWidth(h)
                mclk = pynvml.nvmlDeviceGetMaxClockInfo(h, pynvml.NVML_CLOCK_MEM)
                details["spec_bandwidth_gbs"] = round(bus / 8 * mclk * 2 / 1000, 1)
            except Exception:  # older drivers lack these queries
                pass
            out.append(DetectedDevice(
                id=f"cuda:{i}", kind="gpu", name=name, memory_bytes=mem,
                profile=gpu_profile(name), compute_capability=f"{major}.{minor}",
                details=details))
    finally:
        pynvml.nvmlShutdown()
    return out


_FP32_LANES = {(7, 0): 64, (7, 5): 64, (8, 0): 64}  # FP32 lanes per SM; 128 elsewhere


def derived_gpu_spec(dev: DetectedDevice) -> DeviceSpec:
    """A spec for a GPU without a shipped profile, from its compute capability."""
    major, minor = (int(x) for x in (dev.compute_capability or "0.0").split("."))
    cc = (major, minor)
    quants = ["fp32", "fp16"]
    if cc >= (8, 0):
        quants.append("bf16")
    if cc >= (8, 9):
        quants.append("fp8")
    if cc >= (7, 5):
        quants.append("int8")
    quants.append("int4")
    bw = dev.details.get("spec_bandwidth_gbs")
    sources = {"native_quants": f"derived from compute capability {dev.compute_capability} "
                                "(FP8 needs ≥ 8.9, BF16 ≥ 8.0)"}
    if bw:
        sources["memory_bandwidth_gbs"] = "NVML bus width × max memory clock (spec)"
    else:
        bw = 1.0
        sources["memory_bandwidth_gbs"] = "unknown (placeholder 1 GB/s); run a sweep and fit"
    peak: dict[str, float] = {}
    sm, mhz = dev.details.get("sm_count"), dev.details.get("max_mhz")
    if sm and mhz:
        peak["fp32"] = round(sm * _FP32_LANES.get(cc, 128) * 2 * mhz / 1e6, 2)
        sources["peak_tflops"] = "estimated: SMs × FP32 lanes × 2 × clock"
    return DeviceSpec(name=f"gpu-{slug(dev.name)}", display_name=dev.name, kind="gpu",
                      memory_bytes=dev.memory_bytes or 1, memory_bandwidth_gbs=bw,
                      peak_tflops=peak, native_quants=quants,
                      compute_capability=dev.compute_capability, label="spec",
                      sources=sources, notes="derived from compute capability; no profile")


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


def host_spec(device: str = "auto", bandwidth_seconds: float = 1.0) -> DeviceSpec:
    """The spec of ``device`` here: a shipped profile when the hardware matches one, else
    derived (GPU) or measured + estimated (CPU: bandwidth measured now)."""
    dev = _pick(device, detect())
    if dev.profile:
        return load_device_spec(dev.profile)
    if dev.kind == "cpu":
        from edgeprof.device.bandwidth import measure_memory_bandwidth

        bw = measure_memory_bandwidth(seconds=bandwidth_seconds)
        return cpu_spec(bw.gbs, f"{bw.method}, {bw.size_bytes} B × {bw.repeats}")
    return derived_gpu_spec(dev)


def device_row_name(device: str) -> str:
    """The ``device`` column for rows measured on ``device`` (``cpu-<model>``, a profile)."""
    devices = detect()
    dev = _pick(device, devices)
    if dev.kind == "cpu":
        return f"cpu-{slug(dev.name)}"
    return dev.profile or f"gpu-{slug(dev.name)}"


def fingerprint(device: str = "cpu") -> dict[str, Any]:
    """Identity of this machine for ``run.json``; ``CHECKED_FINGERPRINT_KEYS`` must match
    for a sweep to resume into an existing folder."""
    devices = detect()
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
