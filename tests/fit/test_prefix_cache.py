"""Parallel samples of one prompt with prefix caching: one prefill where the engine shares."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.catalog import resolve_model
from edgeprof.fit import Profile
from edgeprof.fit import _forms as forms
from edgeprof.fit._prefix_cache import prefill_shape, recomputed_tail, shared_prompt_tokens

MODEL = "deepseek-r1-distill-qwen-1.5b"  # fitted (EdgeReasoning, vLLM) on the AGX Orin 64GB
NS = np.array([1, 2, 4, 8, 16, 32], float)


def _grid(p: Profile, i: int, engine: str | None = None) -> dict:
    return p.predict_grid(MODEL, "bf16", i, np.full(NS.shape, 128.0), NS, engine=engine)


@pytest.mark.parametrize("i,tail", [(1, 1), (15, 15), (16, 16), (17, 1), (384, 16),
                                    (385, 1), (400, 16), (401, 1), (1000, 8)])
def test_a_child_recomputes_what_lies_past_its_last_whole_block(i: int, tail: int) -> None:
    """vLLM hits whole 16-token blocks below the prompt's last token (that token's logits
    must be computed), so a child recomputes 1–16 tokens."""
    assert recomputed_tail("vllm", np.array([i]))[0] == tail


@given(st.integers(1, 8192), st.integers(1, 256))
def test_shared_prefill_is_one_sequence_of_the_prompt_and_the_children_tails(
        i: int, n: int) -> None:
    tokens, seqs = prefill_shape("vllm", np.array([i]), np.array([n]), True)
    assert seqs[0] == 1
    assert i + (n - 1) <= tokens[0] <= i + 16 * (n - 1)
    for engine in ("llama.cpp", "trtllm", "mlc", "torch", None):  # no sharing modeled
        tokens, seqs = prefill_shape(engine, np.array([i]), np.array([n]), True)
        assert (tokens[0], seqs[0]) == (i, n)
    tokens, seqs = prefill_shape("vllm", np.array([i]), np.array([n]), False)
    assert (tokens[0], seqs[0]) == (i, n)


def test_without_prefix_caching_batch_n_prefills_the_prompt_n_times() -> None:
    g = _grid(Profile.load("jetson-agx-orin-64gb"), 384)
    plan = Profile.load("jetson-agx-orin-64gb")._plan(MODEL, "bf16", None, None)
    expect = forms.prefill_time(plan.prefill, resolve_model(MODEL), np.full(NS.shape, 384.0),
                                NS)
    assert np.allclose(g["ttft_s"], expect)
    assert g["ttft_s"][-1] > 10 * g["ttft_s"][0]


def test_with_prefix_caching_vllm_prefills_once_and_decode_is_unchanged() -> None:
    base = Profile.load("jetson-agx-orin-64gb")
    cached = base.with_prefix_caching()
    assert cached.resolved_engine() == "vllm" and not base.prefix_caching
    g0, g1 = _grid(base, 384), _grid(cached, 384)
    assert g1["ttft_s"][0] == g0["ttft_s"][0]  # one sample: nothing to share
    plan = cached._plan(MODEL, "bf16", None, None)
    one = forms.prefill_time(plan.prefill, resolve_model(MODEL),
                             384.0 + (NS - 1) * 16.0, np.ones(NS.shape))
    assert np.allclose(g1["ttft_s"], one)
    assert np.all(g1["ttft_s"][1:] < g0["ttft_s"][1:])
    assert g1["ttft_s"][-1] < 3 * g1["ttft_s"][0]
    assert np.array_equal(g1["decode_s"], g0["decode_s"])
    assert np.all(np.diff(g1["ttft_s"]) >= 0)  # still non-decreasing in N
    # other engines keep N prefills under the same flag
    ll0, ll1 = _grid(base, 384, "llama.cpp"), _grid(cached, 384, "llama.cpp")
    assert np.array_equal(ll0["ttft_s"], ll1["ttft_s"])
    # with_engine keeps the setting
    assert cached.with_engine("llama.cpp").prefix_caching


def test_with_prefix_caching_the_samples_hold_the_prompt_kv_once() -> None:
    """Memory: the cached blocks (I − tail tokens) once, each sample's tail and generated
    tokens on their own; one sample, another engine or the flag off change nothing."""
    base = Profile.load("jetson-agx-orin-64gb")
    cached = base.with_prefix_caching()
    g0, g1 = _grid(base, 384), _grid(cached, 384)
    per_token = resolve_model(MODEL).kv_bytes_per_token(2)
    saved = g0["peak_mem_bytes"] - g1["peak_mem_bytes"]
    assert np.allclose(saved, (NS - 1) * (384 - 16) * per_token)
    assert saved[0] == 0 and np.all(np.diff(g1["peak_mem_bytes"]) > 0)
    assert np.allclose(g1["mem_hi"] / g1["peak_mem_bytes"], g0["mem_hi"] / g0["peak_mem_bytes"])
    ll0, ll1 = _grid(base, 384, "llama.cpp"), _grid(cached, 384, "llama.cpp")
    assert np.array_equal(ll0["peak_mem_bytes"], ll1["peak_mem_bytes"])
    note = cached.predict(MODEL, "bf16", 384, 128, batch=8).peak_mem_bytes.note or ""
    assert "held once for the 8 samples" in note
    assert "held once" not in (base.predict(MODEL, "bf16", 384, 128, batch=8)
                               .peak_mem_bytes.note or "")


@given(st.integers(1, 8192), st.integers(1, 256))
def test_shared_prompt_kv_is_whole_blocks_below_the_last_token(i: int, n: int) -> None:
    shared = shared_prompt_tokens("vllm", np.array([i]), np.array([n]), True)[0]
    assert shared % 16 == 0 and 0 <= shared <= i - 1
    assert shared_prompt_tokens("vllm", np.array([i]), np.array([n]), False)[0] == 0
    assert shared_prompt_tokens("llama.cpp", np.array([i]), np.array([n]), True)[0] == 0


def test_the_prediction_says_how_the_prompt_was_prefilled() -> None:
    cached = Profile.load("jetson-agx-orin-64gb").with_prefix_caching()
    p = cached.predict(MODEL, "bf16", 384, 128, batch=8)
    assert "prompt prefilled once for the 8 samples" in (p.ttft_s.note or "")
    assert "prompt prefilled once" in (p.e2e_s.note or "")
    assert "prefilled" not in (p.decode_s.note or "")
    assert "8 prefills" in (cached.predict(MODEL, "bf16", 384, 128, batch=8,
                                           engine="llama.cpp").ttft_s.note or "")
    one = cached.predict(MODEL, "bf16", 384, 128, batch=1)
    assert "prefilled" not in (one.ttft_s.note or "")
    plain = Profile.load("jetson-agx-orin-64gb").predict(MODEL, "bf16", 384, 128, batch=8)
    assert "prefill" not in (plain.ttft_s.note or "")


def test_predict_cli_prefix_caching_flag(run_cli) -> None:
    args = ("predict", "--device", "jetson-agx-orin-64gb", "--model", MODEL, "--quant",
            "bf16", "--input-tokens", "384", "--output-tokens", "128", "--batch", "32",
            "--json")
    code, out, err = run_cli(*args)
    assert code == 0, err
    plain = json.loads(out)
    code, out, err = run_cli(*args, "--prefix-caching")
    assert code == 0, err
    cached = json.loads(out)
    assert cached["ttft_s"]["value"] < plain["ttft_s"]["value"] / 5
    assert cached["decode_s"] == plain["decode_s"]
    assert "prefilled once for the 32 samples" in cached["ttft_s"]["note"]


def test_recommend_prefix_caching_lowers_the_n_sample_latency_and_says_so(run_cli) -> None:
    args = ("recommend", "--device", "jetson-agx-orin-64gb", "--budget", "20s",
            "--accuracy", "synthetic-traces", "--budgets", "128,256", "--max-samples", "8",
            "--input-tokens", "1024", "--trials", "4", "--json")
    runs = []
    for extra in ((), ("--prefix-caching",)):
        code, out, err = run_cli(*args, *extra)
        assert code == 0, err
        runs.append(json.loads(out))
    plain, cached = runs

    def latency(rec: dict, samples: int) -> dict[tuple, float]:
        return {(p["model"], p["quant"], p["budget"], p["power_mode"]): p["latency_s"]
                for p in rec["points"] if p["samples"] == samples}

    for n, cheaper in ((1, False), (8, True)):
        a, b = latency(plain, n), latency(cached, n)
        assert a.keys() == b.keys() and a
        if cheaper:
            assert all(b[k] < a[k] for k in a)
        else:
            assert a == b
    assert any("prompt prefilled once for the N samples" in s for s in cached["notes"])
    assert not any("prefilled once" in s for s in plain["notes"])
