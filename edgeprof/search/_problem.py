"""The question ``recommend`` answers: the axes of the space and the constraints."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

from edgeprof.errors import UserInputError


class ProblemLabels:
    """How every output names a problem's percentile and the bound it checks at (for
    classes with ``percentile`` and ``confidence``: the Problem and the recommendation's
    copy of it)."""

    @property
    def pct_label(self) -> str:
        """``p95``."""
        return percentile_label(self.percentile)  # type: ignore[attr-defined]

    @property
    def bound_label(self) -> str:
        """``point`` or ``90% upper bound``."""
        return bound_label(self.confidence)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Problem(ProblemLabels):
    """Maximize predicted accuracy subject to latency, memory and energy limits.

    Latency is the request's end-to-end time at the ``percentile``-th percentile of the
    longest-of-N output length, with the N samples decoding together (batch = N).

    ``confidence`` c: latency and peak memory are checked at the one-sided upper c-bound of
    their prediction, read from the 90 % interval assuming log-normal error:
    ``bound = value · (hi / value) ** (z_c / z_0.95)`` (z: standard normal quantile; the 90 %
    interval's ``hi`` is the 0.95 quantile). c = 0.95 checks ``hi`` itself; c ≤ 0.5 (and 0)
    checks the point value.
    """

    slo_s: float
    input_tokens: int
    memory_limit_bytes: int
    percentile: float = 95.0
    energy_budget_j: float | None = None
    semantics: str = "truncate-wrong"
    confidence: float = 0.0  # the CLI defaults to 0.9

    def __post_init__(self) -> None:
        if not (0.0 <= self.confidence < 1.0) or math.isnan(self.confidence):
            raise UserInputError(f"--confidence must be in [0, 1); got {self.confidence} "
                                 "(0 checks the point prediction).")
        if not 0.0 < self.percentile <= 100.0:
            raise UserInputError(f"--percentile must be in (0, 100]; got {self.percentile}.")
        if self.input_tokens < 1:
            raise UserInputError(f"--input-tokens must be ≥ 1; got {self.input_tokens}.")

    @property
    def quantile(self) -> float:
        return self.percentile / 100.0

    @property
    def bound_exponent(self) -> float:
        """Power of ``hi / value`` giving the upper ``confidence``-bound (0: the point)."""
        return bound_exponent(self.confidence)


    def fingerprint(self, axes: dict[str, list], profile_hash: str, accuracy_source: str) -> str:
        """Identifies the problem, so workers sharing a study can check they agree."""
        blob = json.dumps([asdict(self), axes, profile_hash, accuracy_source], sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def percentile_label(percentile: float) -> str:
    """``p95``: how every output names the SLO's percentile."""
    return f"p{percentile:g}"


def bound_label(confidence: float) -> str:
    """What latency and memory are checked at: ``point`` or ``90% upper bound``."""
    return "point" if bound_exponent(confidence) == 0 else f"{confidence:.0%} upper bound"


def bound_exponent(confidence: float, level: float = 0.9) -> float:
    """``z_c / z_q`` with q = (1 + level) / 2, the interval's upper quantile; 0 for c ≤ 0.5."""
    if confidence <= 0.5:
        return 0.0
    normal = NormalDist()
    return normal.inv_cdf(confidence) / normal.inv_cdf((1.0 + level) / 2.0)


def upper_bound(value: float, hi: float, confidence: float, level: float = 0.9) -> float:
    """The one-sided upper ``confidence``-bound of a prediction with interval upper end ``hi``
    (log-normal error); the value itself when ``hi`` is not above it."""
    if not (value > 0 and hi > value) or not math.isfinite(hi):
        return value
    return value * (hi / value) ** bound_exponent(confidence, level)
