"""CPU dense linears through oneDNN with prepacked weights (the path torch.compile's
freezing pass takes on CPU): ``mkldnn._reorder_linear_weight`` once at load, then
``mkldnn._linear_pointwise`` per call.

On this project's CPU (AMD Zen 4) the default ``aten.linear`` fp32 goes to MKL sgemv, which
reaches about 14 GB/s at batch 1, while the prepacked oneDNN kernel reaches about 29 GB/s —
near the measured memory bandwidth. The packed weight is an opaque oneDNN tensor; a tied LM
head must keep sharing the embedding table, so it is never packed: in fp32 it runs
``mkldnn._linear_pointwise`` on the shared dense weight (about 28 GB/s here), otherwise it
stays on ``aten.linear``. No weight is duplicated.
"""

from __future__ import annotations

import torch
from torch import nn

from edgeprof.engines._torch_quant import decoder_layers


def onednn_available() -> bool:
    return bool(torch.backends.mkldnn.is_available()
                and hasattr(torch.ops.mkldnn, "_linear_pointwise")
                and hasattr(torch.ops.mkldnn, "_reorder_linear_weight"))


class PackedLinear(nn.Module):
    """``nn.Linear`` with its weight reordered for oneDNN (batch-1 hint)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.out_features, self.in_features = linear.weight.shape
        w = linear.weight.detach()
        self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(w, 1))
        bias = None if linear.bias is None else linear.bias.detach().clone()
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, self.in_features)
        if not x2.is_contiguous():
            x2 = x2.contiguous()
        y = torch.ops.mkldnn._linear_pointwise(x2, self.packed, self.bias, "none", [], "")
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, oneDNN packed"


class SharedWeightLinear(nn.Module):
    """A tied LM head through ``mkldnn._linear_pointwise`` on the shared dense weight."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.weight = linear.weight  # the embedding's Parameter, not a copy
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = x.reshape(-1, self.weight.shape[1]).contiguous()
        y = torch.ops.mkldnn._linear_pointwise(x2, self.weight, self.bias, "none", [], "")
        return y.reshape(*x.shape[:-1], self.weight.shape[0])


def prepack_dense_linears(model: nn.Module, head: bool = True) -> int:
    """Replace the dense ``nn.Linear`` layers (decoder and LM head) by :class:`PackedLinear`.

    Returns how many were packed; a dtype oneDNN cannot pack here (fp16 without
    avx512_fp16 / avx_ne_convert) leaves the model unchanged and returns 0.
    """
    targets: list[tuple[nn.Module, str, nn.Linear]] = []
    for layer in decoder_layers(model):
        for parent in layer.modules():
            for attr, child in parent.named_children():
                if type(child) is nn.Linear:
                    targets.append((parent, attr, child))
    out = model.get_output_embeddings() if head else None
    tied = out is not None and out.weight is model.get_input_embeddings().weight
    head_name = next((n for n, c in model.named_children() if c is out), None)
    if type(out) is nn.Linear and head_name and not tied:
        targets.append((model, head_name, out))
    count = 0
    if targets:
        try:
            first = PackedLinear(targets[0][2])
        except RuntimeError:  # dtype oneDNN cannot pack on this CPU
            return 0
        for i, (parent, attr, child) in enumerate(targets):
            setattr(parent, attr, first if i == 0 else PackedLinear(child))
        count = len(targets)
    if type(out) is nn.Linear and head_name and tied and out.weight.dtype == torch.float32:
        setattr(model, head_name, SharedWeightLinear(out))
        count += 1
    return count
