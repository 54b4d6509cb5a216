"""Reading and writing files at the boundary: one-line errors in, atomic writes out.

Every file edgeprof reads goes through :func:`read_text_checked` (or :func:`load_mapping`),
which turns a missing file, a folder, a permission problem, non-UTF-8 bytes or a parse error
into one :class:`~edgeprof.errors.DataFormatError` naming the file, the line and the way out.
Every output goes through :func:`atomic_write`: a temp file in the target's folder, fsynced,
then renamed over the target, so a kill leaves either the old file or the new one, never a
truncated one. :func:`check_output_path` applies the one output-path rule of every command:
the parent folder is created, and a target that is a folder is an error.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from edgeprof.errors import DataFormatError, UserInputError


def read_text_checked(path: str | Path, what: str, hint: str = "") -> str:
    """The UTF-8 text of ``path``; one-line error when it is missing, a folder, unreadable
    or not UTF-8 text. ``what`` names the file's role (e.g. "profile")."""
    p = Path(path)
    tail = f"; {hint}" if hint else ""
    if not p.exists():
        raise DataFormatError(f"The {what} {p} does not exist{tail}.")
    if p.is_dir():
        raise DataFormatError(f"The {what} {p} is a folder, not a file{tail}.")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"Cannot read the {what} {p} ({exc.strerror}){tail}.") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFormatError(f"The {what} {p} is not UTF-8 text (byte {exc.start}, line "
                              f"{line}); it is binary or damaged{tail}.") from None


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml's C parser where PyYAML was built with it (about
    9× faster on a shipped profile; the same safe constructors), else the pure-Python one."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def parse_mapping(text: str, path: str | Path, what: str, hint: str = "") -> Any:
    """JSON (by ``.json`` suffix) or YAML; one-line error with the line of a parse problem."""
    import yaml

    p = Path(path)
    tail = f"; {hint}" if hint else ""
    try:
        if p.suffix.lower() == ".json":
            return json.loads(text)
        return load_yaml(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"The {what} {p} is not valid JSON ({exc.msg} at line "
                              f"{exc.lineno}, column {exc.colno}){tail}.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataFormatError(f"The {what} {p} is not valid YAML/JSON ({problem}{where})"
                              f"{tail}.") from None
    except (ValueError, RecursionError) as exc:  # e.g. a number too large, deep nesting
        raise DataFormatError(f"The {what} {p} cannot be parsed ({str(exc)[:80]}){tail}.") \
            from None


def load_mapping(path: str | Path, what: str, hint: str = "") -> dict[str, Any]:
    """A JSON/YAML file that must hold a mapping; one-line errors otherwise."""
    data = parse_mapping(read_text_checked(path, what, hint), path, what, hint)
    if not isinstance(data, dict):
        tail = f"; {hint}" if hint else ""
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        raise DataFormatError(f"{path} holds {kind}, not a mapping (key: value): it is not a "
                              f"{what}{tail}.")
    return data


def check_finite_tree(data: Any, path: str | Path, what: str, where: str = "") -> None:
    """Refuse NaN/inf anywhere in nested lists/dicts of numbers (e.g. profile coefficients)."""
    if isinstance(data, bool):
        return
    if isinstance(data, float) and not math.isfinite(data):
        raise DataFormatError(f"The {what} {path} holds a non-finite number ({data}) at "
                              f"{where or 'top level'}; regenerate it.")
    if isinstance(data, dict):
        for key, value in data.items():
            check_finite_tree(value, path, what, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list | tuple):
        for i, value in enumerate(data):
            check_finite_tree(value, path, what, f"{where}[{i}]")


def check_output_path(path: str | Path, flag: str = "--out") -> Path:
    """The one rule for every output file: create the parent folder; a folder target is an
    error. Called before the work starts, so a bad path fails fast."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise UserInputError(f"{flag} {p} is a folder; name a file inside it, e.g. "
                             f"{p / 'out'}{p.suffix or ''}.")
    parent = p.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserInputError(f"{flag} {p}: {parent} exists and is not a folder; pick another "
                             "path.") from None
    except OSError as exc:
        raise UserInputError(f"{flag} {p}: cannot create the folder {parent} "
                             f"({exc.strerror}); pick a writable path.") from None
    if not os.access(parent, os.W_OK):
        raise UserInputError(f"{flag} {p}: the folder {parent} is not writable; pick another "
                             "path.")
    return p


def check_output_dir(path: str | Path, flag: str) -> Path:
    """An output folder (e.g. ``--plots``): created if missing; an existing file is an error."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise UserInputError(f"{flag} {p} is a file, not a folder; name a folder.")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"{flag} {p}: cannot create the folder ({exc.strerror}); pick a "
                             "writable path.") from None
    return p


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsynced and renamed
    over the target: a kill at any moment leaves the previous file or the new one whole."""
    p = Path(path)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(p.parent if str(p.parent) else ".", os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return p


def atomic_savefig(fig: Any, path: str | Path, **kwargs: Any) -> Path:
    """``fig.savefig`` through :func:`atomic_write` (the format from the suffix, PNG by
    default)."""
    import io

    p = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=p.suffix.lstrip(".").lower() or "png", **kwargs)
    return atomic_write(p, buf.getvalue())


#: Folders this process holds the writer lock of (open lock files, kept until exit).
_HELD_LOCKS: dict[str, Any] = {}
LOCK_FILE = ".edgeprof.lock"


def lock_folder(folder: str | Path, what: str) -> None:
    """Take the exclusive writer lock of ``folder`` (``fcntl.flock`` on ``.edgeprof.lock``),
    held until the process exits; re-entrant within one process. A second process gets one
    line naming the running writer (pid, start time)."""
    import datetime
    import fcntl

    key = str(Path(folder).resolve())
    if key in _HELD_LOCKS:
        return
    path = Path(folder) / LOCK_FILE
    fh = open(path, "a+")  # noqa: SIM115 (kept open: the lock lives as long as the file)
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        raise UserInputError(f"{folder} is in use by another {what} ({holder}); wait for it "
                             f"to finish or use another --out folder.") from None
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}, started {started}\n")
    fh.flush()
    _HELD_LOCKS[key] = fh
