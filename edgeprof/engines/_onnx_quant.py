"""Exported ONNX models per quant format, cached on disk so a sweep exports each once.

Layout: ``<cache>/onnx/<arch-hash>/<variant>/model.onnx`` (+ ``model.onnx.data`` and
``meta.json``), where ``<cache>`` is ``$EDGEPROF_CACHE_DIR`` or ``~/.cache/edgeprof`` and the
arch hash covers the architecture, the builder version and the weight seed. Variants:

- ``fp32`` / ``fp16``: the graph of :mod:`onnx_build` in that dtype.
- ``int8``: ``onnxruntime.quantization.quantize_dynamic`` of the fp32 graph's decoder
  MatMuls — per-channel signed INT8 weights, activations quantized at run time
  (``DynamicQuantizeLinear`` + ``MatMulInteger``, fused by ORT into ``DynamicQuantizeMatMul``).
- ``int4-b<block>[-acc<level>]-<dtype>``: ``MatMulNBitsQuantizer`` (block-wise asymmetric 4-bit
  weights with a scale in the activation dtype and a 4-bit zero point per block) of the
  decoder MatMuls; ``accuracy_level`` 4 makes the CPU kernel compute in INT8.

Embeddings, the LM head (a ``Gemm``) and norms stay dense, as :mod:`edgeprof.catalog._quant`
assumes. A variant is built in a temporary folder and renamed into place, so a killed export
never leaves a half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import onnx

from edgeprof.catalog._architectures import ArchSpec
from edgeprof.engines._onnx_build import (
    BUILDER_VERSION,
    LM_HEAD_NODE,
    build_onnx,
    linear_weight_names,
)

_ELEM_BYTES = {
    onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.BFLOAT16: 2,
    onnx.TensorProto.INT8: 1, onnx.TensorProto.UINT8: 1, onnx.TensorProto.INT32: 4,
    onnx.TensorProto.INT64: 8, onnx.TensorProto.DOUBLE: 8,
}
_NOT_WEIGHTS = ("rope.", "last_index")
_HIDDEN_GEMM = "EdgeprofDenseLmHead"


@dataclass(frozen=True)
class Variant:
    """One exported model: quant format, graph dtype and quantizer settings."""

    quant: str
    dtype: str = "float32"  # activation / dense dtype of the graph
    block_size: int = 128  # int4 only
    accuracy_level: int | None = None  # int4 only

    @property
    def dirname(self) -> str:
        short = {"float32": "fp32", "float16": "fp16"}[self.dtype]
        if self.quant == "int4":
            acc = f"-acc{self.accuracy_level}" if self.accuracy_level is not None else ""
            return f"int4-b{self.block_size}{acc}-{short}"
        if self.quant == "int8":
            return "int8"
        return short

    @property
    def base(self) -> Variant:
        """The dense variant this one is quantized from."""
        return Variant(quant={"float32": "fp32", "float16": "fp16"}[self.dtype], dtype=self.dtype)


def cache_root() -> Path:
    env = os.environ.get("EDGEPROF_CACHE_DIR")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "edgeprof"
    return root / "onnx"


def arch_hash(arch: ArchSpec, seed: int) -> str:
    key = {"config": arch.hf_config(), "qkv_bias": arch.qkv_bias, "family": arch.family,
           "builder": BUILDER_VERSION, "seed": seed}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def model_path(arch: ArchSpec, variant: Variant, seed: int = 0,
               root: Path | None = None) -> Path:
    return (root or cache_root()) / arch_hash(arch, seed) / variant.dirname / "model.onnx"


def ensure_model(arch: ArchSpec, variant: Variant, seed: int = 0, root: Path | None = None,
                 isolate: bool = False) -> tuple[Path, bool]:
    """The path of ``variant``'s model, exporting it first if absent; (path, was_cached).

    ``isolate`` exports in a spawned child process, so the caller's resident memory (and
    the peak memory it later measures) carries none of the exporter's garbage.
    """
    path = model_path(arch, variant, seed, root)
    if path.is_file() and (path.parent / "meta.json").is_file():
        return path, True
    if isolate:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            pool.submit(ensure_model, arch, variant, seed, root).result()
        return path, False
    folder = path.parent
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    t0 = time.perf_counter()
    try:
        if variant.quant in ("fp32", "fp16"):
            build_onnx(arch, tmp, dtype=variant.dtype, seed=seed)
        else:
            base, _ = ensure_model(arch, variant.base, seed, root)
            tmp.mkdir(parents=True)
            if variant.quant == "int8":
                _quantize_int8(base, tmp / "model.onnx")
            elif variant.quant == "int4":
                _quantize_int4(base, tmp / "model.onnx", variant)
            else:
                raise ValueError(f"no ONNX export for {variant.quant}")
        meta = {"arch": arch.model_dump(), "variant": variant.__dict__,
                "builder_version": BUILDER_VERSION, "seed": seed,
                "onnxruntime": _ort_version(), "onnx": onnx.__version__,
                "export_s": round(time.perf_counter() - t0, 3)}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists() and not (folder / "meta.json").is_file():
            shutil.rmtree(folder, ignore_errors=True)  # left over from an older layout
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished first: keep its copy
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path, False


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def _quantize_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(src))
    # quantize_dynamic rewrites every Gemm into a MatMul on a transposed copy of its weight
    # (for a tied LM head: a second embedding table) before it looks at nodes_to_exclude;
    # hide the LM head under another op type while it runs, so it stays one dense Gemm.
    head = next(n for n in model.graph.node if n.name == LM_HEAD_NODE)
    head.op_type = _HIDDEN_GEMM
    # Our graph is built already optimized; silence the root-logger advice to pre-process it.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            model, str(dst), op_types_to_quantize=["MatMul"], per_channel=True,
            weight_type=QuantType.QInt8, use_external_data_format=True,
            # the contrib ops (GQA, SimplifiedLayerNormalization) stop ONNX shape inference;
            # every float tensor in the graph is float32
            extra_options={"MatMulConstBOnly": True,
                           "DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
    out = onnx.load(str(dst), load_external_data=False)
    for node in out.graph.node:
        if node.op_type == _HIDDEN_GEMM:
            node.op_type = "Gemm"
    onnx.save_model(out, str(dst))


def _quantize_int4(src: Path, dst: Path, variant: Variant) -> None:
    from onnxruntime.quantization import matmul_nbits_quantizer
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    matmul_nbits_quantizer.logger.setLevel(logging.WARNING)  # one INFO line per node else
    model = onnx.load(str(src))
    quantizer = MatMulNBitsQuantizer(model, bits=4, block_size=variant.block_size,
                                     is_symmetric=False, accuracy_level=variant.accuracy_level,
                                     op_types_to_quantize=("MatMul",))
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=True)


def initializer_bytes(path: Path) -> dict[str, int]:
    """Bytes of every weight initializer of a saved model, from its stored sizes."""
    model = onnx.load(str(path), load_external_data=False)
    out: dict[str, int] = {}
    for t in model.graph.initializer:
        if t.name.startswith(_NOT_WEIGHTS):
            continue
        ext = {e.key: e.value for e in t.external_data}
        if "length" in ext:
            n = int(ext["length"])
        elif t.raw_data:
            n = len(t.raw_data)
        else:
            count = 1
            for d in t.dims:
                count *= d
            n = count * _ELEM_BYTES.get(t.data_type, 4)
        out[t.name] = n
    return out


def weight_breakdown(arch: ArchSpec, sizes: dict[str, int]) -> dict[str, int]:
    """Split initializer bytes into decoder projections (``linear``) and the rest."""
    prefixes = tuple(n.removesuffix("weight") for n in linear_weight_names(arch))
    linear = sum(v for k, v in sizes.items() if k.startswith(prefixes))
    total = sum(sizes.values())
    return {"linear": linear, "other": total - linear, "total": total}
