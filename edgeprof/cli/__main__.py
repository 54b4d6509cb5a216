"""``python -m edgeprof.cli``: the ``edgeprof`` command line."""

from edgeprof.cli._app import run

run()
