"""How many prompt tokens N parallel samples of one prompt prefill, with prefix caching.

Without it every engine prefills the prompt once per sample (vLLM splits an ``n = N``
request into N child requests; llama-server takes one choice per request): N·I tokens, the
default. With vLLM's automatic prefix caching (on by default in the V1 engine), the first
child computes the prompt and the others find its full KV blocks cached, even within one
batch, so each recomputes only the tail past its last full block: at least one token,
because a fully cached prompt still needs the last token's logits. Sources: vLLM
``EngineArgs._set_default_args_v1`` ("V1 enables prefix caching by default");
vllm-project/vllm PR #10980 (V1 parallel sampling: "the vLLM v1 engine can exploit APC when
a prompt repeats within a batch"); ``KVCacheManager.get_computed_blocks``
(``max_cache_hit_length = request.num_tokens - 1``, hits in whole blocks); the KV block is
16 tokens (the platforms' ``check_and_update_config``: ``block_size = 16`` when unset).
vLLM's V0 engine has prefix caching off by default: without ``--prefix-caching`` its N
prefills are what the model predicts.
"""

from __future__ import annotations

import numpy as np

#: Engines whose prefix cache lets N samples of one prompt share its prefill, with the KV
#: block size in tokens (the hit granularity).
PREFIX_CACHE_BLOCK_TOKENS: dict[str, int] = {"vllm": 16}


def shares_prefill(engine: str | None) -> bool:
    """Whether ``engine``'s prefix cache lets parallel samples share the prompt's prefill."""
    return engine in PREFIX_CACHE_BLOCK_TOKENS


def applies(engine: str | None, prefix_caching: bool) -> bool:
    """Whether N samples share the prompt: prefix caching asked for on an engine that shares."""
    return prefix_caching and engine is not None and shares_prefill(engine)


def recomputed_tail(engine: str, input_tokens: np.ndarray) -> np.ndarray:
    """Prompt tokens a child sample recomputes after a full prefix-cache hit: those past
    the last whole block below the prompt's last token (1 … block)."""
    block = PREFIX_CACHE_BLOCK_TOKENS[engine]
    i = np.maximum(np.asarray(input_tokens, float), 1.0)
    return i - block * np.floor((i - 1.0) / block)


def prefill_shape(engine: str | None, input_tokens: np.ndarray, batch: np.ndarray,
                  prefix_caching: bool) -> tuple[np.ndarray, np.ndarray]:
    """(tokens per sequence, sequences) the prefill form is evaluated at.

    With ``prefix_caching`` on an engine that shares: one sequence of I + (N−1)·tail tokens
    (the children's tails join the same GEMMs; counting their attention as the rest of one
    causal sequence over-estimates it by ((N−1)·tail)²/2 token pairs). Otherwise N
    sequences of I tokens.
    """
    i, b = np.broadcast_arrays(np.asarray(input_tokens, float), np.asarray(batch, float))
    if not applies(engine, prefix_caching):
        return i, b
    return i + (b - 1.0) * recomputed_tail(str(engine), i), np.ones_like(b)


def shared_prompt_tokens(engine: str | None, input_tokens: np.ndarray, batch: np.ndarray,
                         prefix_caching: bool) -> np.ndarray:
    """Prompt tokens whose KV the N samples hold once, in the first child's cached blocks
    (the prompt less each child's recomputed tail); 0 without sharing. Every child still
    holds its own tail and its generated tokens."""
    i = np.broadcast_arrays(np.asarray(input_tokens, float), np.asarray(batch, float))[0]
    if not applies(engine, prefix_caching):
        return np.zeros(i.shape)
    return np.maximum(i, 1.0) - recomputed_tail(str(engine), i)
