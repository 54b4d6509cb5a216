"""The EdgeReasoning importer on the real reference files."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeprof.importers._edgereasoning import import_edgereasoning
from edgeprof.table import read_measurements

REF = Path(__file__).resolve().parents[3] / "shared/reference/edgereasoning-jetson-agx-orin"
pytestmark = pytest.mark.skipif(not REF.is_dir(), reason="reference data not present")


def test_import_writes_prefill_and_decode_rows(tmp_path: Path) -> None:
    rows = read_measurements(import_edgereasoning(REF, tmp_path / "er").parent)
    models = {r.model for r in rows}
    assert models == {"deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-llama-8b",
                      "deepseek-r1-distill-qwen-14b"}
    assert {r.device for r in rows} == {"jetson-agx-orin-64gb"}
    assert {(r.engine, r.quant, r.power_mode, r.source) for r in rows} == {
        ("vllm", "bf16", "MAXN", "imported:edgereasoning")}
    pre = [r for r in rows if r.ttft_s is not None]
    assert len(pre) == 3 * 33 and all(r.output_tokens == 1 for r in pre)
    glitch = [r for r in pre if r.model.endswith("8b") and r.input_tokens == 2561]
    assert glitch[0].ttft_s == pytest.approx(22.49482)
    dec = [r for r in rows if r.ttft_s is None]
    assert all(r.e2e_s is None for r in dec)
    assert all(r.decode_s is None for r in dec if r.output_tokens == 1)
    q15 = {r.input_tokens for r in dec if r.model.endswith("1.5b")}
    assert min(q15) == 130  # decode.json's input lengths are kept as given
    assert {r.input_tokens for r in dec if r.model.endswith("8b")} >= {128, 1024}


def test_missing_folder_is_one_line_error(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("import", "edgereasoning", str(tmp_path / "nope"), "--out",
                           str(tmp_path / "o"))
    assert code == 2 and err.startswith("Error:") and len(err.strip().splitlines()) == 1
