"""End to end with the real torch engine on a one-layer scaled model (CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.mark.slow
def test_torch_sweep_cli(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEPROF_POWER_SOURCE", "none")
    out = tmp_path / "sweep"
    args = ["sweep", "--engine", "torch", "--models", "qwen2.5-0.5b-scaled-1L",
            "--quants", "fp32,int8", "--inputs", "16", "--outputs", "4", "--repeats", "2",
            "--idle-baseline", "0", "--out", str(out), "--json"]
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["measured_now"] == {"ok": 4}
    for point in summary["points"]:
        assert point["ok"] == 2 and 0 < point["ttft_s"] < point["e2e_s"]
    rows = [json.loads(line) for line in (out / "measurements.jsonl").read_text().splitlines()]
    assert {r["quant_impl"] for r in rows} == {"native"}
    assert rows[0]["weight_bytes"] > rows[-1]["weight_bytes"]  # int8 weights are smaller
    assert all(len(r["token_times_s"]) == 4 and r["peak_mem_bytes"] > 0 for r in rows)
    cond = json.loads((out / "run.json").read_text())
    assert cond["library_versions"]["torch"] and cond["engine_settings"]["threads"] >= 1
    # No power sensor: said on stderr, recorded as unavailable (None, never 0) in every row.
    assert "rows record power as unavailable" in err
    assert all(r["avg_power_w"] is None and r["energy_j"] is None for r in rows)
    assert cond["device_spec"]["name"] == rows[0]["device"]  # what `edgeprof fit` will use
    assert cond["device_spec"]["memory_bandwidth_gbs"] > 0
    code, stdout, _ = run_cli(*args)  # resume: nothing left
    assert code == 0 and json.loads(stdout)["measured_now"] == {}
