"""Sweeps: grid expansion, warm-up and repeats, failure rows, a resumable store."""

from edgeprof.sweep.grid import Group, Point, all_points, expand
from edgeprof.sweep.runner import SweepResult, SweepRunner, prepare
from edgeprof.sweep.spec import SweepSpec, build_spec
from edgeprof.sweep.spec_file import read_spec_file
from edgeprof.sweep.store import SweepStore
from edgeprof.sweep.summary import summarize

__all__ = ["Group", "Point", "SweepResult", "SweepRunner", "SweepSpec", "SweepStore",
           "all_points", "build_spec", "expand", "prepare", "read_spec_file", "summarize"]
