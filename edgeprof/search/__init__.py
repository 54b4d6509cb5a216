"""Search: the most accurate configuration under a latency SLO (see docs/recommend.md)."""

from edgeprof.search.problem import Problem
from edgeprof.search.protocols import AccuracyModel, LatencyModel
from edgeprof.search.recommend import recommend
from edgeprof.search.result import Recommendation, load_recommendation

__all__ = ["AccuracyModel", "LatencyModel", "Problem", "Recommendation", "load_recommendation",
           "recommend"]
