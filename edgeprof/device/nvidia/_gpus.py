"""NVIDIA GPUs: CUDA enumeration (torch.cuda, else NVML), the shipped profile a card maps to
(``GPU_MODELS``), and a spec derived from the compute capability for cards without one."""

from __future__ import annotations

import re
from typing import Any

from edgeprof.catalog import NVFP4_MIN_CC
from edgeprof.device._spec import DeviceSpec, list_device_names
from edgeprof.device._types import DetectedDevice, slug

# CUDA device name (lower case) → profile; each pattern is a regex searched in the name.
GPU_MODELS: tuple[tuple[str, str], ...] = (
    (r"h100 ?nvl", "h100-nvl"),  # first: its name may also say HBM3
    (r"h100.*(sxm|hbm3)", "h100-sxm"),
    (r"(?<!g)h200(?!.*nvl)", "h200-sxm"),  # not the NVL (PCIe, 600 W) card, nor a GH200
    (r"a100.*sxm4.*80", "a100-sxm4-80gb"),
    (r"(?<!g)b200\b", "b200-sxm"),  # CUDA says "NVIDIA B200"; a GB200 is another part
    (r"rtx 4090", "rtx-4090"),
    (r"rtx 4060(?! ti)", "rtx-4060"),
    (r"rtx 3090(?! ti)", "rtx-3090"),
    (r"rtx a6000", "rtx-a6000"),
    (r"nvidia l4$|^l4$", "l4"),
    (r"\bl40s\b", "l40s"),
    (r"\bl40\b", "l40"),
)

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
    if cc >= NVFP4_MIN_CC:
        quants.append("nvfp4")
    bw = dev.details.get("spec_bandwidth_gbs")
    sources = {"native_quants": f"derived from compute capability {dev.compute_capability} "
                                "(FP8 needs ≥ 8.9, BF16 ≥ 8.0, NVFP4 ≥ "
                                f"{NVFP4_MIN_CC[0]}.{NVFP4_MIN_CC[1]})"}
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
