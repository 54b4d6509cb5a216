"""The sweep folder: ``measurements.jsonl`` (append-only, fsync per row) and ``run.json``.

Opening a folder repairs a torn last line (SIGKILL mid-write), reads the keys of finished
rows so a rerun measures only what is missing, and refuses to mix rows from another machine
or an incompatible spec (pyperf's rule: results whose checked metadata differ are not merged).

While a point (or a model load) runs, ``.in-progress.json`` holds the rows it would leave if
the process died (SIGKILL, the kernel's OOM killer). Opening the folder again turns a marker
left behind into ``killed`` rows with the cause where the kernel recorded one (cgroup
``memory.events`` oom_kill counter, kernel log), so a resume does not re-run the point that
killed it; ``open(retry_killed=True)`` drops the ``killed`` rows to measure them again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from edgeprof.device._detect import fingerprint_mismatch
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
from edgeprof.table._io import read_run_json, repair_torn_tail

MARKER_FILE = ".in-progress.json"


class SweepStore:
    """One sweep output folder."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.table = self.folder / MEASUREMENTS_FILE
        self.run_file = self.folder / RUN_FILE

    def open(self, *, retry_killed: bool = False) -> set[tuple]:
        """Create the folder if needed, repair the table's tail, record a point left in
        progress as ``killed``, return finished keys (``killed`` ones too unless retried)."""
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
        self.recover_killed()
        if retry_killed:
            self.drop_killed()
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

    # ------------------------------------------------------------------ in-progress marker
    @property
    def marker(self) -> Path:
        return self.folder / MARKER_FILE

    def mark(self, what: str, rows: list[Measurement]) -> None:
        """Before ``what`` runs: the ``killed`` rows to write if the process dies in it."""
        data = {"what": what, "pid": os.getpid(), "oom_kill": oom_kill_count(),
                "rows": [r.model_dump(mode="json") for r in rows]}
        _atomic_json(self.folder, self.marker, data)

    def clear_mark(self) -> None:
        self.marker.unlink(missing_ok=True)

    def recover_killed(self) -> int:
        """Turn a marker left by a dead process into ``killed`` rows; return how many."""
        if not self.marker.exists():
            return 0
        try:
            data = json.loads(self.marker.read_text())
            rows = [Measurement.model_validate(r) for r in data["rows"]]
        except (ValueError, KeyError, TypeError):
            self.clear_mark()  # a marker torn mid-write: its point never started
            return 0
        done = self.done_keys()
        cause = death_cause(int(data.get("pid") or 0), data.get("oom_kill"))
        written = 0
        for row in rows:
            if row.key in done:
                continue
            error = (f"{data.get('what', 'run')}: the process died without writing a row "
                     f"({cause}); not retried unless --retry-killed")
            self.append(row.model_copy(update={"error": error}))
            written += 1
        self.clear_mark()
        return written

    def drop_killed(self) -> int:
        """Remove ``killed`` rows (atomic rewrite) so those points are measured again."""
        if not self.table.exists():
            return 0
        kept, dropped = [], 0
        for line in self.table.read_text().splitlines():
            if line.strip() and json.loads(line).get("status") == "killed":
                dropped += 1
            elif line.strip():
                kept.append(line)
        if dropped:
            _atomic_text(self.folder, self.table, "".join(x + "\n" for x in kept))
        return dropped

    # ------------------------------------------------------------------ run.json
    def read_conditions(self) -> dict[str, Any] | None:
        """``run.json`` as a dict (``edgeprof.table.read_run_json``), or ``None``."""
        return read_run_json(self.folder)

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
        _atomic_json(self.folder, self.run_file, conditions.model_dump(mode="json"))


def _atomic_text(folder: Path, path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_json(folder: Path, path: Path, data: Any) -> None:
    _atomic_text(folder, path, json.dumps(data, indent=2))


def memory_events_path() -> Path | None:
    """This process's cgroup v2 ``memory.events`` (``EDGEPROF_MEMORY_EVENTS`` overrides)."""
    env = os.environ.get("EDGEPROF_MEMORY_EVENTS")
    if env:
        return Path(env)
    try:
        line = next(x for x in Path("/proc/self/cgroup").read_text().splitlines()
                    if x.startswith("0::"))
    except (OSError, StopIteration):
        return None
    path = Path("/sys/fs/cgroup") / line[3:].lstrip("/") / "memory.events"
    return path if path.exists() else None


def oom_kill_count() -> int | None:
    """The cgroup's ``oom_kill`` counter, or ``None`` where it cannot be read."""
    path = memory_events_path()
    try:
        text = path.read_text() if path else ""
    except OSError:
        return None
    found = re.search(r"^oom_kill\s+(\d+)", text, re.M)
    return int(found.group(1)) if found else None


def death_cause(pid: int, oom_before: int | None) -> str:
    """Why process ``pid`` died, as far as the kernel says: the cgroup's oom_kill counter
    rising since the marker, or an OOM-killer line naming the pid in ``dmesg``; else unknown."""
    now = oom_kill_count()
    if oom_before is not None and now is not None and now > oom_before:
        return f"killed by the OOM killer: cgroup memory.events oom_kill {oom_before} -> {now}"
    if pid > 0:
        try:
            log = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=5,
                                 check=False).stdout
        except (OSError, subprocess.SubprocessError):
            log = ""
        for line in reversed(log.splitlines()):
            if re.search(rf"Killed process {pid}\b", line):
                return "killed by the OOM killer: kernel log '" + " ".join(line.split())[:160] + "'"
    return ("cause unknown: no OOM kill in cgroup memory.events or the kernel log; "
            "a signal such as SIGKILL or a crash")
