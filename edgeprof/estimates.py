"""Predicted or derived quantities with their interval and where they come from.

Every number edgeprof prints that is not a raw hardware measurement carries a provenance
label, so a user can never mistake a spec-sheet figure or a prediction for a measurement.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Provenance(StrEnum):
    """Where a number comes from; the one list every output (CLI, JSON, report) labels by."""

    MEASURED = "measured"  # read off hardware by edgeprof
    IMPORTED = "imported"  # measured by another tool, imported
    FITTED = "predicted:measured-fit"  # predicted by a model fitted to measurements
    SPEC = "predicted:spec-derived"  # predicted from a device spec sheet (roofline)
    PRIOR = "prior"  # taken from published studies (e.g. accuracy deltas for a quant format)
    SYNTHETIC = "synthetic"  # generated data with known truth (tests, demos)
    EMULATED = "emulated"  # a format run in software rather than on native kernels


class Estimate(BaseModel):
    """A value with a (lo, hi) interval and its provenance.

    ``level`` is the interval's nominal coverage (0.9 = a 90 % interval).
    """

    model_config = ConfigDict(frozen=True)

    value: float
    lo: float
    hi: float
    provenance: Provenance
    level: float = 0.9
    note: str | None = None

    @classmethod
    def exact(cls, value: float, provenance: Provenance, note: str | None = None) -> Estimate:
        return cls(value=value, lo=value, hi=value, provenance=provenance, note=note)

    def scaled(self, factor: float) -> Estimate:
        return self.model_copy(
            update={"value": self.value * factor, "lo": self.lo * factor, "hi": self.hi * factor}
        )
