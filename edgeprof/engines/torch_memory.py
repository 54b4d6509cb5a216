"""Moved to :mod:`edgeprof.telemetry.memory`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.telemetry.memory import *  # noqa: F403
