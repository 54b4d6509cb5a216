"""Search: the most accurate configuration under a latency SLO (see docs/recommend.md)."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.search._problem import Problem, bound_exponent, upper_bound
from edgeprof.search._protocols import AccuracyModel, LatencyModel
from edgeprof.search._recommend import recommend
from edgeprof.search._result import SCHEMA_VERSION, Recommendation, RecProblem, load_recommendation

if TYPE_CHECKING:
    from edgeprof.search._conformance import (
        ACCURACY_CHECKS,
        LATENCY_CHECKS,
        check_accuracy_range,
        check_grid_matches_point,
        check_latency_monotone,
        check_prediction_estimates,
        run_accuracy_conformance,
        run_latency_conformance,
    )
    from edgeprof.search._grid import evaluate_grid
    from edgeprof.search._present import winner_rows
    from edgeprof.search._solve import enumerate_optimum
    from edgeprof.search._space import build_space
    from edgeprof.search._storage import check_storage_url, create_study, sqlite_file
    from edgeprof.search._study import GroupStudy
    from edgeprof.search._synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "ACCURACY_CHECKS": "edgeprof.search._conformance",
    "GroupStudy": "edgeprof.search._study",
    "LATENCY_CHECKS": "edgeprof.search._conformance",
    "SyntheticAccuracy": "edgeprof.search._synthetic",
    "SyntheticProfile": "edgeprof.search._synthetic",
    "build_space": "edgeprof.search._space",
    "check_accuracy_range": "edgeprof.search._conformance",
    "check_grid_matches_point": "edgeprof.search._conformance",
    "check_latency_monotone": "edgeprof.search._conformance",
    "check_prediction_estimates": "edgeprof.search._conformance",
    "check_storage_url": "edgeprof.search._storage",
    "create_study": "edgeprof.search._storage",
    "enumerate_optimum": "edgeprof.search._solve",
    "evaluate_grid": "edgeprof.search._grid",
    "run_accuracy_conformance": "edgeprof.search._conformance",
    "run_latency_conformance": "edgeprof.search._conformance",
    "sqlite_file": "edgeprof.search._storage",
    "synthetic_device": "edgeprof.search._synthetic",
    "winner_rows": "edgeprof.search._present",
}

__all__ = [
    "ACCURACY_CHECKS",
    "LATENCY_CHECKS",
    "SCHEMA_VERSION",
    "AccuracyModel",
    "GroupStudy",
    "LatencyModel",
    "Problem",
    "RecProblem",
    "Recommendation",
    "SyntheticAccuracy",
    "SyntheticProfile",
    "bound_exponent",
    "build_space",
    "check_accuracy_range",
    "check_grid_matches_point",
    "check_latency_monotone",
    "check_prediction_estimates",
    "check_storage_url",
    "create_study",
    "enumerate_optimum",
    "evaluate_grid",
    "load_recommendation",
    "recommend",
    "run_accuracy_conformance",
    "run_latency_conformance",
    "sqlite_file",
    "synthetic_device",
    "upper_bound",
    "winner_rows",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
