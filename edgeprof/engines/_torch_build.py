"""Build a transformers model of an :class:`ArchSpec`: random weights fast, or local weights.

Random weights: the model is constructed on the ``meta`` device (no allocation, no init),
materialized with ``to_empty`` and filled by tiling one seeded pool of N(0, 0.02) values
(a memory copy, so a 0.5B model fills in well under a second of compute). Norm weights are
1. Non-persistent buffers (rotary ``inv_freq``) are rebuilt, and tied embeddings re-tied.
A random-weight model is a latency and memory subject, never an accuracy subject.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.errors import DataFormatError

_POOL_SIZE = 1 << 20
_INIT_STD = 0.02


def has_local_weights(arch: ArchSpec) -> bool:
    """True when ``arch.local_path`` holds safetensors weights."""
    return bool(arch.local_path) and any(Path(str(arch.local_path)).glob("*.safetensors"))


def build_model(arch: ArchSpec, dtype: torch.dtype, device: torch.device, seed: int = 0
                ) -> nn.Module:
    """The model in eval mode on ``device`` in ``dtype`` (local weights when present)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    if has_local_weights(arch):
        try:
            model = AutoModelForCausalLM.from_pretrained(arch.local_path, dtype=dtype)
        except (OSError, ValueError) as exc:
            raise DataFormatError(
                f"Could not load weights from {arch.local_path} ({exc}); check the folder."
            ) from None
        return model.to(device).eval()
    config = AutoConfig.for_model(**arch.hf_config())
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    model.to_empty(device=device)
    _fill_random(model, seed)
    _rebuild_rotary(model, device)
    if arch.tied_embeddings:
        model.get_output_embeddings().weight = model.get_input_embeddings().weight
    return model.eval()


@torch.no_grad()
def _fill_random(model: nn.Module, seed: int) -> None:
    """Norm weights 1, every other parameter tiled from a seeded N(0, 0.02) pool."""
    gen = torch.Generator().manual_seed(seed)
    pool = torch.randn(_POOL_SIZE, generator=gen) * _INIT_STD
    pools: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}
    for name, param in model.named_parameters():
        if "norm" in name and param.ndim == 1:
            param.fill_(1.0)
            continue
        key = (param.dtype, param.device)
        if key not in pools:
            pools[key] = pool.to(dtype=param.dtype, device=param.device)
        src = pools[key]
        flat = param.view(-1)
        for start in range(0, flat.numel(), _POOL_SIZE):
            chunk = flat[start:start + _POOL_SIZE]
            chunk.copy_(src[: chunk.numel()])


def _rebuild_rotary(model: nn.Module, device: torch.device) -> None:
    """Recompute rotary embedding modules, whose buffers ``to_empty`` left uninitialized."""
    for parent in list(model.modules()):
        for attr, child in list(parent.named_children()):
            if type(child).__name__.endswith("RotaryEmbedding"):
                setattr(parent, attr, type(child)(config=model.config).to(device))
