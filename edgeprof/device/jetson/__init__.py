"""The Jetson family: board detection, nvpmodel and jetson_clocks, the power-mode
controller, GPU devfreq clocks, INA3221/INA238 rails and tegrastats."""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports

if TYPE_CHECKING:
    from edgeprof.device.jetson._board import jetson_profile
    from edgeprof.device.jetson._clocks import gpu_clock_mhz, gpu_devfreq
    from edgeprof.device.jetson._power_mode import PowerModeController, RebootRequiredError
    from edgeprof.device.jetson._rails import JetsonRailsSource
    from edgeprof.device.jetson._tegrastats import TegrastatsSource, parse_line, reading_from_line
    from edgeprof.device.jetson._tools import (
        CommandResult,
        parse_jetson_clocks_show,
        parse_nvpmodel_conf,
        parse_nvpmodel_query,
    )

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "CommandResult": "edgeprof.device.jetson._tools",
    "JetsonRailsSource": "edgeprof.device.jetson._rails",
    "PowerModeController": "edgeprof.device.jetson._power_mode",
    "RebootRequiredError": "edgeprof.device.jetson._power_mode",
    "TegrastatsSource": "edgeprof.device.jetson._tegrastats",
    "gpu_clock_mhz": "edgeprof.device.jetson._clocks",
    "gpu_devfreq": "edgeprof.device.jetson._clocks",
    "jetson_profile": "edgeprof.device.jetson._board",
    "parse_jetson_clocks_show": "edgeprof.device.jetson._tools",
    "parse_line": "edgeprof.device.jetson._tegrastats",
    "parse_nvpmodel_conf": "edgeprof.device.jetson._tools",
    "parse_nvpmodel_query": "edgeprof.device.jetson._tools",
    "reading_from_line": "edgeprof.device.jetson._tegrastats",
}

__all__ = [
    "CommandResult", "JetsonRailsSource", "PowerModeController", "RebootRequiredError",
    "TegrastatsSource", "gpu_clock_mhz", "gpu_devfreq", "jetson_profile",
    "parse_jetson_clocks_show", "parse_line", "parse_nvpmodel_conf", "parse_nvpmodel_query",
    "reading_from_line",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
