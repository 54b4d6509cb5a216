"""Moved to :mod:`edgeprof.device.power_source`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.power_source import *  # noqa: F403
