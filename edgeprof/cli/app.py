"""The ``edgeprof`` command line.

Each command lives in its own module under :mod:`edgeprof.cli` and registers itself on the
app through ``register(app)``. Data goes to stdout (so ``--json`` stays parseable); progress,
logs and hints go to stderr. Known errors become one line, ``Error: …``, and an exit code:
2 bad input, 3 missing optional package, 4 nothing feasible, 1 anything else.
Set ``EDGEPROF_DEBUG=1`` to see tracebacks.
"""

from __future__ import annotations

import importlib
import os
import sys

import click
import typer

from edgeprof.errors import EdgeprofError


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """``click.exceptions.<name>`` and, for typer ≥ 0.2x (which vendors click as
    ``typer._click``), typer's own class of that name: both must be caught."""
    classes: list[type[BaseException]] = [getattr(click.exceptions, name)]
    try:
        vendored = importlib.import_module("typer._click.exceptions")
    except ImportError:
        vendored = None
    for mod in (vendored, typer):
        cls = getattr(mod, name, None) if mod is not None else None
        if isinstance(cls, type) and cls not in classes:
            classes.append(cls)
    return tuple(classes)


_EXIT = _click_classes("Exit")
_ABORT = _click_classes("Abort")
_CLICK_ERROR = _click_classes("ClickException")
_USAGE_ERROR = _click_classes("UsageError")

app = typer.Typer(
    name="edgeprof",
    help=(
        "Measure, model and choose LLM deployments on edge GPUs.\n\n"
        "Pipeline: sweep (measure) → fit (models) → recommend (search under an SLO) → export."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Command modules, each with ``register(app)``. Add yours here.
COMMAND_MODULES: list[str] = [
    "edgeprof.cli.models",
    "edgeprof.cli.telemetry",
    "edgeprof.cli.accuracy",
    "edgeprof.cli.recommend",
    "edgeprof.cli.export",
    "edgeprof.cli.fit",
    "edgeprof.cli.predict",
    "edgeprof.cli.importer",
    "edgeprof.cli.sweep",
    "edgeprof.cli.load",
    "edgeprof.cli.devices",
    "edgeprof.cli.report",
]


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


def _print_version(value: bool) -> None:
    if value:
        from edgeprof import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.",
                                 is_eager=True, callback=_print_version),
) -> None:
    del version  # handled eagerly by _print_version


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning known errors into one line."""
    _register_all()
    debug = os.environ.get("EDGEPROF_DEBUG", "") not in ("", "0")
    try:
        app(args=argv, standalone_mode=False)
    except EdgeprofError as exc:
        if debug:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except _EXIT as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except _ABORT:
        print("Aborted.", file=sys.stderr)
        return 130
    except _CLICK_ERROR as exc:
        exc.show()  # type: ignore[attr-defined]
        return 2 if isinstance(exc, _USAGE_ERROR) else int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        print("Interrupted; finished measurements are kept.", file=sys.stderr)
        return 130
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
