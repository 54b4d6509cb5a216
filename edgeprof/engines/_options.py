"""Engine options (a spec's ``engine_options:``), typed per engine and checked when read.

The pattern for every engine: an :class:`~edgeprof.engines._base.Engine` subclass may set
``Options``, a pydantic model (``extra="forbid"``) of the keyword arguments it accepts; an
engine that does not gets one built from its ``__init__`` signature (names, annotations,
defaults). :func:`check_engine_options` validates a mapping against it, so
``engine_options: {bogus: 1}`` or ``{threads: "many"}`` is one line naming the allowed keys,
before any model is loaded.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from edgeprof.errors import UserInputError

#: Constructor arguments the sweep sets itself (never from ``engine_options``).
RESERVED = ("self", "device")


def options_model(cls: type) -> type[BaseModel]:
    """The engine's ``Options`` model, or one derived from its ``__init__`` signature."""
    declared = cls.__dict__.get("Options")
    if isinstance(declared, type) and issubclass(declared, BaseModel):
        return declared
    init = cls.__init__  # type: ignore[misc]
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # names only imported under TYPE_CHECKING
        hints = {}
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(init).parameters.items():
        if name in RESERVED or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        default = ... if param.default is param.empty else param.default
        fields[name] = (hints.get(name, Any), default)
    return create_model(f"{cls.__name__}Options",  # type: ignore[call-overload, no-any-return]
                        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True),
                        **fields)


def engine_class(name: str) -> type | None:
    """The registered engine class, or None when unknown or its module does not import
    (``get_engine`` then gives its own one-line error)."""
    from edgeprof.engines._base import _REGISTRY

    target = _REGISTRY.get(name)
    if target is None:
        return None
    module_name, cls_name = target.split(":")
    try:
        return getattr(importlib.import_module(module_name), cls_name, None)
    except ImportError:
        return None


def check_engine_options(name: str, options: dict[str, Any] | None,
                         where: str = "engine_options") -> dict[str, Any]:
    """``options`` validated against engine ``name``'s Options; one-line error otherwise."""
    options = dict(options or {})
    cls = engine_class(name)
    if cls is None or not options:
        return options
    model = options_model(cls)
    allowed = ", ".join(k for k in model.model_fields) or "(none)"
    try:
        model.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "?"
        if first["type"] == "extra_forbidden":
            raise UserInputError(f"{where}: the {name} engine has no option {key!r}; allowed: "
                                 f"{allowed}.") from None
        raise UserInputError(f"{where}.{key} for the {name} engine: {first['msg']} (got "
                             f"{first.get('input')!r:.60}); allowed keys: {allowed}.") from None
    return options
