"""Helpers shared by the CLI commands: consoles, JSON output, option parsing."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

# Data to stdout, everything else to stderr.
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_jsonl(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        sys.stdout.write(json.dumps(row, default=str) + "\n")
    sys.stdout.flush()
