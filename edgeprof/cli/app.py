"""Compatibility shim: console scripts installed before issue 17 call
``edgeprof.cli.app:run``. The command line lives in :mod:`edgeprof.cli._app`; new installs use
``edgeprof.cli:run``."""

from edgeprof.cli._app import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    run()
