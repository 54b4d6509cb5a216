"""Accuracy of quant formats without traces: published recovery ratios (labeled ``prior``).

A derived format's accuracy is the unquantized (bf16/fp16) accuracy times a recovery ratio
(quantized / unquantized accuracy). The ratios are deliberately coarse summaries of the
studies cited; they are priors to replace with your own traces, never measurements. Output
lengths for a derived format are taken from the unquantized traces: Liu et al. (2025) report
that quantized reasoning models do not produce longer outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

KURTIC_2024 = (
    'Kurtic et al., "Give Me BF16 or Give Me Death? Accuracy-Performance Trade-Offs in LLM '
    'Quantization", arXiv 2411.02355 (ACL 2025)'
)
LIU_2025 = (
    'Liu et al., "Quantization Hurts Reasoning? An Empirical Study on Quantized Reasoning '
    'Models", arXiv 2504.04823 (COLM 2025)'
)

#: Formats whose traces serve as the base of derived formats, in order of preference.
BASE_QUANTS = ("bf16", "fp16", "fp32")


@dataclass(frozen=True)
class QuantPrior:
    """Recovery ratio (point, low, high) for one format relative to 16-bit."""

    quant: str
    recovery: float
    lo: float
    hi: float
    source: str
    summary: str


QUANT_PRIORS: dict[str, QuantPrior] = {
    p.quant: p
    for p in (
        QuantPrior("bf16", 1.0, 1.0, 1.0, "definition", "16-bit baseline (bf16 ≈ fp16)"),
        QuantPrior("fp16", 1.0, 1.0, 1.0, "definition", "16-bit baseline (bf16 ≈ fp16)"),
        QuantPrior("fp32", 1.0, 1.0, 1.0, "definition",
                   "treated as the 16-bit accuracy (checkpoints are published in 16-bit)"),
        QuantPrior("fp8", 1.0, 0.99, 1.0, f"{KURTIC_2024}; {LIU_2025}",
                   "FP8 W8A8 effectively lossless across Llama-3.1 scales (Kurtic, abstract); "
                   "8-bit W8A8 lossless on reasoning models (Liu, abstract)"),
        QuantPrior("int8", 0.98, 0.97, 1.0, f"{KURTIC_2024}; {LIU_2025}",
                   "well-tuned INT8 W8A8: 1-3 % accuracy degradation (Kurtic, abstract); "
                   "W8A8 lossless on reasoning models (Liu, abstract)"),
        QuantPrior("int4", 0.98, 0.93, 1.0, f"{KURTIC_2024}; {LIU_2025}",
                   "INT4 weight-only (W4A16) competitive with INT8 W8A8 (Kurtic, abstract); "
                   "W4A16 can be lossless but small models and hard tasks degrade more (Liu, "
                   "abstract) - hence the wide low end (our choice, not a reported figure)"),
    )
}
