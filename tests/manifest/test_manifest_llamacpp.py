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
