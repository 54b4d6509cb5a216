"""Physical model forms (vectorized): prefill, decode, memory and power.

Times are seconds, sizes bytes. Architecture constants come from the catalog; only the
efficiency-like coefficients are fitted.
"""

from __future__ import annotations

import numpy as np

from edgeprof.catalog import ArchSpec

PAD_TOKENS = 128          # tensor-core tile: prefill cost steps at multiples of this
TILE_TOKENS = 256         # rows (tokens) of cuBLAS's largest Ampere tensor-core GEMM tile (256x128)
CHUNK_TOKENS = 2048       # vLLM's default max_num_batched_tokens with chunked prefill
ATTN_FACTOR = 2.0         # attention FLOPs run at half the GEMM efficiency (prior)
LARGE_STEP_TOKENS = 2048  # a forward pass over more tokens than this runs large_step_factor slower


def padded(tokens: np.ndarray, pad: int = PAD_TOKENS) -> np.ndarray:
    t = np.maximum(np.asarray(tokens, float), 1.0)
    return np.ceil(t / pad) * pad


def prefill_tflops(arch: ArchSpec, input_tokens: np.ndarray, batch: np.ndarray,
                   pad: int = PAD_TOKENS, attn_factor: float = ATTN_FACTOR) -> np.ndarray:
    """Effective prefill work in TFLOP: GEMMs over padded tokens, the LM head once per
    sequence, and causal attention (P²/2 pairs) weighted by ``attn_factor``."""
    p = padded(input_tokens, pad)
    b = np.asarray(batch, float)
    gemm = 2.0 * arch.linear_params * p + 2.0 * arch.vocab * arch.hidden
    attn = 2.0 * arch.layers * arch.heads * arch.head_dim * p * p
    return b * (gemm + attn_factor * attn) / 1e12


def prefill_time(coef: dict[str, float], arch: ArchSpec, input_tokens: np.ndarray,
                 batch: np.ndarray) -> np.ndarray:
    """overhead + s_per_tflop·work(padded I) + token_s·B·I + (chunks−1)·chunk_s.

    The padded work steps at whole tiles of ``pad_tokens``; ``token_s`` is the cost per
    actual prompt token (the slope inside a tile: the rows' loads and stores, norms, rotary,
    activations, KV-cache writes). A profile written before ``token_s`` existed lacks it: 0,
    the old form. Every term is non-decreasing in I for non-negative coefficients.
    """
    pad = int(coef.get("pad_tokens", PAD_TOKENS))
    work = prefill_tflops(arch, input_tokens, batch, pad, coef.get("attn_factor", ATTN_FACTOR))
    tokens = np.asarray(input_tokens, float) * np.asarray(batch, float)
    budget = coef.get("chunk_tokens", CHUNK_TOKENS)
    chunks = np.ceil(np.maximum(tokens, 1.0) / budget)
    # An engine whose step budget exceeds LARGE_STEP_TOKENS runs such steps in one pass, at
    # (1 + large_step_factor) of the time per unit of work (absent: 0, the form before it).
    slow = 1.0 + coef.get("large_step_factor", 0.0) * (np.minimum(tokens, budget)
                                                       > LARGE_STEP_TOKENS)
    return (coef["overhead_s"] + slow * (coef["s_per_tflop"] * work
                                         + coef.get("token_s", 0.0) * tokens)
            + (chunks - 1.0) * coef.get("chunk_s", 0.0))


def effective_s_per_tflop(coef: dict[str, float], arch: ArchSpec) -> float:
    """Seconds per GEMM TFLOP with the per-token term folded in (token_s ÷ GEMM TFLOP per
    token): the figure a roofline's compute efficiency compares with."""
    per_token_tflop = 2.0 * arch.linear_params / 1e12
    return float(coef["s_per_tflop"] + coef.get("token_s", 0.0) / per_token_tflop)


def decode_time(coef: dict[str, float], input_tokens: np.ndarray, output_tokens: np.ndarray,
                batch: np.ndarray) -> np.ndarray:
    """Sum of the O−1 step times after the first token, closed form.

    step(ctx) = step_s + per_seq_s·(B−1) + kv_s·B·ctx, with ctx = I+1 … I+O−1.
    """
    i = np.asarray(input_tokens, float)
    steps = np.maximum(np.asarray(output_tokens, float) - 1.0, 0.0)
    b = np.asarray(batch, float)
    ctx_sum = steps * i + steps * (steps + 1.0) / 2.0
    return (steps * (coef["step_s"] + coef.get("per_seq_s", 0.0) * (b - 1.0))
            + coef["kv_s"] * b * ctx_sum)


def memory_bytes(coef: dict[str, float], arch: ArchSpec, weight_bytes: float,
                 input_tokens: np.ndarray, output_tokens: np.ndarray, batch: np.ndarray,
                 kv_dtype_bytes: float = 2, *,
                 shared_tokens: np.ndarray | float = 0.0) -> np.ndarray:
    """weights + KV cache (I+O tokens × batch) + workspace (w0 + w_token·B·padded I).

    ``shared_tokens``: prompt tokens the B sequences hold once (a prefix cache's shared
    blocks, :func:`edgeprof.fit._prefix_cache.shared_prompt_tokens`): KV for
    (I+O)·B − (B−1)·shared tokens. The workspace term is left as it is."""
    b = np.asarray(batch, float)
    tokens = np.asarray(input_tokens, float) + np.asarray(output_tokens, float)
    stored = tokens * b - (b - 1.0) * np.asarray(shared_tokens, float)
    kv = arch.kv_bytes_per_token(2) * (kv_dtype_bytes / 2.0) * stored
    ws = coef.get("workspace_bytes", 0.0) + coef.get("workspace_per_token_bytes", 0.0) * b * \
        padded(input_tokens)
    return weight_bytes + kv + ws


def ramp_energy(coef: dict[str, float], seconds: np.ndarray) -> np.ndarray:
    """∫ P_inf − ΔP·exp(−t/τ) dt over [0, T] (the decode power ramp)."""
    t = np.maximum(np.asarray(seconds, float), 0.0)
    tau = max(coef["tau_s"], 1e-6)
    return coef["p_inf_w"] * t - coef["delta_p_w"] * tau * (1.0 - np.exp(-t / tau))
