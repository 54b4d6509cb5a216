"""Moved to :mod:`edgeprof.device.jetson.tegrastats`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.jetson.tegrastats import *  # noqa: F403
