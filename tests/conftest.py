"""Shared test fixtures."""

from __future__ import annotations

import os

import pytest

# Tests never touch the real sysfs/procfs of the test machine unless they say so.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit_code, stdout, stderr)."""
    from edgeprof.cli.app import main

    def _run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
