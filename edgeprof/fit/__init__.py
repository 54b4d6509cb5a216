"""Latency, memory and power models: forms, robust fitting, held-out error, profiles."""

from edgeprof.fit.pipeline import fit_rows
from edgeprof.fit.profile import Prediction, Profile

__all__ = ["Prediction", "Profile", "fit_rows"]
