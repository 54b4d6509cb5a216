"""Execute the shipped notebooks with nbclient and check their key outputs.

The kernel is the test's own interpreter: a temporary ``python3`` kernelspec whose argv is
``sys.executable`` is put first on ``JUPYTER_PATH``, so a user-level kernelspec pointing at
another Python cannot shadow it (ipykernel must be installed in this environment — it is in
the ``test`` extra).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def own_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebook uses the inline backend
    return "python3"


def _text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out:
                parts.append(out["data"].get("text/plain", ""))
    return "\n".join(parts)


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


def test_pareto_agx_orin_runs(own_kernel: str) -> None:
    path = NOTEBOOKS / "pareto_agx_orin.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=own_kernel, timeout=300,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    text = _text(nb)
    # the answer at 2 s (a winner or nothing fits, both named) and at the other SLOs
    assert re.search(r"WINNER@2s: (nothing fits — fastest is \S+|\S+ (bf16|int8|int4) budget)",
                     text), text
    for slo in ("10s", "30s", "60s"):
        assert f"WINNER@{slo}: " in text
    assert "predicted:spec-derived" in text and "imported" in text and "prior" in text
    assert "arXiv" in text  # the published accuracy names its sources
    images = [o for c in nb.cells for o in c.get("outputs", [])
              if "data" in o and "image/png" in o["data"]]
    assert len(images) == 2  # latency heat maps and the Pareto fronts
