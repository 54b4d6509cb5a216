"""scripts/build_mlenergy_rows.py keeps single-GPU, small-batch figures of catalog models, and
benchmarks/mlenergy_batched_itl.py judges the shipped rows (held out of every fit)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    return mod


def _config(gpu: str, seqs: int, gpus: int = 1) -> dict:
    return {"gpu_model": gpu, "max_num_seqs": seqs, "num_gpus": gpus, "avg_batch_size": seqs - 0.1,
            "avg_output_len": 400.0, "median_itl_ms": 5.0 + seqs / 10}


def test_only_single_gpu_small_batch_rows_of_known_cards_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "public/data/models"
    folder.mkdir(parents=True)
    configs = [_config("B200", 16), _config("B200", 16, gpus=2), _config("H100", 128),
               _config("MI300X", 8), _config("H100", 8)]
    dense = {"architecture": "Dense Transformer", "weight_precision": "bfloat16"}
    files = {"Qwen__Qwen3-8B": {**dense, "model_id": "Qwen/Qwen3-8B"},
             "Unknown__Model-9B": {**dense, "model_id": "unknown/Model-9B"},
             "Qwen__Qwen3-30B-A3B": {"architecture": "MoE", "model_id": "Qwen/Qwen3-30B-A3B",
                                      "weight_precision": "bfloat16"},
             "Qwen__Qwen3-14B-FP8": {**dense, "model_id": "Qwen/Qwen3-14B",
                                      "weight_precision": "fp8"}}
    for stem, meta in files.items():
        (folder / f"{stem}__lm-arena-chat.json").write_text(
            json.dumps({**meta, "configurations": configs}))
    (folder / "Qwen__Qwen3-8B__gpqa.json").write_text(
        json.dumps({**files["Qwen__Qwen3-8B"], "configurations": configs}))
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    out = io.StringIO()
    with redirect_stdout(out):
        assert _load(ROOT / "scripts/build_mlenergy_rows.py").main([str(tmp_path)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["device"], r["max_num_seqs"]) for r in rows] == [("b200-sxm", "16"),
                                                                  ("h100-sxm", "8")]
    assert rows[0]["model"] == "qwen3-8b" and rows[0]["median_itl_ms"] == "6.6000"
    assert "(vLLM, measured)" in rows[0]["source"]


def test_the_shipped_itl_figures_are_judged_at_both_assumed_prompt_lengths() -> None:
    bench = _load(ROOT / "benchmarks/mlenergy_batched_itl.py")
    rows = list(csv.DictReader(bench.DATA.open(encoding="utf-8")))
    assert len(rows) == 24 and {r["device"] for r in rows} == {"h100-sxm", "b200-sxm"}
    from edgeprof.fit import Profile

    prof, row = Profile.load("h100-sxm"), next(r for r in rows if r["device"] == "h100-sxm")
    short, long = (bench.judge(prof, row, i) for i in bench.INPUTS)
    assert 0 < short["predicted_s"] < long["predicted_s"]  # more context, more KV to read
    assert short["provenance"].startswith("predicted:")
    assert short["ratio"] == short["predicted_s"] / short["measured_s"]
    lo, hi = short["interval_90_s"]
    assert short["inside_90"] == (lo <= short["measured_s"] <= hi)


def test_a_folder_that_is_not_a_checkout_is_one_line(tmp_path: Path, capsys) -> None:
    assert _load(ROOT / "scripts/build_mlenergy_rows.py").main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error:") and "not a git checkout" in err[0]


def test_a_leaderboard_file_without_a_field_is_one_line_and_writes_nothing(
        tmp_path: Path, capsys) -> None:
    folder = tmp_path / "public/data/models"
    folder.mkdir(parents=True)
    good = {"architecture": "Dense Transformer", "weight_precision": "bfloat16",
            "model_id": "Qwen/Qwen3-8B", "configurations": [_config("H100", 8)]}
    broken = {**good, "configurations": [{"gpu_model": "H100", "max_num_seqs": 8}]}
    (folder / "A__lm-arena-chat.json").write_text(json.dumps(good))
    (folder / "B__lm-arena-chat.json").write_text(json.dumps(broken))
    (folder / "C__lm-arena-chat.json").write_text("{not json")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    assert _load(ROOT / "scripts/build_mlenergy_rows.py").main([str(tmp_path)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: public/data/models/B__")
    assert "num_gpus" in err[0] and captured.out == ""  # no half-written CSV
