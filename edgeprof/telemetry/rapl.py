"""Moved to :mod:`edgeprof.device.cpu.rapl`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.cpu.rapl import *  # noqa: F403
