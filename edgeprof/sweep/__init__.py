"""Sweeps: grid expansion, warm-up and repeats, failure rows, a resumable store."""

from edgeprof.sweep._grid import Group, Point, all_points, expand
from edgeprof.sweep._runner import SweepResult, SweepRunner, prepare
from edgeprof.sweep._spec import SweepSpec, build_spec
from edgeprof.sweep._spec_file import read_spec_file
from edgeprof.sweep._store import SweepStore, death_cause
from edgeprof.sweep._summary import summarize

__all__ = [
    "Group", "Point", "SweepResult", "SweepRunner", "SweepSpec", "SweepStore", "all_points",
    "build_spec", "death_cause", "expand", "prepare", "read_spec_file", "summarize",
]
