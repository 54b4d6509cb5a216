"""Quantized replacements for ``nn.Linear``, each calling one real torch kernel.

- :class:`Int8Linear` — W8A8: int8 weights (per output channel, symmetric), activations
  quantized per token at run time, ``aten._int_mm`` (int8 × int8 → int32), rescaled.
- :class:`DynamicInt8Linear` — W8A8 on a CPU through PyTorch's dynamic quantized Linear
  (``quantized::linear_dynamic``, the fbgemm/x86 backend's int8 GEMM).
- :class:`Int4Linear` — W4A16: 4-bit weights in groups of 128 with a scale and a zero per
  group (tinygemm convention ``w = (q - 8) · scale + zero``), packed by
  ``aten._convert_weight_to_int4pack[_for_cpu]`` and run by ``aten._weight_int4pack_mm[_for_cpu]``.
- :class:`Fp8Linear` — e4m3 weights and per-token e4m3 activations, ``torch._scaled_mm``
  with rowwise scales (CUDA, compute capability ≥ 8.9).
- :class:`DequantLinear` — the labeled emulation: weights stored in the low-precision format
  and dequantized to the dense dtype inside every matmul.

Only the projections inside decoder layers are replaced; embeddings, the LM head and norms
stay dense, matching :mod:`edgeprof.catalog._quant`.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from edgeprof.catalog._quant import INT4_GROUP_SIZE
from edgeprof.engines._torch_support import KernelPlan
from edgeprof.errors import UnsupportedError

FP8_MAX = 448.0  # largest finite float8_e4m3fn
_CUDA_INT_MM_MIN_ROWS = 17  # cuBLASLt _int_mm needs more than 16 rows


# ------------------------------------------------------------------ weight quantizers
def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel int8: (q [N, K] int8, scale [N] float32)."""
    wf = w.float()
    scale = wf.abs().amax(dim=1).clamp(min=1e-8) / 127.0
    q = torch.round(wf / scale[:, None]).clamp_(-127, 127).to(torch.int8)
    return q, scale


def quantize_int4(w: torch.Tensor, group: int = INT4_GROUP_SIZE
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Asymmetric groupwise uint4: (q [N, K] int32 in 0..15, scale [N, K/g], zero [N, K/g]).

    Dequantization is ``(q - 8) * scale + zero`` (the tinygemm convention).
    """
    n, k = w.shape
    if k % group:
        raise UnsupportedError(
            f"int4 needs input features divisible by {group}, got {k}; use int8 or bf16."
        )
    wg = w.float().reshape(n, k // group, group)
    lo, hi = wg.amin(dim=-1), wg.amax(dim=-1)
    scale = (hi - lo).clamp(min=1e-8) / 15.0
    q = torch.round((wg - lo[..., None]) / scale[..., None]).clamp_(0, 15)
    zero = lo + 8.0 * scale
    return q.to(torch.int32).reshape(n, k), scale, zero


def quantize_fp8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output-channel e4m3: (q [N, K] float8_e4m3fn, scale [N] float32)."""
    wf = w.float()
    scale = wf.abs().amax(dim=1).clamp(min=1e-12) / FP8_MAX
    return (wf / scale[:, None]).to(torch.float8_e4m3fn), scale


def pack_nibbles(q: torch.Tensor) -> torch.Tensor:
    """[N, K] values 0..15 → [N, K/2] uint8, even column in the high nibble."""
    q8 = q.to(torch.uint8)
    return (q8[:, ::2] << 4) | q8[:, 1::2]


def unpack_nibbles(p: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`pack_nibbles`: [N, K/2] uint8 → [N, K] uint8."""
    return torch.stack((p >> 4, p & 0xF), dim=-1).reshape(p.shape[0], -1)


# ------------------------------------------------------------------ modules
class _QuantLinear(nn.Module):
    in_features: int
    out_features: int

    def _bias(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        bias = None if linear.bias is None else linear.bias.detach().to(dtype)
        self.register_buffer("bias", bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Int8Linear(_QuantLinear):
    """W8A8 through ``aten._int_mm``; dynamic symmetric per-token activation scales."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        q, scale = quantize_int8(linear.weight.detach())
        self.register_buffer("qweight", q)
        self.register_buffer("wscale", scale)
        self._bias(linear, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features)
        xs = x2.abs().amax(dim=1, keepdim=True).clamp_(min=1e-6) / 127.0
        xq = torch.round(x2 / xs).clamp_(-127, 127).to(torch.int8)
        rows = xq.shape[0]
        if xq.is_cuda and rows < _CUDA_INT_MM_MIN_ROWS:
            xq = torch.nn.functional.pad(xq, (0, 0, 0, _CUDA_INT_MM_MIN_ROWS - rows))
        acc = torch._int_mm(xq, self.qweight.t())[:rows]
        y = (acc * (xs.float() * self.wscale)).to(x.dtype)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


class DynamicInt8Linear(_QuantLinear):
    """W8A8 through ``quantized::linear_dynamic`` (fbgemm/x86): per-channel int8 weights,
    activations quantized per call; runs in float32 between casts from/to ``dtype``."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
        from torch.ao.quantization import per_channel_dynamic_qconfig

        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        dense = nn.Linear(self.in_features, self.out_features, bias=linear.bias is not None)
        with torch.no_grad():
            dense.weight.copy_(linear.weight.detach().float())
            if linear.bias is not None:
                dense.bias.copy_(linear.bias.detach().float())
        dense.qconfig = per_channel_dynamic_qconfig
        with warnings.catch_warnings():  # torch.ao.quantization's deprecation notices
            warnings.simplefilter("ignore")
            self.inner = DynamicLinear.from_float(dense)
        self.register_buffer("bias", None)
        w, b = self.inner.weight(), self.inner.bias()
        # fbgemm's packed weight is opaque to tensor_bytes: int8 values, and per output
        # channel a float scale, an int32 zero point and an int32 column offset; fp32 bias
        self.packed_bytes = (w.numel() + 12 * self.out_features
                             + (0 if b is None else b.numel() * 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.float()).to(x.dtype)


class Int4Linear(_QuantLinear):
    """W4A16 through ``aten._weight_int4pack_mm_for_cpu`` (CPU) or ``_weight_int4pack_mm``."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype, group: int = INT4_GROUP_SIZE,
                 inner_k_tiles: int = 8) -> None:
        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        if self.out_features % 16:
            raise UnsupportedError(
                f"int4 packing needs output features divisible by 16, got {self.out_features}."
            )
        self.group = group
        w = linear.weight.detach()
        q, scale, zero = quantize_int4(w, group)
        self.on_cuda = w.is_cuda
        if self.on_cuda:
            packed = torch.ops.aten._convert_weight_to_int4pack(pack_nibbles(q), inner_k_tiles)
        else:
            packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
        # [K/g, N, 2]: scale and zero per group and output channel
        sz = torch.stack((scale.t(), zero.t()), dim=-1).contiguous().to(dtype)
        self.register_buffer("qweight", packed)
        self.register_buffer("scales_zeros", sz)
        self._bias(linear, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features)
        if self.on_cuda:
            y = torch.ops.aten._weight_int4pack_mm(x2, self.qweight, self.group,
                                                   self.scales_zeros)
        else:
            y = torch.ops.aten._weight_int4pack_mm_for_cpu(x2, self.qweight, self.group,
                                                           self.scales_zeros)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)


class Fp8Linear(_QuantLinear):
    """e4m3 W8A8 through ``torch._scaled_mm`` with rowwise scales (CUDA ≥ 8.9)."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype) -> None:
        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        q, scale = quantize_fp8(linear.weight.detach())
        self.register_buffer("qweight", q)
        self.register_buffer("wscale", scale.reshape(1, -1).float())
        self._bias(linear, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x2 = x.reshape(-1, self.in_features).float()
        xs = x2.abs().amax(dim=1, keepdim=True).clamp_(min=1e-12) / FP8_MAX
        x8 = (x2 / xs).to(torch.float8_e4m3fn)
        y = torch._scaled_mm(x8, self.qweight.t(), scale_a=xs, scale_b=self.wscale,
                             bias=self.bias, out_dtype=x.dtype)
        return y.reshape(*shape[:-1], self.out_features)


class DequantLinear(_QuantLinear):
    """Emulation: weights stored as int8 / packed int4 / e4m3, dequantized every matmul."""

    def __init__(self, linear: nn.Linear, dtype: torch.dtype, storage: str,
                 group: int = INT4_GROUP_SIZE) -> None:
        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        self.storage, self.group, self.dtype = storage, group, dtype
        w = linear.weight.detach()
        zero: torch.Tensor | None = None
        if storage == "int8":
            q, scale = quantize_int8(w)
            scale = scale[:, None]
        elif storage == "fp8":
            q, scale = quantize_fp8(w)
            scale = scale[:, None]
        elif storage == "int4":
            q4, scale, zero = quantize_int4(w, group)
            q, zero = pack_nibbles(q4), zero.to(dtype)
        else:
            raise ValueError(f"unknown storage {storage!r}")
        self.register_buffer("qweight", q)
        self.register_buffer("scale", scale.to(dtype))
        self.register_buffer("zero", zero)
        self._bias(linear, dtype)

    def dequantized(self) -> torch.Tensor:
        if self.storage == "int4":
            assert self.zero is not None
            q = unpack_nibbles(self.qweight).to(self.dtype) - 8
            q = q.reshape(self.out_features, -1, self.group)
            w = q * self.scale[..., None] + self.zero[..., None]
            return w.reshape(self.out_features, self.in_features)
        return self.qweight.to(self.dtype) * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.dequantized(), self.bias)


# ------------------------------------------------------------------ model surgery
def make_linear(linear: nn.Linear, plan: KernelPlan, dtype: torch.dtype) -> nn.Module:
    """The replacement for one ``nn.Linear`` under ``plan`` (the linear itself if dense)."""
    if plan.method == "int8_w8a8":
        return Int8Linear(linear, dtype)
    if plan.method == "int8_dynamic":
        return DynamicInt8Linear(linear, dtype)
    if plan.method in ("int4_cpu", "int4_tinygemm"):
        return Int4Linear(linear, dtype)
    if plan.method == "fp8_scaled_mm":
        return Fp8Linear(linear, dtype)
    if plan.method == "dequant":
        return DequantLinear(linear, dtype, plan.quant)
    return linear


def quantize_decoder_linears(model: nn.Module, plan: KernelPlan, dtype: torch.dtype) -> int:
    """Replace every ``nn.Linear`` inside the decoder layers in place; returns the count."""
    if plan.method == "dense":
        return 0
    count = 0
    for layer in decoder_layers(model):
        for parent in list(layer.modules()):
            for attr, child in list(parent.named_children()):
                if isinstance(child, nn.Linear):
                    setattr(parent, attr, make_linear(child, plan, dtype))
                    del child
                    count += 1
    return count


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise UnsupportedError("The model has no decoder layers at model.layers; "
                               "edgeprof supports qwen2 and llama models.")
    return layers


def tensor_bytes(module: nn.Module) -> int:
    """Bytes of parameters and buffers, each storage counted once (tied weights once)."""
    seen: set[int] = set()
    total = 0
    opaque = []  # oneDNN-packed tensors have no storage; count their elements
    for t in [*module.parameters(), *module.buffers()]:
        if t.is_mkldnn:
            opaque.append(t)
            continue
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen:
            continue
        seen.add(ptr)
        total += t.untyped_storage().nbytes()
    packed = sum(getattr(m, "packed_bytes", 0) for m in module.modules())
    return total + sum(t.numel() * t.element_size() for t in opaque) + packed


def decoder_linear_bytes(model: nn.Module) -> int:
    """Bytes of the (possibly quantized) projections inside the decoder layers."""
    total = 0
    for layer in decoder_layers(model):
        for mod in layer.modules():
            if isinstance(mod, nn.Linear | _QuantLinear) or hasattr(mod, "packed"):
                total += tensor_bytes(mod)
    return total
