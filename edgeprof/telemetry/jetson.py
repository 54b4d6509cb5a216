"""Moved to :mod:`edgeprof.device.jetson.rails`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.jetson.rails import *  # noqa: F403
