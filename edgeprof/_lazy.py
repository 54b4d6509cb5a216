"""Lazy package exports (PEP 562).

A package's ``__init__`` names in ``__all__`` everything users may import from it. Names
whose module is cheap and cycle-free are imported eagerly; the rest are listed in a
``{name: module}`` table and imported on first attribute access, so ``import edgeprof.x``
(and the CLI start) costs no more than before and never cycles through a submodule.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(package: str, lazy: dict[str, str], public: Iterable[str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``lazy`` maps an exported name to the
    module that defines it; the value is cached on the package after the first access."""
    names = tuple(public)

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
