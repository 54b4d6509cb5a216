"""Typed, versioned loaders for the files people write by hand (sweep specs, device specs).

A file's ``schema_version`` picks its pydantic model from a table of one model per version
(:func:`load_versioned`). A file without one was written before the field existed and reads
as version 1; a version newer than this edgeprof knows is refused, saying to upgrade. Every
problem — a missing field, a wrong type, an unknown key, a bad value — is one
:class:`~edgeprof.errors.DataFormatError` naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edgeprof.errors import DataFormatError, UserInputError

M = TypeVar("M", bound=BaseModel)


def _tail(hint: str) -> str:
    return f"; {hint}" if hint else ""


def schema_version(data: Mapping[str, Any], path: str | Path, what: str,
                   known: Mapping[int, Any], hint: str = "") -> int:
    """The file's ``schema_version`` (1 when absent), refused when it is not an integer or
    not one of ``known``'s versions (a newer one: upgrade edgeprof)."""
    from edgeprof import __version__

    version = data.get("schema_version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise DataFormatError(f"The {what} {path}: field 'schema_version' must be an integer "
                              f"like 1; got {version!r:.40}{_tail(hint)}.")
    newest = max(known)
    if version > newest:
        raise DataFormatError(f"The {what} {path} has schema_version {version}, newer than "
                              f"this edgeprof ({__version__}) reads (≤ {newest}); upgrade "
                              "edgeprof (pip install -U edgeprof) to read it.")
    if version not in known:
        raise DataFormatError(f"The {what} {path} has schema_version {version}; this edgeprof "
                              f"reads {', '.join(map(str, sorted(known)))}{_tail(hint)}.")
    return version


def field_name(loc: tuple[Any, ...]) -> str:
    """``("power_modes", 0, "name")`` → ``power_modes[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_message(exc: ValidationError, path: str | Path, what: str, hint: str = "",
                       prefix: str = "", known: Iterable[str] = ()) -> str:
    """One line for the first problem of ``exc``, naming the file and the field."""
    first = exc.errors()[0]
    field = prefix + field_name(tuple(first["loc"]))
    inner = (first.get("ctx") or {}).get("error")
    head = f"The {what} {path}: field {field!r}"
    if isinstance(inner, UserInputError):
        return f"{head}: {str(inner).rstrip('.')}{_tail(hint)}."
    if first["type"] == "missing":
        return f"The {what} {path} lacks the field {field!r}{_tail(hint)}."
    if first["type"] == "extra_forbidden":
        names = ", ".join(k for k in known if k != "schema_version")
        return (f"The {what} {path} has an unknown field {field!r}"
                f"{f' (known: {names})' if names else ''}{_tail(hint)}.")
    got = first.get("input")
    return f"{head}: {first['msg']}; got {got!r:.60}{_tail(hint)}."


def validate(model: type[M], data: Any, path: str | Path, what: str, hint: str = "",
             prefix: str = "") -> M:
    """``model.model_validate(data)``; a problem is one :class:`DataFormatError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataFormatError(validation_message(exc, path, what, hint, prefix,
                                                 model.model_fields)) from None


def load_versioned(data: Mapping[str, Any], path: str | Path, what: str,
                   models: Mapping[int, type[M]], hint: str = "") -> M:
    """``data`` (a file's mapping) validated by the model of its ``schema_version``."""
    version = schema_version(data, path, what, models, hint)
    return validate(models[version], {**data, "schema_version": version}, path, what, hint)
