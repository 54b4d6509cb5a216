"""Random-weight GGUF files of catalog architectures, for llama.cpp (``--engine llama.cpp``).

``ensure_gguf(arch, quant)`` writes (or finds in the cache) a GGUF file with the ``gguf``
package: the architecture's real shapes (``qwen2``, ``llama`` and ``qwen3`` families, the
``-scaled-NL`` variants included), seeded random weights, and the linear layers in one of
llama.cpp's own quant types, quantized with ``gguf.quants.quantize`` (the same block formats
``llama-quantize`` writes):

=========  ==========  ===========================================================
edgeprof   GGUF type   storage of the attention and MLP projections
=========  ==========  ===========================================================
fp32       F32         32-bit floats
fp16       F16         16-bit floats
bf16       BF16        bfloat16
int8       Q8_0        blocks of 32 int8 weights with one fp16 scale (8.5 bits)
int4       Q4_0        blocks of 32 4-bit weights with one fp16 scale (4.5 bits)
=========  ==========  ===========================================================

As in :mod:`edgeprof.catalog._quant`, the token embedding and the LM head stay 16-bit (F32
for ``fp32``) and norms F32. ``llama-quantize`` would also quantize the embedding and store
the head as Q6_K; that is a difference to know when comparing with published GGUF files.

The tokenizer is a generated SentencePiece-style (``tokenizer.ggml.model = "llama"``)
vocabulary of exactly ``arch.vocab`` pieces: ``<unk>``, ``<s>``, ``</s>``, the 256 byte
pieces ``<0x00>``…``<0xFF>`` (so any text tokenizes, by byte fallback) and generated
pieces. It is not the model's real tokenizer (Qwen's is byte-level BPE); the embedding and
LM-head sizes, which are what the timing depends on, are the real ones. Rope scaling
(Llama 3.2's ``llama3``, Phi's LongRoPE) is not written; ``phi3`` is not supported.

Files live in ``$EDGEPROF_CACHE_DIR/gguf`` (default ``~/.cache/edgeprof/gguf``) under a name
that hashes the architecture, type, seed and writer version, so a second call returns the
same file without writing it again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.catalog._quant import get_quant
from edgeprof.errors import MissingDependencyError, UnknownQuantError, UnsupportedError

WRITER_VERSION = 1
QK = 32  # block size of Q8_0 and Q4_0 (ggml's QK8_0 / QK4_0)
FAMILIES = {"qwen2": "qwen2", "llama": "llama", "qwen3": "qwen3"}  # catalog → GGUF arch
# edgeprof quant name → GGUF tensor type of the linear layers
QUANT_TO_GGUF = {"fp32": "F32", "fp16": "F16", "bf16": "BF16", "int8": "Q8_0", "int4": "Q4_0"}
GGUF_TO_QUANT = {v: k for k, v in QUANT_TO_GGUF.items()}
# general.file_type (llama_ftype) of each type: ALL_F32, MOSTLY_F16, MOSTLY_Q4_0, Q8_0, BF16
_FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "BF16": 32}
_INIT_STD = 0.02


@dataclass(frozen=True)
class GgufInfo:
    """What :func:`ensure_gguf` wrote: the file, its types and whether it was cached."""

    path: Path
    gguf_type: str  # type of the linear layers, e.g. Q4_0
    dense_type: str  # type of the embedding and LM head, F16 or F32
    cached: bool


def _gguf() -> Any:
    try:
        import gguf
    except ImportError:
        raise MissingDependencyError("Writing GGUF files needs the gguf package; install it "
                                     "with: pip install -e '.[llamacpp]'.") from None
    return gguf


def gguf_type(quant: str) -> str:
    """The GGUF type for an edgeprof quant name or a GGUF type name (``int4`` → ``Q4_0``)."""
    upper = quant.strip().upper()
    if upper in GGUF_TO_QUANT:
        return upper
    try:
        name = get_quant(quant).name
    except UnknownQuantError:
        raise UnknownQuantError(f"Unknown quant {quant!r} for GGUF; use one of "
                                f"{', '.join(QUANT_TO_GGUF)} or {', '.join(GGUF_TO_QUANT)}.") \
            from None
    if name not in QUANT_TO_GGUF:
        raise UnsupportedError(f"{name} has no llama.cpp GGUF type here; use one of "
                               f"{', '.join(QUANT_TO_GGUF)}.")
    return QUANT_TO_GGUF[name]


def support_problem(arch: ArchSpec, quant: str) -> str:
    """Why ``arch`` cannot be written as a ``quant`` GGUF ('' when it can)."""
    if arch.family not in FAMILIES:
        return (f"the GGUF writer covers the {', '.join(FAMILIES)} families, not "
                f"{arch.family}")
    if arch.vocab < 259 + 1:
        return f"vocab {arch.vocab} is below the 260 pieces the generated tokenizer needs"
    qtype = gguf_type(quant)
    if qtype in ("Q8_0", "Q4_0"):
        widths = {arch.hidden, arch.heads * arch.head_dim, arch.ffn}
        if any(w % QK for w in widths):
            return (f"{qtype} blocks of {QK} need input widths {sorted(widths)} divisible by "
                    f"{QK}")
    return ""


def cache_root() -> Path:
    env = os.environ.get("EDGEPROF_CACHE_DIR")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "edgeprof"
    return root / "gguf"


def gguf_path(arch: ArchSpec, quant: str, seed: int = 0, root: Path | None = None) -> Path:
    """Where the file for ``arch`` in ``quant`` lives (content-addressed)."""
    qtype = gguf_type(quant)
    key = {"arch": arch.model_dump(mode="json", exclude={"name", "source", "published_params",
                                                         "scaled_from", "local_path"}),
           "type": qtype, "seed": seed, "writer": WRITER_VERSION}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in arch.name)
    return (root or cache_root()) / f"{safe}-{qtype}-{digest}.gguf"


def ensure_gguf(arch: ArchSpec, quant: str, seed: int = 0,
                root: Path | None = None) -> GgufInfo:
    """The GGUF file of ``arch`` in ``quant``, writing it first when it is not cached."""
    problem = support_problem(arch, quant)
    if problem:
        raise UnsupportedError(f"Cannot write {arch.name} as GGUF: {problem}.")
    qtype = gguf_type(quant)
    dense = "F32" if qtype == "F32" else "F16"
    path = gguf_path(arch, quant, seed, root)
    if path.is_file():
        return GgufInfo(path, qtype, dense, cached=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_gguf(arch, qtype, tmp, seed)
        os.replace(tmp, path)  # atomic: a concurrent writer leaves one whole file
    finally:
        tmp.unlink(missing_ok=True)
    return GgufInfo(path, qtype, dense, cached=False)


# ---------------------------------------------------------------------------- writer
def _pieces(n: int) -> Iterator[str]:
    """``n`` distinct generated vocabulary pieces (words with and without a ▁ prefix)."""
    alphabet = string.ascii_lowercase + string.digits
    count = 0
    for length in itertools.count(1):
        for chars in itertools.product(alphabet, repeat=length):
            word = "".join(chars)
            for piece in ("▁" + word, word):
                if count == n:
                    return
                yield piece
                count += 1


def _tokenizer(writer: Any, gguf: Any, vocab: int) -> None:
    types = gguf.TokenType
    tokens = ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256))]
    kinds = [types.UNKNOWN, types.CONTROL, types.CONTROL, *([types.BYTE] * 256)]
    rest = vocab - len(tokens)
    tokens += list(_pieces(rest))
    kinds += [types.NORMAL] * rest
    scores = [0.0] * 259 + [-float(i) for i in range(rest)]
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types([int(k) for k in kinds])
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(
        "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def _to_type(gguf: Any, data: np.ndarray, qtype: str) -> tuple[np.ndarray, Any]:
    if qtype == "F32":
        return data.astype(np.float32), None
    if qtype == "F16":
        return data.astype(np.float16), None
    kind = getattr(gguf.GGMLQuantizationType, qtype)
    return gguf.quants.quantize(data.astype(np.float32), kind), kind


def write_gguf(arch: ArchSpec, qtype: str, path: Path, seed: int = 0) -> None:
    """Write ``arch`` with random weights, linear layers in ``qtype``, to ``path``."""
    gguf = _gguf()
    name = FAMILIES[arch.family]
    rng = np.random.default_rng(seed)
    dense = "F32" if qtype == "F32" else "F16"
    writer = gguf.GGUFWriter(str(path), name)
    writer.add_name(f"{arch.name} (random weights, edgeprof)")
    writer.add_description(f"edgeprof random-weight GGUF of {arch.source}; latency subject "
                           "only, never an accuracy subject")
    writer.add_file_type(_FILE_TYPE[qtype])
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(arch.max_position)
    writer.add_embedding_length(arch.hidden)
    writer.add_block_count(arch.layers)
    writer.add_feed_forward_length(arch.ffn)
    writer.add_head_count(arch.heads)
    writer.add_head_count_kv(arch.kv_heads)
    writer.add_key_length(arch.head_dim)
    writer.add_value_length(arch.head_dim)
    writer.add_rope_dimension_count(arch.head_dim)
    writer.add_rope_freq_base(arch.rope_theta)
    writer.add_layer_norm_rms_eps(arch.rms_norm_eps)
    writer.add_vocab_size(arch.vocab)
    _tokenizer(writer, gguf, arch.vocab)

    def weight(shape: tuple[int, ...]) -> np.ndarray:
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(_INIT_STD)

    def add(tensor_name: str, data: np.ndarray, kind: str) -> None:
        arr, raw = _to_type(gguf, data, kind)
        writer.add_tensor(tensor_name, arr, raw_dtype=raw)

    ones = np.ones(arch.hidden, dtype=np.float32)
    q_out, kv_out = arch.heads * arch.head_dim, arch.kv_heads * arch.head_dim
    add("token_embd.weight", weight((arch.vocab, arch.hidden)), dense)
    for i in range(arch.layers):
        blk = f"blk.{i}."
        add(blk + "attn_norm.weight", ones, "F32")
        # numpy (out, in): GGUF stores dims reversed, so llama.cpp sees ne = [in, out]
        add(blk + "attn_q.weight", weight((q_out, arch.hidden)), qtype)
        add(blk + "attn_k.weight", weight((kv_out, arch.hidden)), qtype)
        add(blk + "attn_v.weight", weight((kv_out, arch.hidden)), qtype)
        if arch.qkv_bias:
            add(blk + "attn_q.bias", weight((q_out,)), "F32")
            add(blk + "attn_k.bias", weight((kv_out,)), "F32")
            add(blk + "attn_v.bias", weight((kv_out,)), "F32")
        if arch.qk_norm:
            add(blk + "attn_q_norm.weight", np.ones(arch.head_dim, np.float32), "F32")
            add(blk + "attn_k_norm.weight", np.ones(arch.head_dim, np.float32), "F32")
        add(blk + "attn_output.weight", weight((arch.hidden, q_out)), qtype)
        add(blk + "ffn_norm.weight", ones, "F32")
        add(blk + "ffn_gate.weight", weight((arch.ffn, arch.hidden)), qtype)
        add(blk + "ffn_up.weight", weight((arch.ffn, arch.hidden)), qtype)
        add(blk + "ffn_down.weight", weight((arch.hidden, arch.ffn)), qtype)
    add("output_norm.weight", ones, "F32")
    if not arch.tied_embeddings:
        add("output.weight", weight((arch.vocab, arch.hidden)), dense)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def tensor_types(path: Path) -> dict[str, str]:
    """Tensor name → GGUF type name, read back from the file with ``gguf.GGUFReader``."""
    gguf = _gguf()
    reader = gguf.GGUFReader(str(path))
    return {t.name: gguf.GGMLQuantizationType(t.tensor_type).name for t in reader.tensors}
