"""Export a recommendation to a manifest; validate good and hand-edited manifests; the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import edgeprof.cli.recommend as cli_recommend
from edgeprof.cli.app import main
from edgeprof.manifest import build_manifest, problems, write_manifest
from edgeprof.search import Problem, recommend
from edgeprof.search.synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

MODELS = {"deepseek-r1-distill-qwen-1.5b": 1.8, "deepseek-r1-distill-llama-8b": 8.0}


@pytest.fixture
def profile(monkeypatch: pytest.MonkeyPatch) -> SyntheticProfile:
    prof = SyntheticProfile(dict(MODELS), device=synthetic_device(modes=(("MAXN", 1.0),)))
    monkeypatch.setattr(cli_recommend, "load_profile", lambda name: prof)
    return prof


def _acc() -> SyntheticAccuracy:
    return SyntheticAccuracy({m: 0.7 for m in MODELS}, {m: 600.0 for m in MODELS},
                             samples_max=4)


def _manifest_dict(profile: SyntheticProfile) -> dict:
    rec = recommend(profile, _acc(), Problem(slo_s=30, input_tokens=300,
                                            memory_limit_bytes=profile.device.memory_bytes),
                    trials=10)
    return build_manifest(rec).model_dump(mode="json")


def test_manifest_is_consistent_and_spelled_for_engines(profile, tmp_path: Path) -> None:
    m = _manifest_dict(profile)
    assert problems(m) == []
    g, e = m["generation"], m["engines"]
    assert e["tensorrt_llm"]["max_seq_len"] == g["input_tokens"] + g["max_new_tokens"]
    assert e["vllm"]["max_num_seqs"] == g["n"] == e["llama_cpp"]["parallel"]
    assert e["tensorrt_llm"]["quant_algo"] in (None, "FP8", "W8A8_SQ_PER_CHANNEL", "W4A16_AWQ")
    assert (g["temperature"], g["top_p"]) == (0.6, 0.95)
    assert m["model"]["source"].startswith("deepseek-ai/")
    assert m["predictions"]["latency_pct_s"]["provenance"] == "synthetic"


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda m: m["engines"]["tensorrt_llm"].update(max_seq_len=10), "max_seq_len 10 <"),
    (lambda m: m["quant"].update(format="int3"), "unknown format 'int3'"),
    (lambda m: m.update(schema_version=99), "schema_version is 99"),
    (lambda m: m["engines"]["llama_cpp"].update(quant_type="Q9_X"), "unknown GGUF type"),
    (lambda m: m["generation"].update(n=0), "generation.n"),
    (lambda m: m["engines"]["vllm"].update(max_num_seqs=1, max_model_len=5), "max_model_len 5"),
    (lambda m: m.update(typo=1), "typo"),
])
def test_validate_flags_hand_edits(profile, edit, expect) -> None:
    m = _manifest_dict(profile)
    edit(m)
    found = problems(m)
    assert any(expect in line for line in found), found


def test_cli_recommend_export_validate(profile, tmp_path: Path, capsys) -> None:
    rec, man = tmp_path / "rec.json", tmp_path / "manifest.yaml"
    traces = "synthetic-traces"
    rc = main(["recommend", "--device", "x", "--accuracy", traces, "--budget", "60s",
               "--models", ",".join(MODELS), "--quants", "bf16,int4", "--budgets", "512..2048",
               "--max-samples", "4", "--json", "--out", str(rec), "--plot",
               str(tmp_path / "p.png")])
    out = capsys.readouterr().out
    assert rc == 0, out
    data = json.loads(out)
    assert data["winner"]["latency_pct"]["value"] <= 60
    assert (tmp_path / "p.png").stat().st_size > 10_000
    assert main(["export", str(rec), "--out", str(man)]) == 0
    assert main(["validate", str(man)]) == 0
    bad = yaml.safe_load(man.read_text())
    bad["engines"]["tensorrt_llm"]["max_seq_len"] = 1
    bad["quant"]["format"] = "int3"
    man.write_text(yaml.safe_dump(bad))
    capsys.readouterr()
    assert main(["validate", str(man)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) >= 3 and lines[-1].startswith("Error:")


def test_cli_infeasible_exits_4_and_malformed_exits_2(profile, capsys) -> None:
    base = ["recommend", "--device", "x", "--accuracy", "synthetic-traces", "--models",
            ",".join(MODELS), "--budgets", "512", "--max-samples", "2"]
    assert main([*base, "--budget", "1ms"]) == 4
    assert "fastest is" in capsys.readouterr().err
    assert main([*base, "--budget", "two seconds"]) == 2
    assert main([*base, "--budget", "2s", "--memory-limit", "8 parsecs"]) == 2


def test_write_manifest_json_roundtrip(profile, tmp_path: Path) -> None:
    rec = recommend(profile, _acc(), Problem(slo_s=30, input_tokens=300,
                                            memory_limit_bytes=profile.device.memory_bytes),
                    trials=5)
    p = write_manifest(build_manifest(rec), tmp_path / "m.json")
    assert problems(json.loads(p.read_text())) == []
