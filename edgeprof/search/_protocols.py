"""What the search needs from a latency model and an accuracy model (see CONTRACTS.md).

``edgeprof.fit.Profile`` and ``edgeprof.accuracy.AccuracyData`` satisfy these; tests and the
benchmark use the synthetic ones in :mod:`edgeprof.search._synthetic`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from edgeprof.device._spec import DeviceSpec
from edgeprof.estimates import Estimate


@runtime_checkable
class LatencyModel(Protocol):
    """A fitted (or spec-derived) profile of one device."""

    @property
    def device(self) -> DeviceSpec: ...

    def power_modes(self) -> list[str | None]: ...

    def fitted_pairs(self) -> list[tuple[str, str]]: ...

    def hash(self) -> str: ...

    def predict(self, model: str, quant: str, input_tokens: int, output_tokens: int,
                batch: int = 1, power_mode: str | None = None) -> Any:
        """A Prediction: ``ttft_s, decode_s, e2e_s, peak_mem_bytes`` Estimates and
        ``energy_j, avg_power_w`` Estimates or None."""
        ...

    def predict_grid(self, model: str, quant: str, input_tokens: int,
                     output_tokens: np.ndarray, batch: np.ndarray,
                     power_mode: str | None = None) -> dict[str, np.ndarray]:
        """Vectorized: keys ttft_s, decode_s, e2e_s, e2e_lo, e2e_hi, peak_mem_bytes, energy_j."""
        ...


@runtime_checkable
class AccuracyModel(Protocol):
    """Accuracy of (model, quant) under a token budget with N majority-voted samples."""

    source: str

    def pairs(self) -> list[tuple[str, str]]: ...

    def budgets(self, model: str, quant: str) -> list[int] | None: ...

    def max_samples(self, model: str, quant: str) -> int: ...

    def accuracy(self, model: str, quant: str, budget: int, samples: int,
                 semantics: str = "truncate-wrong") -> Estimate: ...

    def length_quantile(self, model: str, quant: str, budget: int, samples: int,
                        q: float) -> float: ...

    def default_input_tokens(self, model: str | None = None) -> int | None: ...

    # Optional: ``cells(model, quant) -> set[(budget, samples)] | None`` — the (budget, N)
    # a table answers; absent or None means any budget in ``budgets`` and any N ≤ max.
