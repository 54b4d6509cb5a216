"""Accuracy under a token budget and N parallel samples, from traces or tables.

``load_accuracy(path)`` returns an :class:`AccuracyData`; ``load_accuracy("published-table")``
the shipped published figures modeled over budget, N and quant
(:class:`PublishedAccuracy`); see docs/accuracy.md.
"""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.accuracy._data import (
    BUILTIN,
    AccuracyData,
    TableAccuracy,
    TraceAccuracy,
    builtin_path,
    load_accuracy,
)
from edgeprof.accuracy._priors import QUANT_PRIORS, QuantPrior
from edgeprof.accuracy._published import PublishedAccuracy
from edgeprof.accuracy._vote import pass_at_n, vote_closed_form, vote_from_counts

if TYPE_CHECKING:
    from edgeprof.accuracy._curves import (
        MAX_MISFIT,
        curve_from_mean_length,
        fit_budget_curve,
        majority_at,
        pass_at,
    )
    from edgeprof.accuracy._synth import DEFAULT_MODELS, generate, true_accuracy, write_jsonl

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "DEFAULT_MODELS": "edgeprof.accuracy._synth",
    "MAX_MISFIT": "edgeprof.accuracy._curves",
    "curve_from_mean_length": "edgeprof.accuracy._curves",
    "fit_budget_curve": "edgeprof.accuracy._curves",
    "generate": "edgeprof.accuracy._synth",
    "majority_at": "edgeprof.accuracy._curves",
    "pass_at": "edgeprof.accuracy._curves",
    "true_accuracy": "edgeprof.accuracy._synth",
    "write_jsonl": "edgeprof.accuracy._synth",
}

__all__ = [
    "BUILTIN",
    "DEFAULT_MODELS",
    "MAX_MISFIT",
    "QUANT_PRIORS",
    "AccuracyData",
    "PublishedAccuracy",
    "QuantPrior",
    "TableAccuracy",
    "TraceAccuracy",
    "builtin_path",
    "curve_from_mean_length",
    "fit_budget_curve",
    "generate",
    "load_accuracy",
    "majority_at",
    "pass_at",
    "pass_at_n",
    "true_accuracy",
    "vote_closed_form",
    "vote_from_counts",
    "write_jsonl",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
