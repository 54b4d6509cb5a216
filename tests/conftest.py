"""Shared test fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Hardware tests replay fixture trees through EDGEPROF_SYSFS_ROOT / EDGEPROF_PROCFS_ROOT /
# EDGEPROF_ETC_ROOT (see tests/fixtures); tests that sweep on this machine's CPU do read its
# real /proc/cpuinfo and thermal zones, which is what they measure.
os.environ.setdefault("MPLBACKEND", "Agg")

# CI (CI=true) draws hypothesis examples from a fixed seed, so a landing never hangs on a new
# random draw; runs elsewhere keep drawing fresh examples (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process; returns (exit_code, stdout, stderr)."""
    from edgeprof.cli._app import main

    def _run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run
