"""edgeprof: measure, model and choose LLM deployments on edge GPUs.

The core (catalog, table, fit, search, manifest) imports without torch; engines that need
torch or onnxruntime import them lazily.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgeprof")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
