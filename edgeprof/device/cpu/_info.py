"""The CPU: model, cores, clock and ISA flags from ``/proc/cpuinfo`` and cpufreq; its
estimated peak compute, native quant formats and spec; current clocks."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

from edgeprof.device._fs import procfs_root, read_int, read_meminfo, read_raw, sysfs_root
from edgeprof.device._spec import DeviceSpec
from edgeprof.device._types import DetectedDevice, slug


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
    """``MemTotal`` of ``/proc/meminfo`` in bytes, or ``None``."""
    return read_meminfo().get("MemTotal")


def read_cpu() -> CpuInfo:
    """CPU model, cores, clock and ISA flags from ``<procfs>/cpuinfo`` (and cpufreq)."""
    text = read_raw(procfs_root() / "cpuinfo") or ""
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
    khz = read_raw(sysfs_root() / "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
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


def cpu_freqs_mhz(root: Path | None = None) -> dict[str, float]:
    """Current clock per CPU in MHz (``cpufreq/scaling_cur_freq``, kHz)."""
    out = {}
    base = (root or sysfs_root()) / "devices/system/cpu"
    for cpu in sorted(base.glob("cpu[0-9]*"), key=lambda p: int(p.name[3:])):
        khz = read_int(cpu / "cpufreq/scaling_cur_freq")
        if khz is not None:
            out[cpu.name] = khz / 1e3
    return out
