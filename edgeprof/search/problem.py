"""The question ``recommend`` answers: the axes of the space and the constraints."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from edgeprof.errors import UserInputError


@dataclass(frozen=True)
class Problem:
    """Maximize predicted accuracy subject to latency, memory and energy limits.

    Latency is the request's end-to-end time at the ``percentile``-th percentile of the
    longest-of-N output length, with the N samples decoding together (batch = N).
    """

    slo_s: float
    input_tokens: int
    memory_limit_bytes: int
    percentile: float = 95.0
    energy_budget_j: float | None = None
    semantics: str = "truncate-wrong"

    def __post_init__(self) -> None:
        if not 0.0 < self.percentile <= 100.0:
            raise UserInputError(f"--percentile must be in (0, 100]; got {self.percentile}.")
        if self.input_tokens < 1:
            raise UserInputError(f"--input-tokens must be ≥ 1; got {self.input_tokens}.")

    @property
    def quantile(self) -> float:
        return self.percentile / 100.0

    @property
    def pct_label(self) -> str:
        return f"p{self.percentile:g}"

    def fingerprint(self, axes: dict[str, list], profile_hash: str, accuracy_source: str) -> str:
        """Identifies the problem, so workers sharing a study can check they agree."""
        blob = json.dumps([asdict(self), axes, profile_hash, accuracy_source], sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
