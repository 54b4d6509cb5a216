"""Profile round trip, spec-derived predictions, and the fit / predict CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from edgeprof.errors import UnsupportedError
from edgeprof.fit import Profile
from edgeprof.fit import _forms as forms
from edgeprof.table import Measurement, write_measurements

MODEL = "qwen2.5-0.5b"


def _table(path: Path, glitch: bool = False) -> Path:
    from edgeprof.catalog import resolve_model

    arch = resolve_model(MODEL)
    rows = []
    for i in (32, 64, 128, 256, 384, 512):
        for o in (8, 32, 64):
            ttft = float(forms.prefill_time({"overhead_s": 0.01, "s_per_tflop": 2.0}, arch,
                                            np.array([i]), np.array([1]))[0])
            dec = float(forms.decode_time({"step_s": 0.02, "kv_s": 1e-6}, np.array([i]),
                                          np.array([o]), np.array([1]))[0])
            rows.append(Measurement(device="rtx-4090", engine="torch", model=MODEL,
                                    quant="fp16", input_tokens=i, output_tokens=o, batch=1,
                                    repeat=0, ttft_s=ttft, decode_s=dec, e2e_s=ttft + dec,
                                    peak_mem_bytes=int(arch.weight_bytes("fp16") + 3e8 +
                                                       arch.kv_bytes_per_token(2) * (i + o)),
                                    source="synthetic"))
    return write_measurements(path, rows)


@pytest.fixture
def profile_path(tmp_path: Path, run_cli) -> Path:
    table = _table(tmp_path / "m.jsonl")
    out = tmp_path / "p.yaml"
    code, stdout, err = run_cli("fit", str(table), "--out", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["fits"][0]["model"] == MODEL
    return out


def test_profile_roundtrip_and_grid(profile_path: Path) -> None:
    p = Profile.load(profile_path)
    assert p.fitted_pairs() == [(MODEL, "fp16")]
    assert Profile.load(profile_path).hash() == p.hash()
    pred = p.predict(MODEL, "fp16", 200, 40)
    assert pred.e2e_s.provenance == "predicted:measured-fit"
    assert pred.e2e_s.lo <= pred.e2e_s.value <= pred.e2e_s.hi
    mem = pred.peak_mem_bytes.value
    assert mem == pytest.approx(3.4e8 + 0 + p.fits[0]["memory"]["coef"]["weight_bytes"], rel=0.2)
    n = 100_000
    t = time.perf_counter()
    g = p.predict_grid(MODEL, "fp16", 256, np.random.randint(1, 4000, n),
                       np.random.randint(1, 8, n))
    assert time.perf_counter() - t < 1.0
    assert np.all(g["e2e_s"] > 0) and np.all(g["e2e_lo"] <= g["e2e_s"])
    assert np.all(np.isnan(g["energy_j"]))  # no power measured


def test_spec_derived_and_transfer(profile_path: Path) -> None:
    p = Profile.load(profile_path)
    other = p.predict("qwen2.5-1.5b", "fp16", 256, 64)
    assert other.e2e_s.provenance == "predicted:spec-derived"
    moved = p.predict(MODEL, "int8", 256, 64)
    assert moved.e2e_s.provenance == "predicted:spec-derived"
    assert "transferred" in (moved.e2e_s.note or "")
    own = p.predict(MODEL, "fp16", 256, 64)
    assert (moved.e2e_s.hi - moved.e2e_s.lo) > (own.e2e_s.hi - own.e2e_s.lo)
    with pytest.raises(UnsupportedError):
        Profile.load("jetson-agx-orin-64gb").predict(MODEL, "fp8", 10, 10)


def test_shipped_orin_profile_has_fits() -> None:
    p = Profile.load("jetson-agx-orin-64gb")
    assert ("deepseek-r1-distill-qwen-14b", "bf16") in p.fitted_pairs()
    assert p.calibration and p.calibration["fitted_on"]
    pred = p.predict("deepseek-r1-distill-qwen-1.5b", "bf16", 1024, 2048)
    assert pred.decode_s.value == pytest.approx(51.02, rel=0.02)  # measured: 51.02 s
    assert pred.energy_j is not None


def test_predict_cli_points_json(profile_path: Path, tmp_path: Path, run_cli) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text(f"model,quant,input_tokens,output_tokens,batch\n{MODEL},fp16,100,10,1\n"
                   f"qwen2.5-1.5b,fp16,100,10,2\n")
    code, out, err = run_cli("predict", "--profile", str(profile_path), "--points", str(pts),
                             "--json")
    assert code == 0, err
    objs = [json.loads(line) for line in out.splitlines()]
    assert len(objs) == 2
    for o in objs:
        for k in ("ttft_s", "decode_s", "e2e_s", "peak_mem_bytes"):
            assert set(o[k]) >= {"value", "lo", "hi", "provenance"}


def _thor_points(tmp_path: Path, run_cli, csv_text: str) -> list[dict]:
    """``predict --json`` on AGX Thor / trtllm for a points file with these contents."""
    pts = tmp_path / "pts.csv"
    pts.write_text(csv_text)
    code, out, err = run_cli("predict", "--device", "jetson-agx-thor", "--engine", "trtllm",
                             "--points", str(pts), "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_a_published_method_name_predicts_as_its_format(tmp_path: Path, run_cli) -> None:
    """``awq`` in a points file is predicted as int4, and the output says so beside the
    name as given (so rows still join to the input)."""
    awq, int4 = _thor_points(tmp_path, run_cli, "model,quant,input_tokens,output_tokens\n"
                             "qwen3-8b,AWQ,128,64\nqwen3-8b,int4,128,64\n")
    assert awq["quant"] == "AWQ" and awq["quant_format"] == "int4"
    assert awq["e2e_s"] == int4["e2e_s"]


def test_a_short_device_name_predicts_with_the_profile_it_means(run_cli) -> None:
    """``--device h100`` is the one shipped H100 profile, and the output names it."""
    args = ("--engine", "trtllm", "--model", "qwen3-8b", "--quant", "INT4 AWQ",
            "--input-tokens", "128", "--output-tokens", "64")
    code, out, err = run_cli("predict", "--device", "h100", *args, "--json")
    assert code == 0, err
    short = json.loads(out)
    code, out, err = run_cli("predict", "--device", "h100-sxm", *args, "--json")
    full = json.loads(out)
    assert short["device"] == full["device"] == "h100-sxm"
    assert short["e2e_s"] == full["e2e_s"] and short["quant_format"] == "int4"
    code, out, _ = run_cli("predict", "--device", "H100 SXM", *args)
    assert code == 0 and " on h100-sxm " in out


@pytest.mark.parametrize("content,needle", [
    ("model,quant\nx,fp16\n", "lacks the columns"),
    ("model,quant,input_tokens,output_tokens\nnope-model,fp16,1,2\n", "Unknown model"),
])
def test_predict_bad_points(profile_path: Path, tmp_path: Path, run_cli, content: str,
                            needle: str) -> None:
    pts = tmp_path / "bad.csv"
    pts.write_text(content)
    code, _, err = run_cli("predict", "--profile", str(profile_path), "--points", str(pts))
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_fit_bad_tables(tmp_path: Path, run_cli) -> None:
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    code, _, err = run_cli("fit", str(empty), "--out", str(tmp_path / "p.yaml"))
    assert code == 2 and "empty" in err
    bad = tmp_path / "b.csv"
    bad.write_text("model,batch\nx,1\n")
    code, _, err = run_cli("fit", str(bad), "--out", str(tmp_path / "p.yaml"))
    assert code == 2 and "lacks the columns" in err
    unknown = tmp_path / "u.csv"
    unknown.write_text("device,model,quant,input_tokens,output_tokens,ttft_s\n"
                       "rtx-4090,nope,fp16,10,1,0.1\n")
    code, _, err = run_cli("fit", str(unknown), "--out", str(tmp_path / "p.yaml"))
    assert code == 2 and "Unknown model" in err


def test_fit_uses_the_spec_the_sweep_recorded(tmp_path: Path, run_cli) -> None:
    """A device that is not shipped (a CPU) is fitted with the spec from the sweep's run.json,
    and an int8 fit works on a CPU whose spec lists only a widened int8 rate."""
    from edgeprof.device.cpu._info import cpu_spec
    from edgeprof.table import read_measurements

    folder = tmp_path / "sweep"
    folder.mkdir()
    rows = [r.model_copy(update={"device": "cpu-test-cpu", "quant": "int8"})
            for r in read_measurements(_table(tmp_path / "m.jsonl"))]
    write_measurements(folder / "measurements.jsonl", rows)
    spec = cpu_spec(20.0).model_copy(update={"name": "cpu-test-cpu"})
    (folder / "run.json").write_text(json.dumps({"device_spec": spec.model_dump(mode="json")}))
    out = tmp_path / "cpu.yaml"
    code, _, err = run_cli("fit", str(folder), "--out", str(out))
    assert code == 0, err
    prof = Profile.load(out)
    assert prof.device.name == "cpu-test-cpu"
    assert prof.device.memory_bandwidth_gbs == 20.0
    assert prof.fitted_pairs() == [(MODEL, "int8")]
    (folder / "run.json").write_text("{}")
    code, _, err = run_cli("fit", str(folder), "--out", str(out))
    assert code == 2 and "pass --device YAML" in err


def test_extrapolation_is_labeled_and_widens(profile_path: Path) -> None:
    """Inside the fitted range: no note; 8× beyond it: a note and at least ±30 %."""
    p = Profile.load(profile_path)
    inside = p.predict(MODEL, "fp16", 200, 40)
    assert not (inside.e2e_s.note or "").count("extrapolated")
    far = p.predict(MODEL, "fp16", 4096, 40)  # fitted on inputs ≤ 512: three doublings
    assert "extrapolated" in (far.ttft_s.note or "")
    assert far.ttft_s.hi / far.ttft_s.value >= 1.3 - 1e-9
    assert far.ttft_s.lo / far.ttft_s.value <= 0.7 + 1e-9
    grid = p.predict_grid(MODEL, "fp16", 256, np.array([8, 40_000]), np.array([1, 1]))
    assert grid["extrapolated"].tolist() == [False, True]


def test_other_points_columns_come_back_with_their_rows(tmp_path: Path, run_cli) -> None:
    """An id or a measured value in the points file is echoed beside its prediction."""
    rows = _thor_points(tmp_path, run_cli, "id,model,quant,input_tokens,output_tokens,"
                        "measured_ms\na,qwen3-8b,int4,128,64,25.5\nb,qwen3-4b,int4,128,64,\n")
    assert [r["input_columns"] for r in rows] == [{"id": "a", "measured_ms": "25.5"},
                                                   {"id": "b", "measured_ms": ""}]
    assert [r["model"] for r in rows] == ["qwen3-8b", "qwen3-4b"]


def test_a_point_the_board_cannot_run_does_not_cost_the_others(tmp_path: Path,
                                                               run_cli) -> None:
    """FP8 on an Orin (no FP8 kernels) gets an `error` beside the other rows' predictions,
    then one Error line and exit 2; a single --model point still fails at once."""
    csv_text = ("model,quant,input_tokens,output_tokens\nqwen3-8b,int4,128,64\n"
                "qwen3-8b,fp8,128,64\nqwen3-4b,int4,128,64\n")
    pts = tmp_path / "pts.csv"
    pts.write_text(csv_text)
    code, out, err = run_cli("predict", "--device", "jetson-agx-orin-64gb", "--engine",
                             "trtllm", "--points", str(pts), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "1 of 3 points could not be predicted" in err and "point 2 (qwen3-8b/fp8)" in err
    assert [("error" in r, "e2e_s" in r) for r in rows] == [(False, True), (True, False),
                                                            (False, True)]
    assert "no native fp8 kernels" in rows[1]["error"]
    code, out, err = run_cli("predict", "--device", "jetson-agx-orin-64gb", "--points",
                             str(pts))
    assert code == 2 and "not predicted: jetson-agx-orin-64gb has no native fp8" in out
    code, out, err = run_cli("predict", "--device", "jetson-agx-orin-64gb", "--model",
                             "qwen3-8b", "--quant", "fp8", "--input-tokens", "128",
                             "--output-tokens", "64")
    assert code == 2 and not out.strip() and "no native fp8 kernels" in err


def test_benchmark_tool_headers_read_as_the_points_columns(tmp_path: Path, run_cli) -> None:
    """``isl``/``osl``/``batch_size``/``quantization`` (TensorRT-LLM, AIPerf, vLLM bench
    spellings) predict exactly what the edgeprof column names do; the header keeps no
    echoed copy of a column it consumed."""
    ours, theirs = (_thor_points(tmp_path, run_cli, text) for text in (
        "model,quant,input_tokens,output_tokens,batch\nqwen3-8b,int4,512,64,4\n",
        "Model Name,ISL,OSL,Batch Size,quantization,note\nQwen/Qwen3-8B,512,64,4,INT4 AWQ,x\n"))
    assert theirs[0]["e2e_s"] == ours[0]["e2e_s"] and theirs[0]["batch"] == 4
    assert theirs[0]["input_columns"] == {"note": "x"}


def test_two_columns_for_one_field_are_refused(tmp_path: Path, run_cli) -> None:
    pts = tmp_path / "pts.csv"
    pts.write_text("model,quant,input_tokens,isl,output_tokens\nqwen3-8b,int4,1,2,3\n")
    code, _, err = run_cli("predict", "--device", "jetson-agx-thor", "--points", str(pts))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'input_tokens' and 'isl' both give input_tokens" in err


def test_an_unknown_model_row_does_not_cost_the_others(tmp_path: Path, run_cli) -> None:
    """A model the catalog lacks, or a row past its model's context, is an `error` row; the
    file's other rows are predicted, then one Error line and exit 2."""
    pts = tmp_path / "pts.csv"
    pts.write_text("model,quant,input_tokens,output_tokens\nqwen3-8b,int4,128,64\n"
                   "gemma-2-9b,int4,128,64\nllama-2-7b,int4,4000,200\n"
                   "meta-llama/Llama-2-13b-chat-hf,Q4_K_M,8,128\n")
    code, out, err = run_cli("predict", "--device", "jetson-agx-orin-64gb", "--engine",
                             "llama.cpp", "--points", str(pts), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "2 of 4 points could not be predicted" in err and "point 2 (gemma-2-9b/int4)" in err
    assert [("error" in r) for r in rows] == [False, True, True, False]
    assert "Unknown model 'gemma-2-9b'" in rows[1]["error"] and ":3:" in rows[1]["error"]
    assert "context length of 4096" in rows[2]["error"]
    assert rows[3]["quant_format"] == "int4" and rows[3]["e2e_s"]["value"] > 0
