"""Export a recommendation to a manifest; validate good and hand-edited manifests; the CLI."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

import edgeprof.cli._recommend as cli_recommend
from edgeprof.cli._app import main
from edgeprof.errors import UserInputError
from edgeprof.manifest import build_manifest, problems, write_manifest
from edgeprof.search import Problem, recommend
from edgeprof.search._synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

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


# ------------------------------------------------------------------ artifacts and commands
def _rec(profile: SyntheticProfile):
    return recommend(profile, _acc(), Problem(slo_s=30, input_tokens=300,
                                              memory_limit_bytes=profile.device.memory_bytes),
                     trials=5)


def _as(rec, model: str, quant: str):
    """The same recommendation with another winner (model, quant)."""
    return rec.model_copy(update={"winner": rec.winner.model_copy(
        update={"model": model, "quant": quant})})


@pytest.mark.parametrize("model", ["deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-llama-8b",
                                   "qwen2.5-0.5b"])
@pytest.mark.parametrize("quant", ["fp32", "fp16", "bf16", "fp8", "int8", "int4"])
def test_every_engine_gets_an_artifact_and_a_command_with_recorded_flags(
        profile, model, quant) -> None:
    m = build_manifest(_as(_rec(profile), model, quant))
    d = m.model_dump(mode="json")
    assert problems(d) == []
    e = m.engines
    for eng in (e.vllm, e.llama_cpp, e.tensorrt_llm):
        assert eng.artifact.kind in ("published", "produce", "base", "unsupported")
        if eng.command is not None:
            assert eng.artifact.served in shlex.split(eng.command)
    if quant in ("fp8", "int8", "int4"):  # no vLLM path serves the bf16 repo as "quantized"
        assert e.vllm.artifact.kind in ("published", "produce")
        assert e.vllm.quantization == "compressed-tensors"
    gen = m.generation
    argv = shlex.split(e.llama_cpp.command)
    assert argv[argv.index("-ngl") + 1] == "99"
    assert argv[argv.index("--parallel") + 1] == str(gen.n)
    assert argv[argv.index("-c") + 1] == str(gen.n * (gen.input_tokens + gen.max_new_tokens))
    assert e.llama_cpp.requests_per_answer == gen.n
    if quant in ("int8", "int4"):  # the PyTorch backend of trtllm-serve has no such path
        assert e.tensorrt_llm.artifact.kind == "unsupported" and e.tensorrt_llm.command is None
    else:
        assert "--extra_llm_api_options" in shlex.split(e.tensorrt_llm.command)


def test_published_checkpoints_are_named_with_their_source(profile) -> None:
    m = build_manifest(_as(_rec(profile), "deepseek-r1-distill-qwen-7b", "int4"))
    v, c = m.engines.vllm, m.engines.llama_cpp
    assert v.artifact.kind == "published"
    assert v.artifact.served == "RedHatAI/DeepSeek-R1-Distill-Qwen-7B-quantized.w4a16"
    assert v.artifact.seen and v.artifact.seen.startswith("https://huggingface.co/")
    assert c.artifact.kind == "published" and c.artifact.file.endswith("-Q4_K_M.gguf")
    assert shlex.split(c.artifact.steps[0].command)[:2] == ["huggingface-cli", "download"]


def test_produced_artifacts_write_their_recipe_and_yaml_beside_the_manifest(
        profile, tmp_path: Path) -> None:
    m = build_manifest(_as(_rec(profile), "deepseek-r1-distill-llama-8b", "int4"))
    assert m.engines.vllm.artifact.kind == "produce"  # no W4A16 checkpoint recorded
    write_manifest(m, tmp_path / "m.yaml")
    recipe = (tmp_path / "quantize_for_vllm.py").read_text()
    compile(recipe, "quantize_for_vllm.py", "exec")
    assert "scheme='W4A16'" in recipe and "deepseek-ai/DeepSeek-R1-Distill-Llama-8B" in recipe
    steps = [shlex.split(s.command) for s in m.engines.llama_cpp.artifact.steps]
    assert steps[-1][0] == "llama-quantize" and steps[-1][-1] == "Q4_K_M"
    extra = yaml.safe_load((tmp_path / "extra_llm_api_options.yaml").read_text())
    assert 0 < extra["kv_cache_config"]["free_gpu_memory_fraction"] <= 0.9
    fp8 = build_manifest(_as(_rec(profile), "deepseek-r1-distill-llama-8b", "fp8"))
    hf_ptq = shlex.split(fp8.engines.tensorrt_llm.artifact.steps[-1].command)
    assert hf_ptq[hf_ptq.index("--qformat") + 1] == "fp8"
    # a profile-less (synthetic) device: no FP8 KV cache predicted, none asked for
    assert hf_ptq[hf_ptq.index("--kv_cache_qformat") + 1] == "none"
    assert fp8.engines.tensorrt_llm.artifact.served in shlex.split(fp8.engines.tensorrt_llm.command)


@pytest.mark.parametrize(("device", "kv"), [("h100-sxm", "fp8"), ("jetson-agx-thor", "none")])
def test_the_trtllm_checkpoint_keeps_the_kv_cache_the_prediction_assumed(
        profile, device: str, kv: str) -> None:
    """The H100's trtllm terms read an FP8 model's KV cache in FP8 (TensorRT-LLM's FP8
    recipe) and the manifest asks ModelOpt for it; Thor's TensorRT Edge-LLM terms keep 16-bit
    KV, and so does its checkpoint."""
    rec = _as(_rec(profile), "deepseek-r1-distill-llama-8b", "fp8")
    rec = rec.model_copy(update={"problem": rec.problem.model_copy(update={"device": device})})
    step = build_manifest(rec).engines.tensorrt_llm.artifact.steps[-1]
    argv = shlex.split(step.command)
    assert argv[argv.index("--kv_cache_qformat") + 1] == kv


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda e: e["vllm"].update(command=e["vllm"]["command"] + " --bogus-flag 1"),
     "--bogus-flag is not a flag of `vllm serve` in vllm 0.8.5"),
    (lambda e: e["llama_cpp"].update(command=e["llama_cpp"]["command"] + "; touch /tmp/x"),
     "does not round-trip through shlex.split"),
    (lambda e: e["vllm"].update(command="vllm serve 'unterminated"), "not valid shell quoting"),
    (lambda e: e["versions"].update(vllm="0.0.1"), "no flag list recorded for `vllm serve`"),
    (lambda e: e["tensorrt_llm"].update(command="trtllm-serve x --quant_algo FP8"),
     "--quant_algo is not a flag of `trtllm-serve`"),
])
def test_validate_checks_commands(profile, edit, expect) -> None:
    m = build_manifest(_as(_rec(profile), "deepseek-r1-distill-qwen-1.5b", "fp8")).model_dump(
        mode="json")
    edit(m["engines"])
    found = problems(m)
    assert any(expect in line for line in found), found


def test_validate_fails_a_manifest_deploying_another_model(profile) -> None:
    m = build_manifest(_as(_rec(profile), "deepseek-r1-distill-qwen-1.5b", "int4")).model_dump(
        mode="json")
    other = "RedHatAI/DeepSeek-R1-Distill-Qwen-14B-quantized.w4a16"
    v = m["engines"]["vllm"]
    v["command"] = v["command"].replace(v["artifact"]["served"], other)
    v["artifact"].update(served=other, repo=other)
    v["model"] = other
    found = problems(m)
    assert any("deploys 'RedHatAI/DeepSeek-R1-Distill-Qwen-14B" in x for x in found), found


# ---------------------------------------------------------------------------- scaled toys
def test_scaled_toy_needs_allow_scaled_and_never_maps_to_the_full_repo(profile) -> None:
    toy = _as(_rec(profile), "llama-3.2-1b-scaled-2L", "bf16")
    with pytest.raises(UserInputError, match="--allow-scaled"):
        build_manifest(toy)
    m = build_manifest(toy, allow_scaled=True)
    assert m.model.name == "llama-3.2-1b-scaled-2L" and m.model.scaled_from == "llama-3.2-1b"
    d = m.model_dump(mode="json")
    assert "meta-llama/" not in json.dumps(d["engines"]) + d["model"]["source"]
    assert problems(d) == []
    # the demo's old manifest: the toy's predictions, the full 16-layer model deployed
    v = d["engines"]["vllm"]
    v["command"] = v["command"].replace(v["artifact"]["served"], "meta-llama/Llama-3.2-1B")
    v["artifact"].update(kind="base", served="meta-llama/Llama-3.2-1B",
                         repo="meta-llama/Llama-3.2-1B")
    found = problems(d)
    assert any("scaled toy llama-3.2-1b-scaled-2L" in x for x in found), found
    d2 = build_manifest(toy, allow_scaled=True).model_dump(mode="json")
    d2["model"]["name"] = "llama-3.2-1b"
    assert any("not the model the predictions were made for" in x for x in problems(d2))


# ----------------------------------------------------------------------------- injection
def test_quoted_command_runs_nothing_else(tmp_path: Path) -> None:
    """A hostile value inside a command built by the manifest stays one argument."""
    from edgeprof.manifest._shell import join, roundtrip_problem

    marker = tmp_path / "PWNED"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "vllm").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGV_OUT"\n')
    (fake / "vllm").chmod(0o755)
    hostile = f"x; touch {marker} #"
    cmd = join(["vllm", "serve", hostile, "--max-num-seqs", 4])
    assert roundtrip_problem(cmd) is None
    env = {"PATH": f"{fake}:/usr/bin:/bin", "ARGV_OUT": str(tmp_path / "argv")}
    subprocess.run(["bash", "-c", cmd], env=env, check=True, timeout=10)
    assert not marker.exists()
    assert (tmp_path / "argv").read_text().splitlines() == ["serve", hostile, "--max-num-seqs",
                                                            "4"]
    assert roundtrip_problem(f"vllm serve x; touch {marker} #") is not None


def test_export_refuses_an_injected_model_name(profile, tmp_path: Path, capsys) -> None:
    rec = _rec(profile)
    bad = rec.model_dump(mode="json")
    bad["winner"]["model"] = "x; touch /tmp/PWNED #"
    (tmp_path / "rec.json").write_text(json.dumps(bad))
    out = tmp_path / "m.yaml"
    capsys.readouterr()
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error:") and "Model name" in err[0], err
    assert not out.exists()


@pytest.mark.parametrize("flags", [["--temperature", "-1"], ["--top-p", "2"],
                                   ["--temperature", "nan"]])
def test_export_refuses_bad_sampling(profile, tmp_path: Path, flags, capsys) -> None:
    (tmp_path / "rec.json").write_text(_rec(profile).model_dump_json())
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(tmp_path / "m.yaml"),
                 *flags]) == 2
    assert capsys.readouterr().err.strip().startswith("Error:")


def test_local_folder_model_is_served_from_its_path(profile, tmp_path: Path) -> None:
    from edgeprof.catalog import resolve_model

    cfg = resolve_model("qwen2.5-0.5b").hf_config()
    good = tmp_path / "my-model"
    good.mkdir()
    (good / "config.json").write_text(json.dumps(cfg))
    m = build_manifest(_as(_rec(profile), str(good), "int4"))
    assert m.model.source == str(good.resolve())
    assert m.engines.vllm.artifact.kind == "produce"
    assert str(good.resolve()) in m.engines.vllm.artifact.files["quantize_for_vllm.py"]
    assert problems(m.model_dump(mode="json")) == []
    spaced = tmp_path / "my model; rm -rf x"
    spaced.mkdir()
    (spaced / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(UserInputError, match="characters a deployment command cannot carry"):
        build_manifest(_as(_rec(profile), str(spaced), "int4"))


def test_validate_needs_the_side_files_beside_the_manifest(profile, tmp_path: Path,
                                                           capsys) -> None:
    (tmp_path / "rec.json").write_text(
        _as(_rec(profile), "deepseek-r1-distill-llama-8b", "int4").model_dump_json())
    man = tmp_path / "m.yaml"
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(man)]) == 0
    assert main(["validate", str(man)]) == 0
    (tmp_path / "extra_llm_api_options.yaml").unlink()
    (tmp_path / "quantize_for_vllm.py").write_text("print('edited')\n")
    capsys.readouterr()
    assert main(["validate", str(man)]) == 2
    err = capsys.readouterr().err
    assert "extra_llm_api_options.yaml: missing beside the manifest" in err
    assert "quantize_for_vllm.py: differs" in err


def test_an_nvfp4_winner_is_refused_in_one_line_not_exported_wrong(profile) -> None:
    """nvfp4 is predicted, not yet exported: the error names the formats export writes."""
    from edgeprof.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match=r"not nvfp4 .*QuantAlgo\.NVFP4.*--quants"):
        build_manifest(_as(_rec(profile), "deepseek-r1-distill-qwen-1.5b", "nvfp4"))


def test_an_8_bit_kv_cache_goes_into_each_engine_that_keeps_one_here(
        tmp_path: Path, capsys) -> None:
    """On an H100 vLLM serves `--kv-cache-dtype fp8` (FlashAttention 3) and llama.cpp
    q8_0; the TensorRT-LLM section serves the unquantized checkpoint, so it says its cache
    stays 16-bit. A hand edit that drops the flag is caught; the recommendation's memory
    is below the 16-bit one."""
    rec, man = tmp_path / "rec.json", tmp_path / "manifest.yaml"
    args = ["recommend", "--device", "h100-sxm", "--engine", "vllm", "--budget", "20s",
            "--models", "qwen2.5-1.5b", "--quants", "bf16", "--max-samples", "8", "--json"]
    assert main([*args, "--out", str(rec), "--kv-cache-dtype", "fp8"]) == 0
    eight = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    sixteen = json.loads(capsys.readouterr().out)
    assert eight["provenance"]["kv_cache_dtype"] == "fp8"
    w8, w16 = eight["winner"], sixteen["winner"]
    if (w8["samples"], w8["budget"]) == (w16["samples"], w16["budget"]):
        assert w8["memory_bytes"]["value"] < w16["memory_bytes"]["value"]
    assert main(["export", str(rec), "--out", str(man)]) == 0
    assert main(["validate", str(man)]) == 0
    m = yaml.safe_load(man.read_text())
    e = m["engines"]
    assert e["vllm"]["kv_cache_dtype"] == "fp8"
    assert "--kv-cache-dtype fp8" in e["vllm"]["command"]
    assert e["llama_cpp"]["cache_type"] == "q8_0" and "-ctk q8_0 -ctv q8_0 -fa on" in \
        e["llama_cpp"]["command"]
    assert e["tensorrt_llm"]["kv_cache_dtype"] == "auto"
    assert any(n.startswith("trtllm keeps a 16-bit KV cache here") for n in e["notes"])
    e["vllm"]["command"] = e["vllm"]["command"].replace(" --kv-cache-dtype fp8", "")
    man.write_text(yaml.safe_dump(m))
    capsys.readouterr()
    assert main(["validate", str(man)]) == 2
    assert "serves --kv-cache-dtype auto, not the section's kv_cache_dtype fp8" in \
        capsys.readouterr().err


def test_recommend_refuses_an_8_bit_cache_the_engine_cannot_keep(capsys) -> None:
    assert main(["recommend", "--device", "jetson-orin-nano-8gb", "--budget", "20s",
                 "--kv-cache-dtype", "fp8"]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert lines == [lines[0]] and "FlashAttention 3 on compute capability 9.x" in lines[0]


def test_a_section_left_at_16_bit_sizes_its_memory_for_a_16_bit_cache(
        tmp_path: Path, capsys) -> None:
    """Recommended with llama.cpp's q8_0 cache on an Orin Nano, where vLLM keeps a 16-bit
    one: vLLM's --gpu-memory-utilization covers the winner's peak plus the KV bytes the
    8-bit cache had saved, not the 8-bit peak."""
    import math

    from edgeprof.catalog import resolve_model
    from edgeprof.device import load_device_spec

    rec, man = tmp_path / "rec.json", tmp_path / "manifest.yaml"
    assert main(["recommend", "--device", "jetson-orin-nano-8gb", "--engine", "llama.cpp",
                 "--kv-cache-dtype", "q8_0", "--budget", "600s", "--models", "qwen2.5-1.5b",
                 "--quants", "bf16", "--budgets", "16384", "--max-samples", "4",
                 "--out", str(rec)]) == 0
    capsys.readouterr()
    assert main(["export", str(rec), "--out", str(man)]) == 0
    w = json.loads(rec.read_text())["winner"]
    m = yaml.safe_load(man.read_text())
    seq = m["generation"]["input_tokens"] + m["generation"]["max_new_tokens"]
    saved = resolve_model("qwen2.5-1.5b").kv_bytes_per_token(2) * w["samples"] * seq * (
        1 - 34 / 64)
    total = load_device_spec("jetson-orin-nano-8gb").memory_bytes
    want = min(0.95, max(0.1, math.ceil(110 * (w["memory_bytes"]["hi"] + saved) / total) / 100))
    assert m["engines"]["vllm"]["gpu_memory_utilization"] == pytest.approx(want)
    assert m["engines"]["vllm"]["kv_cache_dtype"] == "auto"


def _q8(e: dict) -> None:
    """A hand-made llama.cpp q8_0 section (as export writes it)."""
    e["llama_cpp"].update(cache_type="q8_0",
                          command=e["llama_cpp"]["command"] + " -ctk q8_0 -ctv q8_0 -fa on")


@pytest.mark.parametrize(("edit", "expect"), [
    (lambda e: e["vllm"].update(kv_cache_dtype="fp8"),
     "engines.vllm.command serves --kv-cache-dtype auto, not the section's kv_cache_dtype fp8"),
    (lambda e: e["vllm"].update(kv_cache_dtype="fp8", command=e["vllm"]["command"]
                                + " --kv-cache-dtype fp8_e5m2"),
     "serves --kv-cache-dtype fp8_e5m2, not the section's kv_cache_dtype fp8"),
    (lambda e: e["vllm"].update(kv_cache_dtype="int4"), "unknown KV-cache dtype 'int4'"),
    (lambda e: (_q8(e), e["llama_cpp"].update(
        command=e["llama_cpp"]["command"].replace("-fa on", "-fa off"))),
     "a q8_0 V cache needs flash attention, and -fa is off"),
    (lambda e: (_q8(e), e["llama_cpp"].update(
        command=e["llama_cpp"]["command"].replace("-ctv q8_0", "-ctv q4_0"))),
     "serves -ctv q4_0, not the section's cache_type q8_0"),
    (lambda e: e["llama_cpp"].update(cache_type="q8_0"), "serves -ctk f16, not the section's"),
    (lambda e: e["tensorrt_llm"].update(kv_cache_dtype="auto"),
     "makes a --kv_cache_qformat fp8 checkpoint, but kv_cache_dtype is auto"),
    (lambda e: e["tensorrt_llm"].update(kv_cache_dtype="nvfp4"), "'nvfp4' is not auto or fp8"),
])
def test_validate_checks_each_engines_kv_cache(profile, edit, expect) -> None:
    """On an H100 an FP8 model's TensorRT-LLM checkpoint keeps an FP8 cache (its terms'
    recipe), so every engine section has a cache field to contradict."""
    rec = _as(_rec(profile), "deepseek-r1-distill-llama-8b", "fp8")
    rec = rec.model_copy(update={"problem": rec.problem.model_copy(
        update={"device": "h100-sxm"})})
    clean = build_manifest(rec).model_dump(mode="json")
    assert clean["engines"]["tensorrt_llm"]["kv_cache_dtype"] == "fp8"
    assert problems(clean) == []
    _q8(clean["engines"])
    assert problems(clean) == []  # q8_0 with its flags, as export writes it, is valid
    m = build_manifest(rec).model_dump(mode="json")
    edit(m["engines"])
    found = problems(m)
    assert any(expect in line for line in found), found


def test_export_refuses_an_edited_kv_cache_dtype_in_one_line(profile, tmp_path: Path,
                                                             capsys) -> None:
    rec = _rec(profile)
    data = json.loads(rec.model_dump_json())
    data["provenance"]["kv_cache_dtype"] = "int3"
    (tmp_path / "rec.json").write_text(json.dumps(data))
    assert main(["export", str(tmp_path / "rec.json"), "--out",
                 str(tmp_path / "m.yaml")]) == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "kv_cache_dtype 'int3' is not one of auto, fp8, q8_0" in lines[0]
    assert not (tmp_path / "m.yaml").exists()
