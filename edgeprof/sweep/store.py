"""The sweep folder: ``measurements.jsonl`` (append-only, fsync per row) and ``run.json``.

Opening a folder repairs a torn last line (SIGKILL mid-write), reads the keys of finished
rows so a rerun measures only what is missing, and refuses to mix rows from another machine
or an incompatible spec (pyperf's rule: results whose checked metadata differ are not merged).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from edgeprof.device.detect import fingerprint_mismatch
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.table import (
    MEASUREMENTS_FILE,
    RUN_FILE,
    SCHEMA_VERSION,
    Measurement,
    RunConditions,
    append_row,
    point_key,
)
from edgeprof.table.io import repair_torn_tail


class SweepStore:
    """One sweep output folder."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.table = self.folder / MEASUREMENTS_FILE
        self.run_file = self.folder / RUN_FILE

    def open(self) -> set[tuple]:
        """Create the folder if needed, repair the table's tail, return finished keys."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise UserInputError(f"Cannot write to --out {self.folder} ({exc.strerror}); "
                                 "pick a writable folder.") from None
        from edgeprof.files import lock_folder

        lock_folder(self.folder, "sweep")  # one writer per folder; a second one is refused
        repair_torn_tail(self.table)
        return self.done_keys()

    def rows(self) -> list[Measurement]:
        if not self.table.exists():
            return []
        out = []
        for number, line in enumerate(self.table.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(Measurement.model_validate(json.loads(line)))
            except ValueError:
                raise DataFormatError(f"{self.table}:{number} is not a measurement row; "
                                      "fix or remove it, or use a new --out folder.") from None
        return out

    def done_keys(self) -> set[tuple]:
        return {point_key(r.model_dump()) for r in self.rows()}

    def append(self, row: Measurement) -> None:
        append_row(self.table, row)

    # ------------------------------------------------------------------ run.json
    def read_conditions(self) -> dict[str, Any] | None:
        if not self.run_file.exists():
            return None
        try:
            return json.loads(self.run_file.read_text())
        except json.JSONDecodeError:
            raise DataFormatError(f"{self.run_file} is not valid JSON; use a new --out folder "
                                  "or remove it.") from None

    def check_compatible(self, conditions: RunConditions,
                         incompatibility: str | None) -> None:
        """Refuse to resume into a folder measured elsewhere or under another spec."""
        old = self.read_conditions()
        if old is None:
            return
        hint = f"use a new --out folder (not {self.folder})"
        if old.get("schema_version") != SCHEMA_VERSION:
            raise UserInputError(f"{self.run_file} has schema version "
                                 f"{old.get('schema_version')}, this edgeprof writes "
                                 f"{SCHEMA_VERSION}; {hint}.")
        diff = fingerprint_mismatch(old.get("device_fingerprint") or {},
                                    conditions.device_fingerprint)
        if diff:
            raise UserInputError(f"{self.folder} was measured on another machine "
                                 f"({', '.join(diff)} differ); {hint}.")
        if incompatibility:
            raise UserInputError(f"{self.folder} holds an incompatible sweep "
                                 f"({incompatibility}); {hint}.")
        if old.get("library_versions", {}) != conditions.library_versions:
            raise UserInputError(f"{self.folder} was measured with other library versions "
                                 f"({old.get('library_versions')}); {hint}.")

    def write_conditions(self, conditions: RunConditions) -> None:
        """Write ``run.json`` atomically (a kill never leaves half a file)."""
        data = json.dumps(conditions.model_dump(mode="json"), indent=2)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".run-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.run_file)
