"""Engines from outside the package: ``EDGEPROF_ENGINE_PLUGINS``.

A comma list of ``name=module:Class`` (or ``module:Class``, named by the class's ``name``)
registered with :func:`edgeprof.engines._base.register_engine`, so ``--engine name`` finds
them. Tests use it to run real sweeps with a stand-in engine; users, to add their own.
"""

from __future__ import annotations

import importlib
import os

from edgeprof.engines._base import register_engine
from edgeprof.errors import UserInputError

ENV = "EDGEPROF_ENGINE_PLUGINS"


def load_engine_plugins(value: str | None = None) -> list[str]:
    """Register every plugin engine named in ``value`` (default: the environment)."""
    text = os.environ.get(ENV, "") if value is None else value
    names = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        name, _, target = item.rpartition("=")
        if target.count(":") != 1:
            raise UserInputError(f"{ENV} entry {item!r} must look like name=module:Class.")
        if not name:
            module, cls = target.split(":")
            try:
                name = getattr(importlib.import_module(module), cls).name
            except (ImportError, AttributeError) as exc:
                raise UserInputError(f"{ENV} entry {item!r} cannot be imported ({exc}); "
                                     "check the module path and PYTHONPATH.") from None
        register_engine(name, target)
        names.append(name)
    return names
