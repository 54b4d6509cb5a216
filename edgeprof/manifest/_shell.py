"""Values that go into a manifest's shell commands: checked against strict patterns, quoted.

Every command is built from a list of arguments with :func:`join` (``shlex.quote`` on each),
so a value can never end a command or start another; model names, Hub ids and paths are in
addition checked against strict patterns first (:func:`hub_id`, :func:`local_path`), so an
odd value is refused with one line rather than deployed quoted.
"""

from __future__ import annotations

import re
import shlex

from edgeprof.errors import UserInputError

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_PATH = re.compile(r"^[A-Za-z0-9_./+=@,:-]{1,1024}$")


def model_name(value: str) -> str:
    """A catalog / artifact name: letters, digits, ``. _ -``."""
    if not _NAME.fullmatch(value) or ".." in value:
        raise UserInputError(f"Model name {value!r} has characters a deployment command cannot "
                             f"carry; use a catalog name (`edgeprof models`), a Hub id or a "
                             f"local folder whose name is letters, digits, '.', '_' or '-'.")
    return value


def hub_id(value: str) -> str:
    """A Hugging Face repository id ``owner/name``."""
    if not _HUB_ID.fullmatch(value) or ".." in value:
        raise UserInputError(f"{value!r} is not a Hugging Face repository id (owner/name of "
                             f"letters, digits, '.', '_' or '-').")
    return value


def local_path(value: str) -> str:
    """A local file or folder path without spaces or shell metacharacters."""
    if not _PATH.fullmatch(value) or value.startswith("-"):
        raise UserInputError(f"Path {value!r} has characters a deployment command cannot carry "
                             f"(allowed: letters, digits and _ . / + = @ , : -); move or rename "
                             f"it and export again.")
    return value


def is_hub_id(value: str) -> bool:
    return bool(_HUB_ID.fullmatch(value)) and ".." not in value


def join(argv: list[str | int | float]) -> str:
    """One shell command from its arguments, each quoted with ``shlex.quote``."""
    return shlex.join(str(a) for a in argv)


def roundtrip_problem(command: str) -> str | None:
    """Why ``command`` is not one plain command (``None`` when it round-trips).

    A command round-trips when ``shlex.join(shlex.split(command)) == command``: each
    argument is a single shell word, so nothing in it is a separator (``;``, ``&&``, ``|``),
    a redirection, a substitution or a comment.
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"is not valid shell quoting ({exc})"
    if not argv:
        return "is empty"
    if shlex.join(argv) != command:
        return (f"does not round-trip through shlex.split (word by word it reads "
                f"{shlex.join(argv)!r}; as written a shell may run more than one command); "
                f"re-export it")
    return None
