"""Synthetic traces whose true accuracy is known in closed form (labeled ``synthetic``).

Per model, each question q has a correctness probability p_q ~ Beta(a, b). A sample is the
correct answer with probability p_q; otherwise (probability 1 − p_q) it is one of three
wrong answers with shares 0.5/0.3/0.2 of 90 % of that mass, or no extracted answer (10 %).
Output lengths are lognormal: median ``500 · (params / 1e8) ** 0.3`` tokens (larger models
think longer), σ = 0.6, and wrong or unanswered samples run 1.6× longer. A sample cut off at
the budget has a forced answer that is correct with probability 0.5 · p_q.

Under ``truncate-wrong`` every answer class keeps its probability times P(length ≤ B), so the
majority-vote accuracy of N draws has the closed form :func:`true_accuracy`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

from edgeprof.accuracy._vote import vote_closed_form
from edgeprof.catalog import resolve_model

WRONG_SHARES = (0.5, 0.3, 0.2)
NO_ANSWER_SHARE = 0.1
SIGMA = 0.6
WRONG_LENGTH_FACTOR = 1.6
FORCED_FACTOR = 0.5


@dataclass(frozen=True)
class SynthModel:
    """One synthetic model: Beta(a, b) difficulty and its length scale."""

    name: str
    a: float
    b: float

    @property
    def median_tokens(self) -> float:
        return 500.0 * (resolve_model(self.name).params / 1e8) ** 0.3


DEFAULT_MODELS = (
    SynthModel("qwen2.5-0.5b-scaled-4L", 1.2, 2.0),
    SynthModel("llama-3.2-1b-scaled-2L", 1.5, 1.8),
    SynthModel("deepseek-r1-distill-qwen-1.5b", 1.8, 1.2),
    SynthModel("deepseek-r1-distill-llama-8b", 2.5, 1.0),
    SynthModel("deepseek-r1-distill-qwen-14b", 3.0, 0.9),
)


@dataclass
class SynthQuestions:
    """The truth behind generated traces: p_q per model (in question order)."""

    p: dict[str, np.ndarray]
    models: dict[str, SynthModel]


def answer_probs(p_q: float, budget: float | None, model: SynthModel) -> tuple[float,
                                                                                list[float]]:
    """(P(correct and within budget), [P(wrong answer j and within budget)])."""
    f_right = f_wrong = 1.0
    if budget is not None:
        mu = math.log(model.median_tokens)
        f_right = float(norm.cdf((math.log(budget + 0.5) - mu) / SIGMA))
        f_wrong = float(norm.cdf((math.log(budget + 0.5) - mu - math.log(WRONG_LENGTH_FACTOR))
                                 / SIGMA))
    wrong = [(1 - p_q) * (1 - NO_ANSWER_SHARE) * s * f_wrong for s in WRONG_SHARES]
    return p_q * f_right, wrong


def true_accuracy(p: np.ndarray, model: SynthModel, budget: int | None, samples: int) -> float:
    """Closed-form majority-vote accuracy (truncate-wrong), averaged over the questions."""
    return float(np.mean([vote_closed_form(*answer_probs(float(pq), budget, model), samples)
                          for pq in p]))


def generate(questions: int = 40, samples: int = 16, seed: int = 0,
             models: tuple[SynthModel, ...] = DEFAULT_MODELS,
             quant: str = "bf16") -> tuple[list[dict], SynthQuestions]:
    """Trace records and the truth behind them."""
    rng = np.random.default_rng(seed)
    inputs = rng.integers(80, 400, size=questions)
    records: list[dict] = []
    truth = SynthQuestions(p={}, models={m.name: m for m in models})
    for m in models:
        p = rng.beta(m.a, m.b, size=questions)
        truth.p[m.name] = p
        mu = math.log(m.median_tokens)
        for q in range(questions):
            probs = [p[q], *[(1 - p[q]) * (1 - NO_ANSWER_SHARE) * s for s in WRONG_SHARES],
                     (1 - p[q]) * NO_ANSWER_SHARE]
            kind = rng.choice(len(probs), size=samples, p=np.array(probs) / sum(probs))
            z = rng.normal(mu, SIGMA, size=samples) + np.where(
                kind == 0, 0.0, math.log(WRONG_LENGTH_FACTOR))
            lengths = np.maximum(1, np.rint(np.exp(z))).astype(int)
            forced = rng.random(samples) < FORCED_FACTOR * p[q]
            for s in range(samples):
                k = int(kind[s])
                records.append({
                    "question_id": f"q{q:03d}", "model": m.name, "quant": quant, "sample": s,
                    "output_tokens": int(lengths[s]), "correct": k == 0,
                    "answer": "A" if k == 0 else (f"W{k}" if k <= len(WRONG_SHARES) else None),
                    "forced_answer_correct": bool(forced[s]),
                    "input_tokens": int(inputs[q]), "p_correct": round(float(p[q]), 6),
                    "provenance": "synthetic",
                })
    return records, truth


def write_jsonl(records: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
