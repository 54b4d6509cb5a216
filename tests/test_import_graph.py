"""The package import graph (docs/CONTRACTS.md): no cycles, nothing below the CLI imports it,
lower packages never import upper ones, engines and fitting meet only in the table.

Read statically from every module's source, so an import inside a function counts too."""

from __future__ import annotations

import ast
from collections import defaultdict
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "edgeprof"
# docs/CONTRACTS.md: cli → (sweep, fit, search, manifest, report, …) → these.
LOWER = {"engines", "telemetry", "catalog", "accuracy", "device", "table"}


def package_imports(root: Path = PKG) -> dict[str, set[str]]:
    """{package: the other edgeprof packages its modules import}."""
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).parts
        if len(rel) == 1:
            continue  # top-level shared modules (errors, units, …) sit under everything
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                     and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                bits = name.split(".")
                if bits[0] == "edgeprof" and len(bits) > 1 and bits[1] in packages \
                        and bits[1] != rel[0]:
                    edges[rel[0]].add(bits[1])
    return edges


def test_the_package_graph_has_no_cycle() -> None:
    try:
        tuple(TopologicalSorter(package_imports()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle between packages: {exc.args[1]}") from None


def test_nothing_below_the_cli_imports_it() -> None:
    assert {p for p, deps in package_imports().items() if "cli" in deps} == set()


def test_lower_packages_import_only_lower_packages() -> None:
    upward = {p: deps - LOWER for p, deps in package_imports().items() if p in LOWER}
    assert all(not d for d in upward.values()), upward


def test_engines_and_fitting_do_not_import_each_other() -> None:
    graph = package_imports()
    assert "fit" not in graph["engines"] and "engines" not in graph["fit"]


def test_the_reader_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "a" / "_m.py").write_text("def f():\n    from edgeprof.b import x\n")
    assert package_imports(tmp_path) == {"a": {"b"}}
