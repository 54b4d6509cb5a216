"""The HTML report: one self-contained page drawn from a sweep, a profile and a
recommendation (see docs/report.md)."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports
from edgeprof.report._build import Report, build_report, write_report
from edgeprof.report._inputs import ReportInputs, gather

if TYPE_CHECKING:
    from edgeprof.report._fit_figures import plot_profile
    from edgeprof.report._html import PROVENANCES
    from edgeprof.report._model_errors import error_rows, pct
    from edgeprof.report._pareto_figure import plot_pareto

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "PROVENANCES": "edgeprof.report._html",
    "error_rows": "edgeprof.report._model_errors",
    "pct": "edgeprof.report._model_errors",
    "plot_pareto": "edgeprof.report._pareto_figure",
    "plot_profile": "edgeprof.report._fit_figures",
}

__all__ = [
    "PROVENANCES", "Report", "ReportInputs", "build_report", "error_rows", "gather", "pct",
    "plot_pareto", "plot_profile", "write_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
