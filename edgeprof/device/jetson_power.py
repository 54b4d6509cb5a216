"""Moved to :mod:`edgeprof.device.jetson.power_mode`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.jetson.power_mode import *  # noqa: F403
