"""Lengths checked against the model's context where they are parsed (sweep, predict,
recommend; load in test_load.py): one ``Error:`` line naming the option, the value, the
model and its context length; lengths that fit still work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeprof.catalog import check_context, context_length, fits_context
from edgeprof.errors import ContextLengthError, UserInputError

DEVICE = "jetson-orin-nano-8gb"
R = ["recommend", "--device", DEVICE, "--accuracy", "synthetic-traces", "--max-samples", "2",
     "--trials", "5", "--budget", "2000s", "--json"]
P = ["predict", "--device", DEVICE, "--model", "qwen2.5-0.5b", "--quant", "int8"]
S = ["sweep", "--models", "qwen2.5-0.5b-scaled-1L", "--quants", "fp32", "--dry-run"]


def one_error(code: int, err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


def test_check_context_names_option_value_model_and_context() -> None:
    check_context("qwen2.5-0.5b", 32000, 768)  # exactly the context: fits
    with pytest.raises(ContextLengthError) as exc:
        check_context("Qwen/Qwen2.5-0.5B", 32000, 769, inputs="--in", outputs="--out")
    msg = str(exc.value)
    assert msg.startswith("--in 32000 + --out 769 = 32769 tokens exceeds qwen2.5-0.5b's "
                          "context length of 32768; lower --out to at most 768"), msg
    with pytest.raises(ContextLengthError, match="lower --inputs below 32768"):
        check_context("qwen2.5-0.5b", 40000, 1)
    assert isinstance(exc.value, UserInputError)  # exit 2
    assert context_length("qwen3-0.6b") == 40960 and context_length("not-a-model") is None
    assert fits_context("not-a-model", 10**8, 1)  # unknown: nothing to check against


@pytest.mark.parametrize(("extra", "needle"), [
    (["--inputs", "10000000"], "--inputs 10000000 + --outputs 64 = 10000064 tokens exceeds "
     "qwen2.5-0.5b-scaled-1L's context length of 32768; lower --inputs below 32768"),
    (["--inputs", "128", "--outputs", "32700"], "lower --outputs to at most 32640"),
])
def test_sweep_dry_run_refuses_lengths_beyond_the_context(run_cli, extra, needle) -> None:
    code, _, err = run_cli(*S, *extra)
    assert needle in one_error(code, err)


def test_sweep_spec_file_lengths_name_the_file(run_cli, tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("models: [qwen2.5-0.5b-scaled-1L]\ninputs: [128, 40000]\n")
    code, _, err = run_cli("sweep", "--spec", str(spec), "--dry-run")
    line = one_error(code, err)
    assert f"inputs (in {spec}) 40000 + --outputs 64" in line and "32768" in line
    code, out, err = run_cli("sweep", "--spec", str(spec), "--inputs", "128", "--dry-run",
                             "--json")  # the flag replaces the file's inputs: it fits
    assert code == 0 and json.loads(out)["spec"]["inputs"] == [128], err


def test_predict_flags_beyond_the_context(run_cli) -> None:
    code, _, err = run_cli(*P, "--input-tokens", "32000", "--output-tokens", "1000")
    line = one_error(code, err)
    assert ("--input-tokens 32000 + --output-tokens 1000 = 33000 tokens exceeds "
            "qwen2.5-0.5b's context length of 32768; lower --output-tokens to at most 768"
            ) in line
    code, out, err = run_cli(*P, "--input-tokens", "32000", "--output-tokens", "768", "--json")
    assert code == 0 and json.loads(out)["e2e_s"]["value"] > 0, err


def test_predict_points_beyond_the_context_name_the_line(run_cli, tmp_path: Path) -> None:
    pts = tmp_path / "p.csv"
    pts.write_text("model,quant,input_tokens,output_tokens,batch\n"
                   "qwen2.5-0.5b,int8,100,10,\n"            # an empty batch cell: 1
                   "qwen3-0.6b,int8,40000,961,1\n")
    code, _, err = run_cli("predict", "--device", DEVICE, "--points", str(pts))
    line = one_error(code, err)
    assert (f"{pts}:3: input_tokens 40000 + output_tokens 961 = 40961 tokens exceeds "
            "qwen3-0.6b's context length of 40960; lower output_tokens to at most 960") in line
    pts.write_text(pts.read_text().replace("961", "960"))
    code, out, err = run_cli("predict", "--device", DEVICE, "--points", str(pts), "--json")
    assert code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["batch"] for r in rows] == [1, 1]


@pytest.mark.parametrize(("content", "needle"), [
    ("model,quant,input_tokens,output_tokens\nqwen2.5-0.5b,int8,1.5,4\n",
     ":2: column 'input_tokens': token counts and batch must be integers; got '1.5'"),
    ("model,quant,input_tokens,output_tokens,batch\nqwen2.5-0.5b,int8,1,4,0\n",
     ":2: column 'batch' must be in 1..65536"),
    ("model,quant,input_tokens,output_tokens,engine\nqwen2.5-0.5b,int8,1,4,bogus\n",
     ":2: column 'engine': Unknown engine 'bogus'"),
    ("model,quant,input_tokens,output_tokens\nnope,int8,1,4\n", ":2: Unknown model 'nope'"),
    ("model,quant,input_tokens,output_tokens\n", "holds no points"),
])
def test_predict_points_rows_are_typed(run_cli, tmp_path: Path, content, needle) -> None:
    pts = tmp_path / "p.csv"
    pts.write_text(content)
    code, _, err = run_cli("predict", "--device", DEVICE, "--points", str(pts))
    assert needle in one_error(code, err)


def test_recommend_input_beyond_every_models_context(run_cli) -> None:
    code, _, err = run_cli(*R, "--budgets", "256..512", "--input-tokens", "200000")
    line = one_error(code, err)
    assert ("--input-tokens 200000 + --budgets 256 = 200256 tokens exceeds the context length "
            "of every candidate model (the longest: ") in line
    assert "131072 tokens); lower --input-tokens below 131072" in line


def test_recommend_budgets_beyond_every_models_context(run_cli) -> None:
    code, _, err = run_cli(*R, "--budgets", "140000", "--input-tokens", "100")
    line = one_error(code, err)
    assert "--budgets 140000" in line and "lower --budgets to at most 130972" in line


def test_recommend_leaves_out_what_exceeds_one_models_context(run_cli) -> None:
    # qwen2.5-0.5b-scaled-4L has 32768 tokens of context, the other models 131072
    code, out, err = run_cli(*R, "--budgets", "256,40000", "--input-tokens", "200")
    assert code == 0, err
    rec = json.loads(out)
    notes = "\n".join(rec["notes"])
    assert ("qwen2.5-0.5b-scaled-4L: budgets above 32568 tokens left out (--input-tokens 200 "
            "+ budget would exceed its context length of 32768)") in notes
    shown = [*rec["runner_ups"], *rec["pareto_latency"], *rec["points"]]
    assert not [c for c in shown if c["model"] == "qwen2.5-0.5b-scaled-4L"
                and c["budget"] == 40000]
    assert any(c["budget"] == 40000 for c in shown)  # the long-context models keep it
    code, out, err = run_cli(*R, "--budgets", "256", "--input-tokens", "32600")
    assert code == 0, err
    rec = json.loads(out)
    assert any(n.startswith("dropped qwen2.5-0.5b-scaled-4L/") and "context length of 32768"
               in n for n in rec["notes"])
    assert "qwen2.5-0.5b-scaled-4L" not in {c["model"] for c in rec["points"]}
