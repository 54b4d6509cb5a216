"""The ``edgeprof`` command line: ``run()`` (the console script), ``main(argv) -> exit code``.

Each command is a private module here with ``register(app)``, listed in
``edgeprof.cli._app.COMMAND_MODULES``. ``edgeprof/cli/app.py`` is only a shim for console
scripts installed before the modules went private.
"""

from typing import TYPE_CHECKING

from edgeprof._lazy import lazy_exports

if TYPE_CHECKING:
    from edgeprof.cli._app import INTERRUPTED, main, run

# Imported on first use: see edgeprof._lazy.
_LAZY = {
    "INTERRUPTED": "edgeprof.cli._app",
    "main": "edgeprof.cli._app",
    "run": "edgeprof.cli._app",
}

__all__ = [
    "INTERRUPTED", "main", "run",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
