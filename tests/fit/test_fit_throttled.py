"""Fits leave out throttled / clock-drop rows (when enough steady ones remain) and say which."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

from edgeprof.catalog import resolve_model
from edgeprof.fit import _forms as forms
from edgeprof.table import Measurement, write_measurements

MODEL = "qwen2.5-0.5b"


def _rows(slow_flagged: bool) -> list[Measurement]:
    arch = resolve_model(MODEL)
    rows = []
    for i in (32, 64, 128, 256, 384, 512):
        for o in (8, 32, 64):
            ttft = float(forms.prefill_time({"overhead_s": 0.01, "s_per_tflop": 2.0}, arch,
                                            np.array([i]), np.array([1]))[0])
            dec = float(forms.decode_time({"step_s": 0.02, "kv_s": 1e-6}, np.array([i]),
                                          np.array([o]), np.array([1]))[0])
            flags: list[str] = []
            if o == 64 and i >= 256:  # these ran with the GPU clock down: 3x slower decode
                dec *= 3.0
                flags = ["clock-drop:gpu"] if slow_flagged else []
            rows.append(Measurement(device="rtx-4090", engine="torch", model=MODEL,
                                    quant="fp16", input_tokens=i, output_tokens=o, batch=1,
                                    repeat=0, ttft_s=ttft, decode_s=dec, e2e_s=ttft + dec,
                                    flags=flags, source="synthetic"))
    return rows


def _fit(tmp_path: Path, run_cli, flagged: bool) -> tuple[dict, dict, str]:
    table = write_measurements(tmp_path / f"m{flagged}.jsonl", _rows(flagged))
    out = tmp_path / f"p{flagged}.yaml"
    code, stdout, err = run_cli("fit", str(table), "--out", str(out), "--json")
    assert code == 0, err
    prof = yaml.safe_load(out.read_text())
    entries = prof.get("fits") or prof.get("entries") or []
    entry = next(e for e in entries if e["model"] == MODEL)
    return entry, json.loads(stdout)["fits"][0], err


def test_clock_drop_rows_are_left_out_and_named(tmp_path: Path, run_cli) -> None:
    entry, summary, _ = _fit(tmp_path, run_cli, flagged=True)
    record = entry["throttled_rows"]
    assert record["rule"].startswith("excluded")
    assert sorted((r["input_tokens"], r["output_tokens"]) for r in record["rows"]) == [
        (256, 64), (384, 64), (512, 64)]
    assert all(r["flags"] == ["clock-drop:gpu"] for r in record["rows"])
    assert summary["throttled_rows"] == 3
    step = entry["decode"]["coef"]["step_s"]
    assert abs(step - 0.02) / 0.02 < 0.05  # the steady clock's step time
    unflagged, summary0, _ = _fit(tmp_path, run_cli, flagged=False)
    assert unflagged["throttled_rows"] is None and summary0["throttled_rows"] == 0


def test_too_few_steady_rows_keeps_them_and_says_so(tmp_path: Path, run_cli) -> None:
    rows = _rows(True)
    for r in rows[2:]:
        r.flags = ["throttled:thermal"]
    table = write_measurements(tmp_path / "m.jsonl", rows)
    code, _, err = run_cli("fit", str(table), "--out", str(tmp_path / "p.yaml"))
    assert code == 0, err
    assert f"{len(rows) - 2} throttled/clock-drop row(s) kept: fewer than" in err
