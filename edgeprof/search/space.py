"""The search space: (model, quant) pairs × power modes × budgets × samples.

Model and quant are one axis of *pairs* because the accuracy data and the profile need not
cover every product; budgets and samples not available for a pair are masked out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgeprof.catalog import canonical_name
from edgeprof.errors import UserInputError
from edgeprof.search.protocols import AccuracyModel

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
                samples: list[int] | None = None) -> Space:
    """The space the accuracy data covers, restricted by the user's flags.

    The pairs are the accuracy data's own: a ``-scaled-`` toy (:func:`is_toy`) enters only
    because the data names it — never as a stand-in for its base model — and a winner with
    such accuracy is flagged synthetic in the answer. The shipped published figures keep
    only catalog models (edgeprof.accuracy.published).
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
    return Space(pairs=pairs, power_modes=list(power_modes), budgets=list(budgets),
                 samples=list(samples), valid=valid, dropped=dropped)
