"""Known model architectures and the arithmetic that follows from them.

Every figure here comes from the model's published ``config.json`` on the Hugging Face Hub
(the ``source`` field names the repository). ``published_params`` is the size that the model
card or the safetensors index states, used to check the parameter arithmetic.

Families: ``qwen2`` and ``llama`` (separate q/k/v and gate/up projections, optional qkv
bias), ``qwen3`` (no bias; an RMSNorm over each query and key head, ``qk_norm``) and
``phi3`` (Phi-4-mini: fused qkv and gate_up projections with the same parameter counts,
rotary on ``partial_rotary_factor`` of each head, LongRoPE scaling).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from edgeprof.catalog._quant import QuantFormat, get_quant
from edgeprof.errors import DataFormatError, UnknownModelError
from edgeprof.units import fold_name


class ArchSpec(BaseModel):
    """A decoder-only transformer architecture (Llama / Qwen2 / Qwen3 / Phi-3 family)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="catalog name, e.g. qwen2.5-0.5b")
    family: str = Field(description="transformers model_type: qwen2, llama, qwen3 or phi3")
    source: str = Field(description="where the figures come from (Hub repo or local folder)")
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    vocab: int
    tied_embeddings: bool
    qkv_bias: bool
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    max_position: int = 32768
    rope_scaling: dict[str, Any] | None = None
    qk_norm: bool = Field(default=False, description="RMSNorm on each q and k head (Qwen3)")
    partial_rotary_factor: float = Field(
        default=1.0, gt=0, le=1, description="share of each head's dims that get rotary (Phi-3)")
    original_max_position: int | None = Field(
        default=None, description="pre-extension context of LongRoPE scaling (Phi-3)")
    published_params: int | None = Field(default=None, description="size stated by the publisher")
    scaled_from: str | None = Field(
        default=None, description="set for scaled-down variants: the full model's name"
    )
    local_path: str | None = Field(default=None, description="local HF folder, if any")

    # ----------------------------------------------------------------- parameter arithmetic
    @property
    def attention_params_per_layer(self) -> int:
        q = self.hidden * self.heads * self.head_dim
        kv = 2 * self.hidden * self.kv_heads * self.head_dim
        o = self.heads * self.head_dim * self.hidden
        bias = (self.heads + 2 * self.kv_heads) * self.head_dim if self.qkv_bias else 0
        return q + kv + o + bias

    @property
    def mlp_params_per_layer(self) -> int:
        return 3 * self.hidden * self.ffn  # gate, up, down

    @property
    def linear_params(self) -> int:
        """Parameters of the quantizable projections (attention + MLP) in all layers."""
        return self.layers * (self.attention_params_per_layer + self.mlp_params_per_layer)

    @property
    def norm_params(self) -> int:
        qk = 2 * self.head_dim if self.qk_norm else 0
        return self.layers * (2 * self.hidden + qk) + self.hidden

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def lm_head_params(self) -> int:
        """Separate LM head parameters (0 when tied to the embedding)."""
        return 0 if self.tied_embeddings else self.vocab * self.hidden

    @property
    def params(self) -> int:
        return self.linear_params + self.norm_params + self.embedding_params + self.lm_head_params

    # ---------------------------------------------------------------------- bytes
    def weight_bytes(self, quant: str | QuantFormat) -> int:
        """Bytes of all weights stored in ``quant`` (linear layers quantized, rest dense)."""
        q = get_quant(quant) if isinstance(quant, str) else quant
        dense = q.dense_dtype_bytes
        quantized = self.linear_params * q.weight_bytes_per_param
        rest = (self.norm_params + self.embedding_params + self.lm_head_params) * dense
        return round(quantized + rest)

    def decode_stream_bytes(self, quant: str | QuantFormat) -> int:
        """Weight bytes one decode step must read: every projection and the LM head.

        The embedding lookup gathers only ``batch`` rows, so an untied embedding table is
        not streamed; a tied one is, because it serves as the LM head.
        """
        q = get_quant(quant) if isinstance(quant, str) else quant
        dense = q.dense_dtype_bytes
        head = self.vocab * self.hidden * dense
        return round(self.linear_params * q.weight_bytes_per_param + head
                     + self.norm_params * dense)

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        """KV-cache bytes per token of context per sequence (keys and values, all layers)."""
        return 2 * self.layers * self.kv_heads * self.head_dim * dtype_bytes

    def flops_per_token(self, context: int = 0) -> float:
        """Forward FLOPs for one token attending to ``context`` earlier tokens."""
        matmul = 2.0 * (self.linear_params + self.vocab * self.hidden)
        attention = 4.0 * self.layers * self.heads * self.head_dim * context
        return matmul + attention

    # ---------------------------------------------------------------------- transformers
    def hf_config(self) -> dict[str, Any]:
        """A ``config.json`` dict that transformers builds this architecture from."""
        cfg: dict[str, Any] = {
            "architectures": [_HF_ARCHITECTURES[self.family]],
            "model_type": self.family,
            "hidden_size": self.hidden,
            "intermediate_size": self.ffn,
            "num_hidden_layers": self.layers,
            "num_attention_heads": self.heads,
            "num_key_value_heads": self.kv_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab,
            "tie_word_embeddings": self.tied_embeddings,
            "rope_theta": self.rope_theta,
            "rms_norm_eps": self.rms_norm_eps,
            "max_position_embeddings": self.max_position,
            "hidden_act": "silu",
            "use_cache": True,
        }
        if self.family in ("llama", "qwen3"):
            cfg["attention_bias"] = self.qkv_bias
        if self.family == "llama":
            cfg["mlp_bias"] = False
        if self.family == "phi3":
            cfg["partial_rotary_factor"] = self.partial_rotary_factor
            # Phi-4-mini-instruct's pad id; none for a shrunken vocabulary it would not fit
            cfg["pad_token_id"] = 199999 if self.vocab > 199999 else None
            if self.original_max_position:
                cfg["original_max_position_embeddings"] = self.original_max_position
        if self.rope_scaling:
            cfg["rope_scaling"] = dict(self.rope_scaling)
        return cfg

    def scaled(self, layers: int) -> ArchSpec:
        """The same architecture with only ``layers`` decoder layers (for quick CPU runs)."""
        return self.model_copy(
            update={
                "name": f"{self.name}-scaled-{layers}L",
                "layers": layers,
                "published_params": None,
                "scaled_from": self.name,
            }
        )


_HF_ARCHITECTURES = {"qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM",
                     "qwen3": "Qwen3ForCausalLM", "phi3": "Phi3ForCausalLM"}


def _qwen(name: str, repo: str, *, layers: int, hidden: int, heads: int, kv: int, ffn: int,
          vocab: int, tied: bool, params: int, theta: float = 1e6,
          max_pos: int = 32768) -> ArchSpec:
    return ArchSpec(name=name, family="qwen2", source=f"huggingface.co/{repo}", layers=layers,
                    hidden=hidden, heads=heads, kv_heads=kv, head_dim=hidden // heads, ffn=ffn,
                    vocab=vocab, tied_embeddings=tied, qkv_bias=True, rope_theta=theta,
                    max_position=max_pos, published_params=params)


_LLAMA3_ROPE = {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


def _llama(name: str, repo: str, *, layers: int, hidden: int, heads: int, kv: int, ffn: int,
           head_dim: int, tied: bool, params: int, rope_factor: float) -> ArchSpec:
    return ArchSpec(name=name, family="llama", source=f"huggingface.co/{repo}", layers=layers,
                    hidden=hidden, heads=heads, kv_heads=kv, head_dim=head_dim, ffn=ffn,
                    vocab=128256, tied_embeddings=tied, qkv_bias=False, rope_theta=500000.0,
                    rms_norm_eps=1e-5, max_position=131072,
                    rope_scaling={**_LLAMA3_ROPE, "factor": rope_factor},
                    published_params=params)


def _qwen3(name: str, *, layers: int, hidden: int, heads: int, ffn: int, tied: bool,
           params: int) -> ArchSpec:
    """Qwen3 dense: head_dim 128, 8 KV heads, vocab 151936, rope_theta 1e6, 40960 positions,
    q/k RMSNorm, no bias (every Qwen/Qwen3-* config.json shares these)."""
    repo = f"Qwen/Qwen3-{name.removeprefix('qwen3-').upper()}"
    return ArchSpec(name=name, family="qwen3", source=f"huggingface.co/{repo}", layers=layers,
                    hidden=hidden, heads=heads, kv_heads=8, head_dim=128, ffn=ffn,
                    vocab=151936, tied_embeddings=tied, qkv_bias=False, rope_theta=1e6,
                    max_position=40960, qk_norm=True, published_params=params)


# Phi-4-mini-instruct's LongRoPE factors (config.json rope_scaling, 48 = 128 * 0.75 / 2).
_PHI4_MINI_LONG_FACTOR = [
    1, 1.118320672, 1.250641126, 1.398617824, 1.564103225, 1.74916897, 1.956131817,
    2.187582649, 2.446418898, 2.735880826, 3.059592084, 3.421605075, 3.826451687,
    4.279200023, 4.785517845, 5.351743533, 5.984965424, 6.693110555, 7.485043894,
    8.370679318, 9.36110372, 10.4687158, 11.70738129, 13.09260651, 14.64173252, 16.37415215,
    18.31155283, 20.47818807, 22.90118105, 25.61086418, 28.64115884, 32.03, 32.1, 32.13,
    32.23, 32.6, 32.61, 32.64, 32.66, 32.7, 32.71, 32.93, 32.97, 33.28, 33.49, 33.5, 44.16,
    47.77,
]
_PHI4_MINI = ArchSpec(
    name="phi-4-mini", family="phi3", source="huggingface.co/microsoft/Phi-4-mini-instruct",
    layers=32, hidden=3072, heads=24, kv_heads=8, head_dim=128, ffn=8192, vocab=200064,
    tied_embeddings=True, qkv_bias=False, rope_theta=10000.0, rms_norm_eps=1e-5,
    max_position=131072, partial_rotary_factor=0.75, original_max_position=4096,
    rope_scaling={"type": "longrope", "long_factor": _PHI4_MINI_LONG_FACTOR,
                  "short_factor": [1.0] * 48},
    published_params=3_836_021_760)

# Llama-2-7B ("LLaMA 7B" in TensorRT-LLM's 0.5-0.9 performance tables): the config.json fields
# as TensorRT-LLM's docs/source/performance.md (v0.9.0) lists them for its benchmark engine
# (32 layers, hidden 4096, 32 heads = 32 KV heads, FFN 11008, vocab 32000, rope theta 1e4,
# 4096 positions); 6,738,415,616 parameters (the Hub page of meta-llama/Llama-2-7b-hf).
_LLAMA2_7B = ArchSpec(
    name="llama-2-7b", family="llama", source="huggingface.co/meta-llama/Llama-2-7b-hf",
    layers=32, hidden=4096, heads=32, kv_heads=32, head_dim=128, ffn=11008, vocab=32000,
    tied_embeddings=False, qkv_bias=False, rope_theta=10000.0, rms_norm_eps=1e-5,
    max_position=4096, published_params=6_738_415_616)

# Llama-2-13B (in the Jetson AI Lab / llama.cpp Jetson figures): meta-llama/Llama-2-13b-hf's
# config.json as copies of it list it (40 layers, hidden 5120, 40 heads = 40 KV heads, FFN
# 13824, vocab 32000, 4096 positions, rms_norm_eps 1e-5, untied); 13,015,864,320 parameters
# (the count model-size tables list for meta-llama/Llama-2-13b-chat-hf, and the sum of those
# shapes: 327,680,000 embedding + lm_head, 40 × 317,204,480 per layer, 5,120 final norm).
_LLAMA2_13B = ArchSpec(
    name="llama-2-13b", family="llama", source="huggingface.co/meta-llama/Llama-2-13b-hf",
    layers=40, hidden=5120, heads=40, kv_heads=40, head_dim=128, ffn=13824, vocab=32000,
    tied_embeddings=False, qkv_bias=False, rope_theta=10000.0, rms_norm_eps=1e-5,
    max_position=4096, published_params=13_015_864_320)

# Meta-Llama-3-8B: Llama-3.1-8B's layer shapes without its llama3 rope scaling (config.json:
# rope_theta 500000, rope_scaling null, 8192 positions; copies of the -Instruct config read in
# the code index); 8,030,261,248 parameters, as Llama-3.1-8B.
_LLAMA3_8B = ArchSpec(
    name="llama-3-8b", family="llama", source="huggingface.co/meta-llama/Meta-Llama-3-8B",
    layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, ffn=14336, vocab=128256,
    tied_embeddings=False, qkv_bias=False, rope_theta=500000.0, rms_norm_eps=1e-5,
    max_position=8192, published_params=8_030_261_248)

# published_params: the safetensors parameter count shown on each Hub page; for Qwen3 the
# exact counts KerasHub publishes for its converted presets (keras_hub qwen3_presets.py).
# Where the new entries' config.json fields were read (copies of the Hub files): Qwen3-4B/8B/
# 14B and Llama-3.1-8B from citsjtu2020/LLM-Prof sglang/Model_Config.md; Qwen3-0.6B from a
# copy of Qwen/Qwen3-0.6B/raw/main/config.json; Qwen3-1.7B's dimensions from hisim's built-in
# model registry, its tied embedding confirmed by KerasHub's count (untied would add 311M);
# Phi-4-mini from a copy pinned to microsoft/Phi-4-mini-instruct@cfbefacb (config.json and
# safetensors headers: 3,836,021,760 parameters). Llama-3.1-8B's config fields equal
# DeepSeek-R1-Distill-Llama-8B's (llama3 rope factor 8.0 in both), so the same count.
CATALOG: dict[str, ArchSpec] = {
    a.name: a
    for a in (
        _qwen("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", layers=24, hidden=896, heads=14, kv=2,
              ffn=4864, vocab=151936, tied=True, params=494_032_768),
        _qwen("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B", layers=28, hidden=1536, heads=12, kv=2,
              ffn=8960, vocab=151936, tied=True, params=1_543_714_304),
        _qwen("qwen2.5-3b", "Qwen/Qwen2.5-3B", layers=36, hidden=2048, heads=16, kv=2,
              ffn=11008, vocab=151936, tied=True, params=3_085_938_688),
        _qwen("qwen2.5-7b", "Qwen/Qwen2.5-7B", layers=28, hidden=3584, heads=28, kv=4,
              ffn=18944, vocab=152064, tied=False, params=7_615_616_512, max_pos=131072),
        _qwen("qwen2.5-14b", "Qwen/Qwen2.5-14B", layers=48, hidden=5120, heads=40, kv=8,
              ffn=13824, vocab=152064, tied=False, params=14_770_033_664, max_pos=131072),
        _qwen("deepseek-r1-distill-qwen-1.5b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
              layers=28, hidden=1536, heads=12, kv=2, ffn=8960, vocab=151936, tied=False,
              params=1_777_088_000, theta=10000.0, max_pos=131072),
        _qwen("deepseek-r1-distill-qwen-7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B",
              layers=28, hidden=3584, heads=28, kv=4, ffn=18944, vocab=152064, tied=False,
              params=7_615_616_512, theta=10000.0, max_pos=131072),
        _qwen("deepseek-r1-distill-qwen-14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
              layers=48, hidden=5120, heads=40, kv=8, ffn=13824, vocab=152064, tied=False,
              params=14_770_033_664, max_pos=131072),
        _llama("deepseek-r1-distill-llama-8b", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
               layers=32, hidden=4096, heads=32, kv=8, ffn=14336, head_dim=128, tied=False,
               params=8_030_261_248, rope_factor=8.0),
        _llama("llama-3.2-1b", "meta-llama/Llama-3.2-1B", layers=16, hidden=2048, heads=32,
               kv=8, ffn=8192, head_dim=64, tied=True, params=1_235_814_400, rope_factor=32.0),
        _llama("llama-3.2-3b", "meta-llama/Llama-3.2-3B", layers=28, hidden=3072, heads=24,
               kv=8, ffn=8192, head_dim=128, tied=True, params=3_212_749_824, rope_factor=32.0),
        _llama("llama-3.1-8b", "meta-llama/Llama-3.1-8B", layers=32, hidden=4096, heads=32,
               kv=8, ffn=14336, head_dim=128, tied=False, params=8_030_261_248, rope_factor=8.0),
        _qwen3("qwen3-0.6b", layers=28, hidden=1024, heads=16, ffn=3072, tied=True,
               params=596_049_920),
        _qwen3("qwen3-1.7b", layers=28, hidden=2048, heads=16, ffn=6144, tied=True,
               params=1_720_574_976),
        _qwen3("qwen3-4b", layers=36, hidden=2560, heads=32, ffn=9728, tied=True,
               params=4_022_468_096),
        _qwen3("qwen3-8b", layers=36, hidden=4096, heads=32, ffn=12288, tied=False,
               params=8_190_735_360),
        _qwen3("qwen3-14b", layers=40, hidden=5120, heads=40, ffn=17408, tied=False,
               params=14_768_307_200),
        _PHI4_MINI,
        _LLAMA2_7B,
        _LLAMA2_13B,
        _LLAMA3_8B,
    )
}

# Other spellings people use: Hub ids, and the names in the EdgeReasoning data.
_ALIASES = {
    "dsr1-qwen-1.5b": "deepseek-r1-distill-qwen-1.5b",
    "dsr1-qwen-7b": "deepseek-r1-distill-qwen-7b",
    "dsr1-qwen-14b": "deepseek-r1-distill-qwen-14b",
    "dsr1-llama-8b": "deepseek-r1-distill-llama-8b",
    "meta-llama-3.1-8b": "llama-3.1-8b",
    "meta-llama-3-8b": "llama-3-8b",
    # Qwen3-4B-Instruct-2507 has Qwen3-4B's layer shapes (its published config differs in the
    # context length, which stays at Qwen3-4B's stricter 40960 here), as the importers map it.
    "qwen3-4b-instruct-2507": "qwen3-4b",
}

_SCALED = re.compile(r"^(?P<base>.+)-scaled-(?P<layers>\d+)l$")


def _canonical(name: str) -> str:
    key = fold_name(name)  # "Llama 3.1 8B" = "llama-3.1-8b"
    if "/" in key:
        key = key.rsplit("/", 1)[1]
    key = re.sub(r"(?:-(?:instruct|chat|hf))+$", "", key)  # Llama-2-13b-chat-hf = llama-2-13b
    return _ALIASES.get(key, key)


def resolve_model(name: str) -> ArchSpec:
    """A catalog name, a Hub id, ``<name>-scaled-<N>L`` or a local Hugging Face folder."""
    path = Path(name).expanduser()
    if path.is_dir():
        return from_hf_folder(path)
    key = _canonical(name)
    if key in CATALOG:
        return CATALOG[key]
    match = _SCALED.match(key)
    if match and _canonical(match["base"]) in CATALOG:
        base = CATALOG[_canonical(match["base"])]
        layers = int(match["layers"])
        if not 1 <= layers <= base.layers:
            raise UnknownModelError(
                f"{name!r} asks for {layers} layers; {base.name} has 1..{base.layers}."
            )
        return base.scaled(layers)
    raise UnknownModelError(
        f"Unknown model {name!r}; run `edgeprof models` for the catalog, append "
        f"-scaled-<N>L for a shorter variant, or pass a local Hugging Face folder."
    )


def from_hf_folder(path: Path) -> ArchSpec:
    """Read a local Hugging Face model folder's ``config.json``."""
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise DataFormatError(f"{path} has no config.json; point at a Hugging Face model folder.")
    try:
        cfg = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{cfg_path} is not valid JSON ({exc.msg}).") from None
    family = cfg.get("model_type")
    if family not in _HF_ARCHITECTURES:
        raise DataFormatError(
            f"{cfg_path}: model_type {family!r} is not supported; edgeprof knows "
            f"{', '.join(_HF_ARCHITECTURES)}."
        )
    try:
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        return ArchSpec(
            name=path.name,
            family=family,
            source=str(path.resolve()),
            layers=int(cfg["num_hidden_layers"]),
            hidden=hidden,
            heads=heads,
            kv_heads=int(cfg.get("num_key_value_heads", heads)),
            head_dim=int(cfg.get("head_dim") or hidden // heads),
            ffn=int(cfg["intermediate_size"]),
            vocab=int(cfg["vocab_size"]),
            tied_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            qkv_bias=family == "qwen2" or bool(cfg.get("attention_bias", False)),
            rope_theta=float(cfg.get("rope_theta", 10000.0)),
            rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
            max_position=int(cfg.get("max_position_embeddings", 32768)),
            rope_scaling=cfg.get("rope_scaling"),
            qk_norm=family == "qwen3",
            partial_rotary_factor=float(cfg.get("partial_rotary_factor", 1.0)),
            original_max_position=cfg.get("original_max_position_embeddings"),
            local_path=str(path.resolve()),
        )
    except KeyError as exc:
        raise DataFormatError(f"{cfg_path} lacks the field {exc.args[0]!r}.") from None


def canonical_name(name: str) -> str:
    """The one model-name normaliser: the catalog name when ``name`` resolves (aliases, case,
    ``-scaled-NL`` variants, local folders), else the name as given, stripped. Compare model
    names through it everywhere."""
    from edgeprof.errors import EdgeprofError

    try:
        return resolve_model(name).name
    except EdgeprofError:
        return name.strip()


def catalog_names() -> list[str]:
    return list(CATALOG)
