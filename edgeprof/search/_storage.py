"""Optuna storage URLs for shared studies: checked up front, created safely in parallel.

``check_storage_url`` refuses a bad ``--storage`` in one line naming the scheme (and, for
SQLite, the folder) before any work starts. ``create_study`` serializes the schema creation
of a SQLite database with an exclusive ``fcntl`` lock on ``<db>.lock`` beside it and retries
(bounded, with backoff) on the race a server database can still show, so several workers
started at once on one new study all join it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edgeprof.errors import MissingDependencyError, UserInputError

#: URL schemes (before any ``+driver``) SQLAlchemy-backed Optuna storage accepts.
SCHEMES = ("sqlite", "postgresql", "mysql", "oracle", "mssql")
#: Attempts at creating/joining a study when the database races (schema creation).
ATTEMPTS = 6
#: Seconds SQLite waits on a locked database before failing (many workers, one file).
SQLITE_TIMEOUT_S = 60


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///path`` URL (None for in-memory or other schemes)."""
    if not url.lower().startswith("sqlite"):
        return None
    rest = url.split(":///", 1)[1] if ":///" in url else ""
    rest = rest.split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest)


def check_storage_url(url: str) -> str:
    """The URL if Optuna can open it; otherwise one line naming the scheme or folder."""
    scheme = urlsplit(url).scheme.lower()
    base = scheme.split("+", 1)[0]
    if not scheme or base not in SCHEMES:
        raise UserInputError(f"--storage {url!r}: unknown URL scheme {scheme or '(none)'!r}; "
                             f"give an RDB URL like sqlite:///study.db or "
                             f"postgresql://user@host/db.")
    try:
        import sqlalchemy  # noqa: F401  (Optuna's RDB storage needs it)
    except ImportError:
        raise MissingDependencyError("--storage needs SQLAlchemy: pip install sqlalchemy."
                                     ) from None
    if base == "sqlite":
        if not url.lower().startswith("sqlite:///"):
            raise UserInputError(f"--storage {url!r}: a SQLite URL has three slashes and a "
                                 "file, e.g. sqlite:///study.db (relative) or "
                                 "sqlite:////abs/study.db.")
        db = sqlite_file(url)
        if db is not None:
            folder = db.parent if str(db.parent) else Path(".")
            if not folder.is_dir():
                raise UserInputError(f"--storage {url!r} (scheme sqlite): the folder {folder} "
                                     "does not exist; create it or pick another path.")
            if db.is_dir():
                raise UserInputError(f"--storage {url!r} (scheme sqlite): {db} is a folder; "
                                     "name a database file.")
            if not os.access(folder, os.W_OK):
                raise UserInputError(f"--storage {url!r} (scheme sqlite): the folder {folder} "
                                     "is not writable; pick another path.")
    return url


@contextlib.contextmanager
def _creation_lock(url: str) -> Iterator[None]:
    db = sqlite_file(url)
    if db is None:
        yield
        return
    with open(db.with_name(db.name + ".lock"), "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield


def create_study(storage: str | None, **kwargs: Any) -> Any:
    """``optuna.create_study(load_if_exists=True, …)`` that several workers may call at once
    on one new database."""
    import optuna

    if storage is None:
        return optuna.create_study(storage=None, **kwargs)
    engine_kwargs = ({"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
                     if storage.lower().startswith("sqlite") else {})
    delay = 0.1
    for attempt in range(ATTEMPTS):
        try:
            with _creation_lock(storage):
                rdb = optuna.storages.RDBStorage(storage, engine_kwargs=engine_kwargs)
                return optuna.create_study(storage=rdb, **kwargs)
        except Exception as exc:  # SQLAlchemy's OperationalError/IntegrityError on the race
            name = type(exc).__name__
            if attempt == ATTEMPTS - 1 or name not in ("OperationalError", "IntegrityError",
                                                       "DuplicatedStudyError"):
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
