"""The public surface: each package's ``__all__`` resolves, its lazy table agrees with it,
and docs/CONTRACTS.md lists exactly what the code exports."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(
    ".".join(p.parent.relative_to(ROOT).parts)
    for p in (ROOT / "edgeprof").rglob("__init__.py")
    if p.parent != ROOT / "edgeprof"
)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    mod = importlib.import_module(package)
    exported = list(mod.__all__)
    assert len(exported) == len(set(exported)), f"{package}.__all__ repeats a name"
    lazy = getattr(mod, "_LAZY", {})
    assert set(lazy) <= set(exported), f"{package}: lazy names missing from __all__"
    for name in exported:
        assert getattr(mod, name) is not None, f"{package}.{name}"
    for name, module in lazy.items():
        assert getattr(importlib.import_module(module), name) is getattr(mod, name), name


def _contracts_table() -> dict[str, set[str]]:
    text = (ROOT / "docs" / "CONTRACTS.md").read_text()
    rows = re.findall(r"^\| `(edgeprof\.[\w.]+)` \| (.+) \|$", text, flags=re.M)
    return {pkg: set(re.findall(r"`([^`]+)`", names)) for pkg, names in rows}


def test_contracts_lists_each_package_surface_as_exported() -> None:
    table = _contracts_table()
    assert set(table) == set(PACKAGES), "docs/CONTRACTS.md's package table is out of date"
    for package in PACKAGES:
        exported = set(importlib.import_module(package).__all__)
        assert table[package] == exported, (
            f"{package}: CONTRACTS.md lacks {sorted(exported - table[package])}, "
            f"has extra {sorted(table[package] - exported)}")
