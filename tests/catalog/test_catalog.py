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
    "llama-3.2-3b", "qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b",
    "llama-3.1-8b", "phi-4-mini",
]

# Sizes as the publishers round them on their model cards (billions).
MODEL_CARD_BILLIONS = {
    "qwen2.5-0.5b": 0.49, "qwen2.5-1.5b": 1.54, "qwen2.5-3b": 3.09, "qwen2.5-7b": 7.61,
    "qwen2.5-14b": 14.7, "deepseek-r1-distill-qwen-1.5b": 1.78,
    "deepseek-r1-distill-qwen-7b": 7.62, "deepseek-r1-distill-qwen-14b": 14.8,
    "deepseek-r1-distill-llama-8b": 8.03, "llama-3.2-1b": 1.23, "llama-3.2-3b": 3.21,
    # Qwen3 model cards: 0.6B, 1.7B, 4.0B, 8.2B, 14.8B; Llama-3.1-8B and Phi-4-mini Hub pages.
    "qwen3-0.6b": 0.6, "qwen3-1.7b": 1.72, "qwen3-4b": 4.02, "qwen3-8b": 8.19,
    "qwen3-14b": 14.77, "llama-3.1-8b": 8.03, "phi-4-mini": 3.84,
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


def test_qwen3_q_k_norm_and_phi_partial_rotary_reach_transformers():
    """The family traits are in the config transformers builds, not only in the arithmetic."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    qwen3 = CATALOG["qwen3-8b"]
    assert qwen3.qk_norm and not qwen3.qkv_bias and qwen3.head_dim == 128
    # q/k norm adds 2 x head_dim weights per layer to the Qwen2-style count
    assert qwen3.norm_params == qwen3.layers * (2 * qwen3.hidden + 2 * 128) + qwen3.hidden
    cfg = transformers.AutoConfig.for_model(**CATALOG["phi-4-mini"].hf_config())
    assert cfg.partial_rotary_factor == 0.75
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(
            transformers.AutoConfig.for_model(**qwen3.scaled(1).hf_config()))
    names = {n for n, _ in model.named_parameters()}
    assert "model.layers.0.self_attn.q_norm.weight" in names
    assert not any(n.endswith("q_proj.bias") for n in names)


@pytest.mark.parametrize("name", ["qwen3-0.6b", "phi-4-mini"])
def test_torch_engine_builds_and_runs_new_families(name):
    """Random weights from config: one layer and a small vocab keep it to a second on CPU."""
    pytest.importorskip("transformers")
    from edgeprof.engines._base import get_engine

    arch = CATALOG[name].model_copy(update={"layers": 1, "vocab": 1024,
                                            "name": f"{name}-tiny", "published_params": None})
    engine = get_engine("torch", "cpu", threads=1)
    engine.load(arch, "fp32")
    try:
        result = engine.run(8, 3, 1)
        assert len(result.token_times_s) == 3
        weights = engine.loaded_weight_bytes()  # parameters plus the rotary buffers
        assert arch.params * 4 <= weights < arch.params * 4 + 65536
    finally:
        engine.unload()


def test_onnx_engine_refuses_what_its_graph_lacks():
    pytest.importorskip("onnxruntime")
    from edgeprof.engines._base import get_engine

    engine = get_engine("onnxruntime", "cpu")
    for name in ("qwen3-0.6b", "phi-4-mini"):
        support = engine.support(CATALOG[name], "fp32")
        assert not support.runnable and "torch engine" in support.reason


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
    assert resolve_model("Qwen/Qwen3-8B").name == "qwen3-8b"
    assert resolve_model("meta-llama/Llama-3.1-8B-Instruct").name == "llama-3.1-8b"
    assert resolve_model("microsoft/Phi-4-mini-instruct").name == "phi-4-mini"
    assert resolve_model("Llama 3.1 8B").name == "llama-3.1-8b"  # spaces as in tables
    four = resolve_model("Qwen/Qwen3-4B-Instruct-2507")  # Qwen3-4B's layers, its context
    assert four.name == "qwen3-4b" and four.max_position == 40960
    with pytest.raises(UnknownModelError, match="edgeprof models"):
        resolve_model("gpt-17")
    with pytest.raises(UnknownQuantError, match="choose one of"):
        get_quant("int3")


@pytest.mark.parametrize("name", ["qwen3-1.7b", "phi-4-mini"])
def test_local_hf_folder_new_families(tmp_path, name):
    (tmp_path / "config.json").write_text(json.dumps(CATALOG[name].hf_config()))
    arch = resolve_model(str(tmp_path))
    assert arch.family == CATALOG[name].family
    assert arch.params == CATALOG[name].params
    assert arch.partial_rotary_factor == CATALOG[name].partial_rotary_factor


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


@pytest.mark.parametrize(("published", "fmt"), [
    ("AWQ", "int4"), ("int4_awq", "int4"), ("INT4-GPTQ", "int4"), ("w4a16", "int4"),
    ("int8_sq", "int8"), ("SmoothQuant", "int8"), ("W8A8", "int8"), ("fp8_e4m3", "fp8"),
    ("INT4 AWQ", "int4"), ("INT4 GPTQ", "int4"), (" FP8 E4M3 ", "fp8"),
    ("INT8 SmoothQuant", "int8"), ("BF16", "bf16"),
    # engines' own spellings: llama.cpp GGUF types, MLC quantization codes
    ("Q4_K_M", "int4"), ("q4_0", "int4"), ("IQ4_XS", "int4"), ("Q8_0", "int8"), ("F16", "fp16"),
    ("q4f16_1", "int4"), ("INT4 q4f16", "int4"), ("q4f16_ft", "int4"), ("q0f16", "fp16"),
])
def test_published_method_names_map_to_the_format_with_their_bytes(published: str,
                                                                   fmt: str) -> None:
    assert get_quant(published).name == fmt


def test_a_format_edgeprof_does_not_model_is_named_as_such() -> None:
    for name in ("mxfp4", "MXFP4", " mxfp4"):
        with pytest.raises(UnknownQuantError, match=r"MXFP4 is not modelled"):
            get_quant(name)
    with pytest.raises(UnknownQuantError, match="say which 4-bit float: nvfp4"):
        get_quant("FP4")


def test_nvfp4_costs_its_block_scales_and_computes_in_fp4() -> None:
    """4-bit E2M1 + one 8-bit scale per 16 values = 4.5 bits; W4A4 on the FP4 tensor cores."""
    for name in ("NVFP4", "nvfp4", "modelopt_fp4", "W4A4 NVFP4"):
        q = get_quant(name)
        assert (q.name, q.weight_bits, q.activation_bits, q.compute_dtype, q.group_size) == (
            "nvfp4", 4.5, 4, "fp4", 16)
    arch = resolve_model("qwen3-8b")
    assert arch.weight_bytes("int4") < arch.weight_bytes("nvfp4") < arch.weight_bytes("int8")
    with pytest.raises(UnknownQuantError, match="Unknown quant format 'int3'; choose"):
        get_quant("int3")


@pytest.mark.parametrize("name", ["Q4_K_M", "Q4_K_S", "Q4_0", "IQ4_NL", "Q8_0", "F16"])
def test_gguf_types_predict_as_the_importers_label_them(name: str) -> None:
    """A GGUF type asked of `predict` is the format llama-bench figures were imported as."""
    from edgeprof.importers._jetson_benchmarks import map_quant
    from edgeprof.importers._llama_bench import gguf_quant

    assert get_quant(name).name == gguf_quant(f"model-{name}.gguf")[0] == map_quant(name)
