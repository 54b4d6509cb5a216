"""Which kernel each quant format takes on a platform, decided without loading a model.

The platform (CPU flags, CUDA compute capability, available aten ops) is a plain value so
the decision is tested with fakes: ``plan_quant("fp8", Platform.cuda((8, 7)))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeprof.catalog._quant import get_quant
from edgeprof.table._schema import QuantImpl

# aten ops the native paths call; a platform lacking one falls back to the emulated path.
INT8_OP = "_int_mm"
INT8_DYNAMIC_OP = "quantized::linear_dynamic"  # fbgemm / x86 int8 GEMM (AVX2, AVX-512 VNNI)
INT4_CPU_OPS = ("_convert_weight_to_int4pack_for_cpu", "_weight_int4pack_mm_for_cpu")
INT4_CUDA_OPS = ("_convert_weight_to_int4pack", "_weight_int4pack_mm")
FP8_OP = "_scaled_mm"
ALL_OPS = (INT8_OP, INT8_DYNAMIC_OP, *INT4_CPU_OPS, *INT4_CUDA_OPS, FP8_OP)

FP8_MIN_CC = (8, 9)  # Ada / Hopper: FP8 tensor cores
BF16_MIN_CC = (8, 0)  # Ampere
INT4_TINYGEMM_MIN_CC = (8, 0)  # tinygemm kernels need bf16 tensor cores
INT8_MIN_CC = (7, 5)  # int8 tensor cores (cuBLASLt IMMA)


@dataclass(frozen=True)
class Platform:
    """What a device offers: ``kind`` cpu or cuda, CUDA capability, CPU flags, aten ops."""

    kind: str
    capability: tuple[int, int] | None = None
    cpu_flags: frozenset[str] = field(default_factory=frozenset)
    ops: frozenset[str] = frozenset(ALL_OPS)

    @classmethod
    def cuda(cls, capability: tuple[int, int], ops: frozenset[str] = frozenset(ALL_OPS)
             ) -> Platform:
        return cls("cuda", capability=capability, ops=ops)

    @classmethod
    def cpu(cls, flags: frozenset[str] = frozenset(), ops: frozenset[str] = frozenset(ALL_OPS)
            ) -> Platform:
        return cls("cpu", cpu_flags=flags, ops=ops)


@dataclass(frozen=True)
class KernelPlan:
    """The path a format takes: native kernel or emulation, the kernel's name, the dtypes."""

    quant: str
    impl: QuantImpl
    kernel: str
    reason: str
    dense_dtype: str  # activations, embeddings, norms: "float32" | "bfloat16" | "float16"
    method: str  # "dense" | "int8_w8a8" | "int8_dynamic" | "int4_cpu" | "int4_tinygemm"
    #              | "fp8_scaled_mm" | "none" (not runnable: impl NONE)
    #              | "dequant" (emulated: stored low-precision, dequantized per matmul)


def detect_platform(device: str) -> Platform:
    """The platform of a torch device string (``cpu``, ``cuda``, ``cuda:1``)."""
    import torch

    ops = frozenset(op for op in ALL_OPS if _has_op(op))
    if device.startswith("cuda"):
        return Platform.cuda(torch.cuda.get_device_capability(torch.device(device)), ops)
    return Platform.cpu(cpu_flags(), ops)


def _has_op(name: str) -> bool:
    import torch

    if name == FP8_OP:
        return hasattr(torch, name)
    if name == INT8_DYNAMIC_OP:
        engines = set(torch.backends.quantized.supported_engines)
        return hasattr(torch.ops.quantized, "linear_dynamic") and bool({"x86", "fbgemm"} & engines)
    return hasattr(torch.ops.aten, name)


def cpu_flags() -> frozenset[str]:
    """CPU feature flags from /proc/cpuinfo (empty where unreadable)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def plan_quant(quant: str, platform: Platform) -> KernelPlan:
    """The kernel path ``quant`` takes on ``platform`` (never raises for a known format)."""
    q = get_quant(quant).name
    if q == "nvfp4":
        return KernelPlan(q, QuantImpl.NONE, "", "the torch engine has no NVFP4 kernels; "
                          "TensorRT-LLM / TensorRT Edge-LLM run NVFP4 on Blackwell (sm ≥ 10.0)",
                          "bfloat16", "none")
    if platform.kind == "cuda":
        return _plan_cuda(q, platform)
    return _plan_cpu(q, platform)


def _plan_cpu(q: str, p: Platform) -> KernelPlan:
    native, emulated = QuantImpl.NATIVE, QuantImpl.EMULATED
    bf16_isa = bool({"avx512_bf16", "amx_bf16"} & p.cpu_flags)
    fp16_isa = bool({"avx512_fp16", "amx_fp16"} & p.cpu_flags)
    if q == "fp32":
        return KernelPlan(q, native, "aten.linear fp32 (oneDNN/MKL sgemm)", "", "float32", "dense")
    if q == "bf16":
        why = "avx512_bf16 dot products" if bf16_isa else "bf16 storage, fp32 arithmetic"
        return KernelPlan(q, native, "aten.linear bf16 (oneDNN)", why, "bfloat16", "dense")
    if q == "fp16":
        why = "avx512_fp16 arithmetic" if fp16_isa else "fp16 storage, fp32 arithmetic (F16C)"
        return KernelPlan(q, native, "aten.linear fp16 (oneDNN)", why, "float16", "dense")
    if q == "int8":
        isa = "avx512_vnni" if "avx512_vnni" in p.cpu_flags else "no VNNI"
        if INT8_DYNAMIC_OP in p.ops:
            # fbgemm's int8 GEMM: ~2x faster than fp32 here, where aten._int_mm on a CPU
            # runs a reference loop (~100x slower than fp32 for a prefill-sized GEMM).
            return KernelPlan(q, native, "quantized::linear_dynamic (fbgemm/x86 int8 GEMM)",
                              f"W8A8, per-channel weights, dynamic per-row activations; {isa}",
                              "bfloat16", "int8_dynamic")
        if INT8_OP in p.ops:
            return KernelPlan(q, native, "aten._int_mm (int8 GEMM, int32 accumulate)",
                              f"W8A8, dynamic per-token activations; {isa}", "bfloat16",
                              "int8_w8a8")
        return _dequant(q, "torch lacks aten._int_mm")
    if q == "int4":
        if all(op in p.ops for op in INT4_CPU_OPS):
            return KernelPlan(q, native, "aten._weight_int4pack_mm_for_cpu",
                              "W4A16, groups of 128, bf16 scales and zeros", "bfloat16",
                              "int4_cpu")
        return _dequant(q, "torch lacks aten._weight_int4pack_mm_for_cpu")
    # fp8: no CPU has FP8 arithmetic; torch._scaled_mm on CPU converts in software.
    return KernelPlan(q, emulated, "e4m3 weights dequantized to bf16 + aten.linear",
                      "no FP8 arithmetic on this CPU; labeled emulated", "bfloat16", "dequant")


def _plan_cuda(q: str, p: Platform) -> KernelPlan:
    cc = p.capability or (0, 0)
    native = QuantImpl.NATIVE
    bf16_ok = cc >= BF16_MIN_CC
    half = "bfloat16" if bf16_ok else "float16"
    if q == "fp32":
        return KernelPlan(q, native, "aten.linear fp32 (cuBLAS)", "", "float32", "dense")
    if q == "fp16":
        return KernelPlan(q, native, "aten.linear fp16 (cuBLAS)", "", "float16", "dense")
    if q == "bf16":
        if bf16_ok:
            return KernelPlan(q, native, "aten.linear bf16 (cuBLAS)", "", "bfloat16", "dense")
        return KernelPlan(q, QuantImpl.EMULATED, "aten.linear bf16 (emulated by torch)",
                          f"compute capability {cc[0]}.{cc[1]} < 8.0 lacks bf16 tensor cores",
                          "bfloat16", "dense")
    if q == "int8":
        if cc >= INT8_MIN_CC and INT8_OP in p.ops:
            return KernelPlan(q, native, "aten._int_mm (cuBLASLt int8)",
                              "W8A8, dynamic per-token activations", half, "int8_w8a8")
        return _dequant(q, f"compute capability {cc[0]}.{cc[1]} < 7.5 lacks int8 tensor cores",
                        half)
    if q == "int4":
        if cc >= INT4_TINYGEMM_MIN_CC and all(op in p.ops for op in INT4_CUDA_OPS):
            return KernelPlan(q, native, "aten._weight_int4pack_mm (tinygemm)",
                              "W4A16, groups of 128", "bfloat16", "int4_tinygemm")
        return _dequant(q, f"tinygemm int4 needs compute capability ≥ 8.0, have {cc[0]}.{cc[1]}",
                        half)
    if cc >= FP8_MIN_CC and FP8_OP in p.ops:
        return KernelPlan(q, native, "torch._scaled_mm (e4m3, rowwise scales)",
                          "W8A8 fp8, dynamic per-token activations", "bfloat16", "fp8_scaled_mm")
    return _dequant(q, f"FP8 needs compute capability ≥ 8.9, have {cc[0]}.{cc[1]}", half)


def _dequant(q: str, why: str, dense: str = "bfloat16") -> KernelPlan:
    return KernelPlan(q, QuantImpl.EMULATED, f"{q} weights dequantized per matmul + aten.linear",
                      f"{why}; labeled emulated", dense, "dequant")
