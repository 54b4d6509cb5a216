"""The sweep spec file (``edgeprof sweep --spec FILE``): a typed, versioned loader.

The file holds the sweep's keys (the flags' names work too), at the top level or under
``sweep:``. ``schema_version`` picks the model (:data:`SPEC_FILE_VERSIONS`; absent means 1,
as files written before the field existed); each key is checked by the same validators as
the flags, so a bad value is one error naming the file and the field before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from edgeprof.errors import DataFormatError
from edgeprof.files import parse_mapping, read_text_checked
from edgeprof.loaders import load_versioned
from edgeprof.sweep._spec import SweepSpec, normalise_keys

HINT = "fix the --spec file (keys: docs/sweep.md)"


class SweepSpecFileV1(SweepSpec):
    """Version 1 of the spec file: every sweep key, all optional (flags may supply them)."""

    schema_version: Literal[1] = 1
    kind: Literal["sweep"] | None = None
    models: list[str] | None = None  # type: ignore[assignment]  # a flag may give them
    engine_options: dict[str, Any] | None = Field(default=None)  # type: ignore[assignment]


SPEC_FILE_VERSIONS: dict[int, type[SweepSpecFileV1]] = {1: SweepSpecFileV1}


class SpecFileKeys(dict[str, Any]):
    """The file's keys as written (normalised names), merged with the flags later by
    :func:`~edgeprof.sweep._spec.build_spec`; ``path`` names the file in its errors."""

    def __init__(self, keys: dict[str, Any], path: Path) -> None:
        super().__init__(keys)
        self.path = path


def read_spec_file(path: Path | str) -> SpecFileKeys:
    """The keys of a sweep spec file, each checked; one-line errors naming file and field."""
    path = Path(path)
    data = parse_mapping(read_text_checked(path, "sweep spec file", HINT), path,
                         "sweep spec file", HINT)
    if data is None:  # an empty file: every key from the flags
        data = {}
    if not isinstance(data, dict):
        raise DataFormatError(f"The sweep spec file {path} holds a {type(data).__name__}, "
                              f"not a mapping of sweep keys (models:, quants:, …); {HINT}.")
    nested = data.get("sweep")
    if nested is not None:
        if not isinstance(nested, dict):
            raise DataFormatError(f"The sweep spec file {path}: field 'sweep' must be a "
                                  f"mapping of sweep keys (models:, quants:, …); {HINT}.")
        data = {**{k: v for k, v in data.items() if k in ("schema_version", "kind")},
                **nested}
    keys = normalise_keys(data)
    load_versioned(keys, path, "sweep spec file", SPEC_FILE_VERSIONS, HINT)
    return SpecFileKeys({k: v for k, v in keys.items() if k not in ("schema_version", "kind")},
                        path)
