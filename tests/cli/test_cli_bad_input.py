"""Bad input: one ``Error:`` line on stderr, a non-zero exit, never a traceback (DESIGN)."""

from __future__ import annotations

import pytest

P = ["predict", "--device", "jetson-agx-orin-64gb", "--model", "qwen2.5-1.5b", "--quant",
     "int8", "--input-tokens", "512", "--output-tokens", "256"]
R = ["recommend", "--device", "jetson-orin-nano-8gb", "--accuracy", "synthetic-traces",
     "--budgets", "256..512", "--max-samples", "2"]


def _sub(argv: list[str], old: str, new: str) -> list[str]:
    return [new if a == old else a for a in argv]


# (argv with {d} for the folder of bad files, exit code, substring of the Error line)
CASES = [
    (_sub(P, "qwen2.5-1.5b", "nosuch-model"), 2, "Unknown model 'nosuch-model'"),
    (_sub(P, "int8", "int3"), 2, "Unknown quant format 'int3'"),
    (_sub(P, "jetson-agx-orin-64gb", "nosuch-device"), 2, "Unknown device 'nosuch-device'"),
    (_sub(P, "jetson-agx-orin-64gb", "jetson-agx-orin"), 2,
     "fits several profiles: jetson-agx-orin-32gb, jetson-agx-orin-64gb; pass one"),
    (_sub(P, "512", "-5"), 2, "must be ≥ 1"),
    (_sub(P, "256", "0"), 2, "must be ≥ 1"),
    ([*P[:3], "--points", "{d}/pts_missing.csv"], 2, "lacks the columns output_tokens"),
    ([*P[:3], "--points", "{d}/pts_text.csv"], 2, "must be integers"),
    ([*P[:3], "--points", "{d}/nofile.csv"], 2, "does not exist"),
    (_sub(P, "jetson-agx-orin-64gb", "{d}/bad.yaml"), 2, "expected ',' or ']'"),
    (_sub(P, "jetson-agx-orin-64gb", "{d}/empty.yaml"), 2, "not a profile"),
    ([*R, "--budget", "2x"], 2, "Unknown time unit 'x'"),
    ([*R, "--budget", "-1s"], 2, "Cannot read the duration '-1s'"),
    ([*R, "--budget", "0s"], 2, "must be positive"),
    ([*R, "--budget", "20s", "--memory-limit", "8XB"], 2, "Unknown size unit 'XB'"),
    ([*_sub(R, "256..512", "0..10"), "--budget", "20s"], 2, "in --budgets"),
    ([*R, "--budget", "20s", "--percentile", "150"], 2, "--percentile must be in (0, 100]"),
    ([*R, "--budget", "20s", "--energy-budget", "5XJ"], 2, "Unknown energy unit 'XJ'"),
    ([*R, "--budget", "20s", "--semantics", "bogus"], 2, "semantics must be one of"),
    ([*R, "--budget", "20s", "--sampler", "bogus"], 2, "Unknown --sampler 'bogus'"),
    ([*_sub(R, "synthetic-traces", "{d}/nofile.jsonl"), "--budget", "20s"], 2,
     "does not exist"),
    ([*_sub(R, "synthetic-traces", "{d}/empty.jsonl"), "--budget", "20s"], 2, "holds no traces"),
    ([*_sub(R, "synthetic-traces", "{d}/wrongcols.csv"), "--budget", "20s"], 2,
     "missing column(s)"),
    (["accuracy", "synthetic-traces", "--budget", "1024", "--samples", "0"], 2,
     "--samples values must be ≥ 1"),
    (["accuracy", "synthetic-traces", "--budget", "2x"], 2, "in --budget"),
    (["accuracy", "synthetic-traces", "--budget", "1024", "--model", "nosuch"], 2,
     "; it covers deepseek-r1-distill-llama-8b/bf16"),
    (["accuracy", "{d}/notraces.jsonl", "--budget", "1024"], 2, "every traces record needs"),
    (["export", "{d}/notrec.json", "--out", "{d}/m.yaml"], 2,
     "is not an edgeprof recommendation"),
    (["export", "{d}/nofile.json", "--out", "{d}/m.yaml"], 2, "does not exist"),
    (["validate", "{d}/nofile.yaml"], 2, "does not exist"),
    (["validate", "{d}/empty.yaml"], 2, "is empty"),
    (["validate", "{d}/bad.yaml"], 2, "is not valid YAML/JSON"),
    (["validate", "{d}/notrec.json"], 2, "problem(s), listed above"),
    (["report", "{d}/emptydir", "--out", "{d}/r.html"], 2, "Nothing to report"),
    (["report", "{d}/nodir", "--out", "{d}/r.html"], 2, "is not a folder"),
    (["import", "edgereasoning", "{d}/emptydir", "--out", "{d}/imp"], 2, "prefill.json"),
    (["import", "bogus", "{d}/emptydir", "--out", "{d}/imp"], 2, "Unknown importer 'bogus'"),
    (["telemetry", "--duration", "abc"], 2, "Cannot read the duration 'abc'"),
    (["telemetry", "--duration", "1s", "--period", "0ms"], 2, "must be positive"),
    (["telemetry", "--source", "bogus", "--duration", "100ms"], 2, "in --source"),
    (["fit", "{d}/failed", "--out", "{d}/p.yaml"], 2, "No row has status ok"),
    (["fit", "{d}/empty.jsonl", "--out", "{d}/p.yaml"], 2, "are empty"),
    (["fit", "{d}/wrongcols.csv", "--out", "{d}/p.yaml"], 2, "lacks the columns"),
    (["fit", "{d}/emptydir", "--out", "{d}/p.yaml"], 2, "holds no measurements.jsonl"),
    (["sweep", "--engine", "bogus", "--models", "qwen2.5-0.5b-scaled-1L", "--quants", "int8",
      "--inputs", "16", "--outputs", "4", "--out", "{d}/sw"], 2, "Unknown engine 'bogus'"),
    (["sweep", "--engine", "torch", "--models", "qwen2.5-0.5b-scaled-1L", "--quants", "int8",
      "--inputs", "0", "--outputs", "4", "--out", "{d}/sw"], 2, "--inputs values must be ≥ 1"),
    (["devices", "--seconds", "-1"], 2, "--seconds must be > 0"),
    (["models", "--bogus"], 2, "No such option"),
]

# Commands that list details before their Error line (validate: one line per problem).
MULTI_LINE = {"validate"}

FAILED_ROW = ('{"device": "jetson-agx-orin-64gb", "engine": "torch", "model": "qwen2.5-0.5b", '
              '"quant": "int8", "input_tokens": 16, "output_tokens": 4, "batch": 1, '
              '"repeat": 0, "status": "oom", "error": "out of memory"}\n')


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.jsonl").write_text("")
    (d / "empty.yaml").write_text("")
    (d / "bad.yaml").write_text("device:\n  name: [unclosed\n")
    (d / "wrongcols.csv").write_text("a,b\n1,2\n")
    (d / "notraces.jsonl").write_text('{"model": "qwen2.5-0.5b", "quant": "int8"}\n')
    (d / "notrec.json").write_text('{"kind": "something"}\n')
    (d / "pts_missing.csv").write_text("model,quant,input_tokens\nqwen2.5-1.5b,int8,512\n")
    (d / "pts_text.csv").write_text("model,quant,input_tokens,output_tokens\n"
                                    "qwen2.5-1.5b,int8,abc,256\n")
    (d / "emptydir").mkdir()
    (d / "failed").mkdir()
    (d / "failed" / "measurements.jsonl").write_text(FAILED_ROW * 3)
    return d


@pytest.mark.parametrize(("argv", "code", "message"), CASES,
                         ids=[" ".join(c[0][:2]) + f"-{i}" for i, c in enumerate(CASES)])
def test_bad_input(run_cli, bad_dir, argv, code, message):
    args = [a.replace("{d}", str(bad_dir)) for a in argv]
    got, _, err = run_cli(*args)
    assert got == code, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    if args[0] == "models":  # a typer usage error: usage, hint and the error
        assert message in err
        return
    assert lines and lines[-1].startswith("Error: "), err
    assert message in lines[-1], err
    if args[0] not in MULTI_LINE:
        assert len(lines) == 1, err
