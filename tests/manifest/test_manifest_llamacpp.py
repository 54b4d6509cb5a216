"""The llama.cpp path of a manifest, run for real: llama-cpp-python's server on 127.0.0.1.

A recommendation for a GGUF model (a random-weight scaled toy in F16, the only GGUF this
machine can make and llama-cpp-python 0.3.36 can run: its Q8_0 / Q4_0 random GGUFs crash
``llama_decode`` here) is exported; llama-cpp-python's server is started with the settings of the
manifest's pasted ``llama-server`` command; the manifest's N samples are sent as N requests
with its generation settings, and each answer must be exactly the manifest's length.

llama-server → ``python -m llama_cpp.server`` (the mapping docs/manifest.md documents):

- ``-m FILE`` → ``--model FILE``;
- ``-c N·(in+budget) --parallel N`` → ``--n_ctx in+budget``: llama-server gives each of its N
  slots ``c / N`` tokens; llama-cpp-python has no slots and runs one request at a time, so it
  gets one slot's context and the N requests queue;
- ``-ngl 99`` → ``--n_gpu_layers 99`` (a CPU build offloads nothing either way);
- ``-n budget``, ``--temp``, ``--top-p`` → the request's ``max_tokens``, ``temperature``,
  ``top_p``; EOS (token 2 of the generated vocabulary) is biased off so the length is forced.
"""

from __future__ import annotations

import json
import shlex
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from edgeprof.cli._app import main
from edgeprof.search import Problem, recommend
from edgeprof.search._synthetic import SyntheticAccuracy, SyntheticProfile, synthetic_device

pytest.importorskip("llama_cpp.server.app", reason="llama-cpp-python[server] not installed")
sys.path.insert(0, str(Path(__file__).parents[1]))
llama_server = pytest.importorskip("llama_server", reason="tests/llama_server.py is missing")

MODEL = "qwen2.5-0.5b-scaled-2L"
EOS_TOKEN = 2  # edgeprof.engines._gguf_build writes add_eos_token_id(2)


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def _post(url: str, body: dict, timeout_s: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_llama_cpp_manifest_serves_answers_of_its_length(tmp_path: Path) -> None:
    profile = SyntheticProfile({MODEL: 0.2}, device=synthetic_device())
    accuracy = SyntheticAccuracy({MODEL: 0.7}, {MODEL: 600.0}, samples_max=2,
                                 quants=("fp16",))
    rec = recommend(profile, accuracy, Problem(slo_s=60, input_tokens=32,
                                               memory_limit_bytes=profile.device.memory_bytes),
                    models=[MODEL], quants=["fp16"], budgets=[12], max_samples=2, trials=4)
    assert rec.winner is not None
    (tmp_path / "rec.json").write_text(rec.model_dump_json())
    man = tmp_path / "manifest.yaml"
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(man)]) == 2  # a toy
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(man),
                 "--allow-scaled"]) == 0
    assert main(["validate", str(man)]) == 0
    m = yaml.safe_load(man.read_text())
    gen, cpp = m["generation"], m["engines"]["llama_cpp"]
    assert cpp["quant_type"] == "F16" and cpp["artifact"]["kind"] == "toy"

    argv = shlex.split(cpp["command"])  # what a user pastes
    assert argv[0] == "llama-server"
    slots, ctx = int(_flag(argv, "--parallel")), int(_flag(argv, "-c"))
    budget = int(_flag(argv, "-n"))
    assert (slots, budget) == (gen["n"], gen["max_new_tokens"])
    assert ctx == slots * (gen["input_tokens"] + budget)
    gguf = llama_server.random_gguf(tmp_path, m["model"]["name"], m["quant"]["format"])
    assert gguf.read_bytes()[:4] == b"GGUF"

    with llama_server.running_llama_server(
            gguf, n_parallel=slots, n_ctx=ctx // slots, timeout_s=120,
            extra_args=["--n_gpu_layers", _flag(argv, "-ngl")]) as base_url:
        answers = []
        for i in range(cpp["requests_per_answer"]):  # N samples = N requests, bounded
            answers.append(_post(base_url + "/completions", {
                "prompt": "Question: what is two plus two? Answer:",
                "max_tokens": budget, "temperature": float(_flag(argv, "--temp")),
                "top_p": float(_flag(argv, "--top-p")), "seed": i,
                "logit_bias": {str(EOS_TOKEN): -100.0}}, timeout_s=120))
    assert len(answers) == gen["n"]
    for a in answers:
        assert a["usage"]["completion_tokens"] == gen["max_new_tokens"], a["usage"]
        assert a["usage"]["prompt_tokens"] <= gen["input_tokens"], a["usage"]
        assert a["choices"][0]["finish_reason"] == "length"


def _kv_cache_bytes(gguf: Path, cache_type: int, tmp_path: Path) -> int:
    """llama.cpp's own report of its KV cache for 2048 cells (run in a child process, whose
    stderr carries llama.cpp's log), after it answered with that cache."""
    import subprocess

    script = (
        "import sys, llama_cpp\n"
        f"llm = llama_cpp.Llama({str(gguf)!r}, n_ctx=2048, n_threads=1, type_k={cache_type}, "
        f"type_v={cache_type}, flash_attn=True, verbose=True)\n"
        "out = llm('two plus two is', max_tokens=4, temperature=0.0, "
        f"logit_bias={{{EOS_TOKEN}: -100.0}})\n"
        "print('TOKENS', out['usage']['completion_tokens'], file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "TOKENS 4" in run.stderr
    line = next(ln for ln in run.stderr.splitlines() if "llama_kv_cache: size =" in ln)
    mib = float(line.split("size =")[1].split("MiB")[0])
    return round(mib * 2**20)


@pytest.mark.slow
def test_q8_0_kv_cache_is_the_size_edgeprof_predicts_and_the_manifest_serves(
        tmp_path: Path) -> None:
    """llama.cpp's measured KV cache, f16 and q8_0, against edgeprof's formula (34 bytes per
    32 elements); then a recommendation made with --kv-cache-dtype q8_0 exports a command
    with -ctk q8_0 -ctv q8_0 -fa on, and llama-cpp-python's server run with those settings
    answers at the manifest's length."""
    from edgeprof.catalog import resolve_model

    gguf = llama_server.random_gguf(tmp_path, MODEL, "fp16")
    per_token = resolve_model(MODEL).kv_bytes_per_token(2)
    f16, q8 = (_kv_cache_bytes(gguf, t, tmp_path) for t in (1, 8))  # GGML_TYPE_F16, Q8_0
    assert f16 == pytest.approx(per_token * 2048, rel=0.005)
    assert q8 == pytest.approx(per_token * 2048 * 34 / 64, rel=0.005)

    profile = SyntheticProfile({MODEL: 0.2}, device=synthetic_device())
    profile.kv_cache_dtype = "q8_0"  # as `recommend --kv-cache-dtype q8_0` sets it
    accuracy = SyntheticAccuracy({MODEL: 0.7}, {MODEL: 600.0}, samples_max=2,
                                 quants=("fp16",))
    rec = recommend(profile, accuracy, Problem(slo_s=60, input_tokens=32,
                                               memory_limit_bytes=profile.device.memory_bytes),
                    models=[MODEL], quants=["fp16"], budgets=[12], max_samples=2, trials=4)
    assert rec.provenance.kv_cache_dtype == "q8_0"
    (tmp_path / "rec.json").write_text(rec.model_dump_json())
    man = tmp_path / "manifest.yaml"
    assert main(["export", str(tmp_path / "rec.json"), "--out", str(man),
                 "--allow-scaled"]) == 0
    assert main(["validate", str(man)]) == 0
    m = yaml.safe_load(man.read_text())
    cpp = m["engines"]["llama_cpp"]
    argv = shlex.split(cpp["command"])
    assert cpp["cache_type"] == "q8_0"
    assert (_flag(argv, "-ctk"), _flag(argv, "-ctv"), _flag(argv, "-fa")) == (
        "q8_0", "q8_0", "on")
    assert any("vllm keeps a 16-bit KV cache here" in n for n in m["engines"]["notes"])
    slots, ctx, budget = (int(_flag(argv, f)) for f in ("--parallel", "-c", "-n"))
    with llama_server.running_llama_server(
            gguf, n_parallel=slots, n_ctx=ctx // slots, timeout_s=120,
            extra_args=["--type_k", "8", "--type_v", "8", "--flash_attn", "true"]) as base_url:
        answer = _post(base_url + "/completions", {
            "prompt": "Question: what is two plus two? Answer:", "max_tokens": budget,
            "temperature": float(_flag(argv, "--temp")), "seed": 0,
            "logit_bias": {str(EOS_TOKEN): -100.0}}, timeout_s=120)
    assert answer["usage"]["completion_tokens"] == budget
