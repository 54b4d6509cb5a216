"""An 8-bit KV cache (``--kv-cache-dtype``): which engine keeps one where, and what it costs.

``auto`` is what the engine does by default (16-bit, or FP8 where the engine's FP8 recipe
keeps an FP8 cache: :func:`edgeprof.fit._roofline.kv_cache_bytes`). The 8-bit forms:

* ``fp8`` (E4M3, 1 byte per element) for vLLM and TensorRT-LLM / TensorRT Edge-LLM;
* ``q8_0`` for llama.cpp: blocks of 32 int8 values and one fp16 scale, 34 bytes per 32
  elements (``ggml/src/ggml-common.h``, ``block_q8_0``); ``-ctk q8_0 -ctv q8_0``, and a
  quantized V cache needs flash attention, which ``-fa auto`` turns on
  (``src/llama-context.cpp``, ggml-org/llama.cpp@0c1e57098).

Where each is kept (a request elsewhere is a one-line error that says why):

* vLLM keeps an FP8 cache on its V1 engine only through FlashAttention 3, on compute
  capability 9.x (``flash_attn_supports_fp8``: FA version 3 and capability major 9; the
  ``--kv-cache-dtype`` gate of ``_is_v1_supported_oracle``, vLLM 0.8–0.10). Elsewhere it
  falls back to the V0 engine and XFormers: on an L40S with vLLM 0.10.2 that halved output
  throughput (10,562 → 5,092 tok/s) and took Qwen2.5-1.5B's GSM8K from 61 % to 2 % ("Why FP8
  KV cache silently breaks vLLM on L40S: a backend-fallback story", 2026). vLLM 0.11's Triton
  path cannot cast ``fp8e4nv`` below sm_89 (vllm-project/vllm#26431).
* TensorRT-LLM lists the FP8 KV cache on Ampere, Ada, Hopper and Blackwell
  (``docs/source/features/quantization.md``, hardware support matrix). On a Jetson that
  engine is TensorRT Edge-LLM: FP8 KV cache since 0.5.0 (``CHANGELOG.md``,
  ``developer_guide/features/FP8KV.md``: a calibrated ``--kv_cache_quantization fp8``
  checkpoint), with E4M3-KV attention kernels for sm_89 and newer (Thor runs sm_101's);
  its support matrix says Jetson Orin runs FP16, INT8 and INT4 only.
* llama.cpp keeps ``q8_0`` on every backend it runs on.

What changes in a prediction: KV memory at the stored size. The KV reads of a decode step
at the stored size for TensorRT-LLM (its attention kernels read the FP8 cache) and llama.cpp
(its flash-attention kernels read ``q8_0`` blocks); for vLLM they stay at 2 bytes, since its
docs say the FP8 cache brings "no latency improvements as the implementation does not yet
include fused dequantization and attention operations" (docs.vllm.ai v0.11.2,
features/quantization/quantized_kvcache). No measurement of an 8-bit cache backs any of
this, so an estimate it changes is spec-derived. Answer quality with an 8-bit cache is not
modelled: the accuracy figures are for 16-bit caches.
"""

from __future__ import annotations

from edgeprof.device import DeviceSpec
from edgeprof.errors import UserInputError

KV_CACHE_DTYPES: tuple[str, ...] = ("auto", "fp8", "q8_0")
#: Stored bytes per KV element of each 8-bit form.
STORED_BYTES: dict[str, float] = {"fp8": 1.0, "q8_0": 34 / 32}
#: The 8-bit form each engine has.
ENGINE_FORM: dict[str, str] = {"vllm": "fp8", "trtllm": "fp8", "llama.cpp": "q8_0"}
#: Engines whose decode kernels read the stored 8-bit cache (fewer bytes per step).
READS_STORED: frozenset[str] = frozenset({"trtllm", "llama.cpp"})


def _capability(device: DeviceSpec) -> tuple[int, int] | None:
    cc = device.compute_capability
    if not cc:
        return None
    major, _, minor = cc.partition(".")
    return int(major), int(minor or 0)


def why_not(dtype: str, engine: str | None, device: DeviceSpec) -> str | None:
    """Why ``engine`` keeps no ``dtype`` KV cache on ``device``; None when it does."""
    if dtype == "auto":
        return None
    if dtype not in KV_CACHE_DTYPES:
        return f"unknown KV-cache dtype {dtype!r}; choose one of {', '.join(KV_CACHE_DTYPES)}"
    form = ENGINE_FORM.get(engine or "")
    if form is None:
        return (f"edgeprof knows no 8-bit KV cache for engine {engine or '(none)'}; "
                f"{', '.join(f'{e}: {f}' for e, f in ENGINE_FORM.items())}")
    if form != dtype:
        return f"{engine}'s 8-bit KV cache is {form}, not {dtype} (--kv-cache-dtype {form})"
    cc = _capability(device)
    what = f"compute capability {device.compute_capability}" if cc else "not a CUDA GPU"
    if engine == "vllm" and (cc is None or cc[0] != 9):
        return (f"vLLM keeps an FP8 KV cache on its V1 engine only through FlashAttention 3 "
                f"on compute capability 9.x; {device.name} is {what}, "
                "where vLLM falls back to V0 and XFormers (on an L40S: half the throughput, "
                "GSM8K 61 % → 2 %) or, from 0.11, to a Triton path that cannot cast fp8e4nv "
                "below sm_89 (vllm-project/vllm#26431)")
    if engine == "trtllm" and (cc is None or cc < (8, 0)):
        return f"TensorRT-LLM's FP8 KV cache needs an Ampere or newer GPU; {device.name} is not one"
    if engine == "trtllm" and device.kind == "jetson" and cc < (8, 9):
        return (f"TensorRT Edge-LLM on {device.name} (compute capability "
                f"{device.compute_capability}) runs FP16, INT8 and INT4 only and ships no "
                "E4M3-KV attention kernels below sm_89 (Jetson Thor has them)")
    return None


def check(dtype: str, engine: str | None, device: DeviceSpec) -> None:
    """One-line :class:`UserInputError` when ``engine`` keeps no ``dtype`` cache here."""
    reason = why_not(dtype, engine, device)
    if reason is not None:
        raise UserInputError(f"--kv-cache-dtype {dtype}: {reason}.")


def held(dtype: str) -> str:
    """``KV cache in q8_0 (1.0625 bytes per element)``: how every output names the cache."""
    size = STORED_BYTES[dtype]
    return f"KV cache in {dtype} ({size:g} {'byte' if size == 1 else 'bytes'} per element)"


def note(dtype: str, engine: str) -> str:
    """What a prediction with ``dtype`` assumed."""
    reads = ("KV reads and memory" if engine in READS_STORED else
             "KV memory (vLLM's decode reads stay at 2 bytes: no fused dequantization)")
    return (f"{held(dtype)}: {reads} at that size; not measured with an 8-bit cache, and "
            "answer quality with it is not modelled")
