"""The model catalog: parameter arithmetic against published sizes and transformers."""

from __future__ import annotations

import json

import pytest

from edgeprof.catalog import CATALOG, QUANT_FORMATS, get_quant, resolve_model
from edgeprof.errors import UnknownModelError, UnknownQuantError

REQUIRED = [
    "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b", "qwen2.5-14b",
    "deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-qwen-7b",
    "deepseek-r1-distill-qwen-14b", "deepseek-r1-distill-llama-8b", "llama-3.2-1b",
    "llama-3.2-3b",
]

# Sizes as the publishers round them on their model cards (billions).
MODEL_CARD_BILLIONS = {
    "qwen2.5-0.5b": 0.49, "qwen2.5-1.5b": 1.54, "qwen2.5-3b": 3.09, "qwen2.5-7b": 7.61,
    "qwen2.5-14b": 14.7, "deepseek-r1-distill-qwen-1.5b": 1.78,
    "deepseek-r1-distill-qwen-7b": 7.62, "deepseek-r1-distill-qwen-14b": 14.8,
    "deepseek-r1-distill-llama-8b": 8.03, "llama-3.2-1b": 1.23, "llama-3.2-3b": 3.21,
}


@pytest.mark.parametrize("name", REQUIRED)
def test_params_match_published_within_one_percent(name):
    arch = CATALOG[name]
    assert abs(arch.params / arch.published_params - 1) < 0.01
    assert abs(arch.params / 1e9 / MODEL_CARD_BILLIONS[name] - 1) < 0.01


@pytest.mark.parametrize("name", REQUIRED)
def test_params_match_transformers_build(name):
    """Count parameters of the real transformers module built on the meta device."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    arch = CATALOG[name]
    config = transformers.AutoConfig.for_model(**arch.hf_config())
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config)
    counted = sum(p.numel() for p in model.parameters())
    assert counted == arch.params


def test_kv_bytes_per_token_formula():
    arch = CATALOG["deepseek-r1-distill-llama-8b"]
    assert arch.kv_bytes_per_token(2) == 2 * 32 * 8 * 128 * 2


def test_weight_bytes_ordering_and_int4_quarter():
    arch = CATALOG["qwen2.5-7b"]
    sizes = {q: arch.weight_bytes(q) for q in QUANT_FORMATS}
    assert sizes["fp32"] > sizes["fp16"] > sizes["int8"] > sizes["int4"]
    linear_fp16 = arch.linear_params * 2
    linear_int4 = arch.linear_params * get_quant("int4").weight_bytes_per_param
    assert 0.25 < linear_int4 / linear_fp16 < 0.27


def test_scaled_variant_is_labeled():
    arch = resolve_model("qwen2.5-0.5b-scaled-4L")
    assert arch.layers == 4 and arch.scaled_from == "qwen2.5-0.5b"
    assert arch.hidden == CATALOG["qwen2.5-0.5b"].hidden
    with pytest.raises(UnknownModelError):
        resolve_model("qwen2.5-0.5b-scaled-99L")


def test_aliases_and_unknown():
    assert resolve_model("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B").name == (
        "deepseek-r1-distill-qwen-1.5b")
    assert resolve_model("DSR1-Llama-8B").name == "deepseek-r1-distill-llama-8b"
    with pytest.raises(UnknownModelError, match="edgeprof models"):
        resolve_model("gpt-17")
    with pytest.raises(UnknownQuantError, match="choose one of"):
        get_quant("int3")


def test_local_hf_folder(tmp_path):
    cfg = CATALOG["llama-3.2-1b"].hf_config()
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    arch = resolve_model(str(tmp_path))
    assert arch.params == CATALOG["llama-3.2-1b"].params
    assert arch.local_path


def test_models_cli(run_cli):
    code, out, _ = run_cli("models", "--json")
    assert code == 0
    names = {d["name"] for d in json.loads(out)}
    assert set(REQUIRED) <= names
    code, _, err = run_cli("models", "no-such-model")
    assert code == 2 and err.startswith("Error: Unknown model")


def test_version_flag(run_cli) -> None:
    from edgeprof import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == __version__
