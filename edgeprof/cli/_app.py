"""The ``edgeprof`` command line.

Each command lives in its own module under :mod:`edgeprof.cli` and registers itself on the
app through ``register(app)``. Data goes to stdout (so ``--json`` stays parseable); progress,
logs and hints go to stderr. Known errors become one line, ``Error: …``, and an exit code:
2 bad input, 3 missing optional package, 4 nothing feasible, 130 interrupted,
1 anything else (an internal error).
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
    "edgeprof.cli._models",
    "edgeprof.cli._telemetry",
    "edgeprof.cli._accuracy",
    "edgeprof.cli._recommend",
    "edgeprof.cli._export",
    "edgeprof.cli._fit",
    "edgeprof.cli._predict",
    "edgeprof.cli._importer",
    "edgeprof.cli._sweep",
    "edgeprof.cli._load",
    "edgeprof.cli._devices",
    "edgeprof.cli._report",
]


_registered = False


def _register_all() -> None:
    """Register every command module on the app, once per process: ``main`` runs many
    times in one process (tests, embedding), and typer rebuilds every registered command
    on each call, so registering again would grow the app — and each call's cost — without
    bound."""
    global _registered
    if _registered:
        return
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    _registered = True


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


INTERRUPTED = "Interrupted; finished measurements are kept."


def _unexpected(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for an exception no loader turned into an EdgeprofError:
    a file-system or decode problem is the user's (2); anything else is a bug (1)."""
    if isinstance(exc, UnicodeDecodeError):
        return (f"A file given is not UTF-8 text ({exc.reason} at byte {exc.start}); pass a "
                "text file written by edgeprof.", 2)
    if isinstance(exc, OSError):
        name = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return (f"Cannot use{name} ({exc.strerror or exc}); check the path and its "
                "permissions.", 2)
    if isinstance(exc, RecursionError):
        return "An input is nested too deeply to read; pass a file written by edgeprof.", 2
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return (f"internal error ({type(exc).__name__}: {first}); rerun with EDGEPROF_DEBUG=1 "
            "for the traceback and report it.", 1)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning known errors into one line.

    Exit codes: 0 success, 2 bad input, 3 missing optional package, 4 nothing feasible,
    130 interrupted (Ctrl-C), 1 an internal error. ``EDGEPROF_DEBUG=1`` re-raises.
    """
    debug = os.environ.get("EDGEPROF_DEBUG", "") not in ("", "0")
    try:
        _register_all()
        rc = app(args=argv, standalone_mode=False)
    except EdgeprofError as exc:
        if debug:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except _EXIT as exc:
        code = int(getattr(exc, "exit_code", 0) or 0)
        if code == 130:
            print(INTERRUPTED, file=sys.stderr)
        return code
    except _ABORT:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except _CLICK_ERROR as exc:
        exc.show()  # type: ignore[attr-defined]
        return 2 if isinstance(exc, _USAGE_ERROR) else int(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Exception as exc:  # the safety net: one line, never a traceback
        if debug:
            raise
        message, code = _unexpected(exc)
        print(f"Error: {message}", file=sys.stderr)
        return code
    if isinstance(rc, int) and rc:
        if rc == 130:
            print(INTERRUPTED, file=sys.stderr)
        return rc
    return 0


def run() -> None:
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C while Python was still starting the command
        print(INTERRUPTED, file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
