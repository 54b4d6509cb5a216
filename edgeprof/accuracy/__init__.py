"""Accuracy under a token budget and N parallel samples, from traces or tables.

``load_accuracy(path)`` returns an :class:`AccuracyData`; ``load_accuracy("published-table")``
the shipped published figures modeled over budget, N and quant
(:class:`PublishedAccuracy`); see docs/accuracy.md.
"""

from edgeprof.accuracy._vote import pass_at_n, vote_closed_form, vote_from_counts
from edgeprof.accuracy.data import (
    BUILTIN,
    AccuracyData,
    TableAccuracy,
    TraceAccuracy,
    load_accuracy,
)
from edgeprof.accuracy.priors import QUANT_PRIORS, QuantPrior
from edgeprof.accuracy.published import PublishedAccuracy

__all__ = [
    "BUILTIN",
    "QUANT_PRIORS",
    "AccuracyData",
    "PublishedAccuracy",
    "QuantPrior",
    "TableAccuracy",
    "TraceAccuracy",
    "load_accuracy",
    "pass_at_n",
    "vote_closed_form",
    "vote_from_counts",
]
