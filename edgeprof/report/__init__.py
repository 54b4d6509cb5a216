"""The HTML report: one self-contained page drawn from a sweep, a profile and a
recommendation (see docs/report.md)."""

from edgeprof.report.build import Report, build_report, write_report
from edgeprof.report.inputs import ReportInputs, gather

__all__ = ["Report", "ReportInputs", "build_report", "gather", "write_report"]
