"""Moved to :mod:`edgeprof.device.nvidia.nvml`."""
# Moved (issue 17): a re-export during the parallel refactor; removed once unused.
from edgeprof.device.nvidia.nvml import *  # noqa: F403
