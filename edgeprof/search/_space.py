"""The search space: (model, quant) pairs × power modes × budgets × samples.

Model and quant are one axis of *pairs* because the accuracy data and the profile need not
cover every product; budgets and samples not available for a pair are masked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgeprof.catalog import canonical_name, context_length
from edgeprof.catalog._context import context_message
from edgeprof.errors import ContextLengthError, UserInputError
from edgeprof.search._protocols import AccuracyModel

DEFAULT_BUDGETS = [128, 256, 512, 1024, 2048, 4096]


def is_toy(name: str) -> bool:
    """A ``-scaled-NL`` variant: a random-weight latency subject, never an accuracy one."""
    return "-scaled-" in name.lower()


@dataclass
class Space:
    pairs: list[tuple[str, str]]
    power_modes: list[str | None]
    budgets: list[int]
    samples: list[int]
    valid: np.ndarray  # bool (K, B, N): budget and sample count available for the pair
    dropped: dict[str, str] = field(default_factory=dict)  # "model/quant" -> why
    notes: list[str] = field(default_factory=list)  # budgets cut for a model, and why

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return len(self.pairs), len(self.power_modes), len(self.budgets), len(self.samples)

    @property
    def size(self) -> int:
        """Configurations in the space (valid ones, all power modes)."""
        return int(self.valid.sum()) * len(self.power_modes)

    def axes(self) -> dict[str, list]:
        return {"pairs": [f"{m}/{q}" for m, q in self.pairs], "power_modes": self.power_modes,
                "budgets": self.budgets, "samples": self.samples}


def build_space(accuracy: AccuracyModel, *, power_modes: list[str | None],
                models: list[str] | None = None, quants: list[str] | None = None,
                budgets: list[int] | None = None, max_samples: int | None = None,
                samples: list[int] | None = None, input_tokens: int | None = None) -> Space:
    """The space the accuracy data covers, restricted by the user's flags.

    With ``input_tokens``, a budget whose prompt + budget exceeds a model's context length is
    masked out for that model (noted), a model left with no budget is dropped (noted), and
    :class:`~edgeprof.errors.ContextLengthError` is raised when no candidate fits at all.

    The pairs are the accuracy data's own: a ``-scaled-`` toy (:func:`is_toy`) enters only
    because the data names it — never as a stand-in for its base model — and a winner with
    such accuracy is flagged synthetic in the answer. The shipped published figures keep
    only catalog models (edgeprof.accuracy._published).
    """
    dropped: dict[str, str] = {}
    pairs = accuracy.pairs()
    if models:
        want = {canonical_name(m) for m in models}
        pairs = [(m, q) for m, q in pairs if canonical_name(m) in want]
        missing = want - {canonical_name(m) for m, _ in pairs}
        if missing:
            have = ", ".join(sorted({m for m, _ in accuracy.pairs()}))
            raise UserInputError(f"No accuracy data for --models {', '.join(sorted(missing))}; "
                                 f"the data covers {have}.")
    if quants:
        wantq = {q.strip().lower() for q in quants}
        pairs = [(m, q) for m, q in pairs if q in wantq]
    if not pairs:
        raise UserInputError("No (model, quant) pair is left after --models/--quants; "
                             "widen them (see `edgeprof accuracy` for what the data covers).")
    data_budgets = {p: accuracy.budgets(*p) for p in pairs}
    if budgets is None:
        union = sorted({b for bs in data_budgets.values() if bs for b in bs})
        budgets = union or list(DEFAULT_BUDGETS)
    max_n = {p: accuracy.max_samples(*p) for p in pairs}
    # A table answers only its own (budget, N) cells; traces answer any N ≤ max_samples.
    cells_of = getattr(accuracy, "cells", None)
    cells = {p: (cells_of(*p) if cells_of is not None else None) for p in pairs}
    if samples is None:
        top = max(max_n.values())
        if max_samples is not None:
            top = min(top, max_samples)
        if all(c is not None for c in cells.values()):
            samples = sorted({n for c in cells.values() if c for _, n in c if n <= top})
        else:
            samples = list(range(1, top + 1))
    elif max_samples is not None:
        samples = [n for n in samples if n <= max_samples]
    if not samples:
        raise UserInputError("No sample count is left; raise --max-samples.")
    valid = np.zeros((len(pairs), len(budgets), len(samples)), dtype=bool)
    for k, p in enumerate(pairs):
        ok_b = np.array([data_budgets[p] is None or b in data_budgets[p] for b in budgets])
        ok_n = np.array([n <= max_n[p] for n in samples])
        valid[k] = ok_b[:, None] & ok_n[None, :]
        if cells[p] is not None:
            valid[k] &= np.array([[(b, n) in cells[p] for n in samples] for b in budgets],
                                 dtype=bool).reshape(valid[k].shape)
    if not valid.any():
        raise UserInputError("No budget in --budgets is covered by the accuracy data; use "
                             "the budgets it has (leave --budgets out).")
    notes: list[str] = []
    if input_tokens is not None:
        valid = _within_context(pairs, budgets, valid, input_tokens, dropped, notes)
    return Space(pairs=pairs, power_modes=list(power_modes), budgets=list(budgets),
                 samples=list(samples), valid=valid, dropped=dropped, notes=notes)


def _within_context(pairs: list[tuple[str, str]], budgets: list[int], valid: np.ndarray,
                    input_tokens: int, dropped: dict[str, str], notes: list[str]) -> np.ndarray:
    """``valid`` less the (pair, budget) cells whose prompt + budget exceed the model's
    context length; what was cut is recorded in ``dropped`` / ``notes``."""
    contexts = {m: context_length(m) for m, _ in pairs}
    fits = np.array([[contexts[m] is None or input_tokens + b <= contexts[m] for b in budgets]
                     for m, _ in pairs], dtype=bool).reshape(len(pairs), len(budgets))
    kept = valid & fits[:, :, None]
    if not kept.any():
        known = [(c, m) for m, c in contexts.items() if c is not None]
        longest, model = max(known)
        # the shortest budget the data covers for the longest-context model
        rows = [k for k, (m, _) in enumerate(pairs) if m == model]
        covered = [b for j, b in enumerate(budgets) if valid[rows, j].any()]
        raise ContextLengthError(context_message(
            model, longest, input_tokens, min(covered or budgets), inputs="--input-tokens",
            outputs="--budgets", remedy="pick models with a longer context (--models)",
            exceeds=f"the context length of every candidate model (the longest: {model}, "
                    f"{longest} tokens)"))
    for k, (m, q) in enumerate(pairs):
        if valid[k].any() and not kept[k].any():
            least = min(b for j, b in enumerate(budgets) if valid[k, j].any())
            dropped[f"{m}/{q}"] = (f"--input-tokens {input_tokens} + its smallest budget "
                                   f"{least} exceeds its context length of {contexts[m]}")
    cut = sorted({(m, contexts[m]) for k, (m, _) in enumerate(pairs)
                  if kept[k].any() and (valid[k] & ~kept[k]).any()})
    for m, ctx in cut:
        notes.append(f"{m}: budgets above {int(ctx or 0) - input_tokens} tokens left out "
                     f"(--input-tokens {input_tokens} + budget would exceed its context "
                     f"length of {ctx})")
    return kept
