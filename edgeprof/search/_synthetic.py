"""Synthetic latency and accuracy models with known truth, labeled ``synthetic``.

They satisfy :class:`~edgeprof.search._protocols.LatencyModel` and
:class:`~edgeprof.search._protocols.AccuracyModel` so the search can be tested and benchmarked
without a fitted profile. The latency model is a plain roofline: prefill is compute-bound,
decode streams the weights once per step plus each sequence's KV cache.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from edgeprof.device._spec import DeviceSpec
from edgeprof.estimates import Estimate, Provenance

_SYN = Provenance.SYNTHETIC
_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5625}
_RECOVERY = {"fp32": 1.0, "fp16": 1.0, "bf16": 1.0, "fp8": 0.995, "int8": 0.99, "int4": 0.97}


def synthetic_device(memory_gib: float = 16.0, bandwidth_gbs: float = 100.0,
                     tflops: float = 20.0, modes: tuple[tuple[str, float], ...] = ()
                     ) -> DeviceSpec:
    """A made-up device; ``modes`` are (name, speed factor) power modes."""
    return DeviceSpec(
        name="synthetic", display_name="Synthetic device", kind="gpu",
        memory_bytes=int(memory_gib * 2**30), memory_bandwidth_gbs=bandwidth_gbs,
        peak_tflops={"fp16": tflops, "bf16": tflops, "int8": 2 * tflops, "fp8": 2 * tflops,
                     "fp32": tflops / 8},
        native_quants=list(_BYTES), label="spec",
        power_modes=[{"name": n, "gpu_tflops_scale": s} for n, s in modes],
        tdp_w=30.0, idle_power_w=5.0)


@dataclass
class SyntheticProfile:
    """Roofline latency, memory and energy for models given by size (billions of params)."""

    params_b: dict[str, float]
    device: DeviceSpec = field(default_factory=synthetic_device)
    power_w: float = 20.0
    rel_interval: float = 0.1

    def _speed(self, power_mode: str | None) -> float:
        mode = self.device.power_mode(power_mode)
        return 1.0 if mode is None or mode.gpu_tflops_scale is None else mode.gpu_tflops_scale

    def power_modes(self) -> list[str | None]:
        return [m.name for m in self.device.power_modes] or [None]

    def fitted_pairs(self) -> list[tuple[str, str]]:
        return []

    def hash(self) -> str:
        blob = json.dumps([self.params_b, self.device.model_dump(mode="json"), self.power_w],
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def predict_grid(self, model: str, quant: str, input_tokens: int,
                     output_tokens: np.ndarray, batch: np.ndarray,
                     power_mode: str | None = None) -> dict[str, np.ndarray]:
        out = np.asarray(output_tokens, dtype=float)
        n = np.asarray(batch, dtype=float)
        p = self.params_b[model] * 1e9
        speed = self._speed(power_mode)
        weights = p * _BYTES[quant]
        kv_per_token = 2 * 1024 * 2 * 24 * math.sqrt(self.params_b[model])  # grows with size
        bw = self.device.memory_bandwidth_gbs * 1e9 * 0.7 * min(1.0, 0.5 + speed / 2)
        flops = self.device.peak_tflops["fp16"] * 1e12 * 0.5 * speed
        ttft = 2 * p * input_tokens * n / flops + 0.02
        ctx = input_tokens + out / 2
        tpot = (weights + kv_per_token * ctx * n) / bw + 2 * p * n / flops
        decode = out * tpot
        e2e = ttft + decode
        mem = weights + kv_per_token * n * (input_tokens + out) + 0.3 * 2**30
        energy = e2e * self.power_w * (0.4 + 0.6 * speed)
        return {"ttft_s": ttft, "decode_s": decode, "e2e_s": e2e,
                "e2e_lo": e2e * (1 - self.rel_interval), "e2e_hi": e2e * (1 + self.rel_interval),
                "peak_mem_bytes": mem, "mem_lo": mem * (1 - self.rel_interval),
                "mem_hi": mem * (1 + self.rel_interval), "energy_j": energy}

    def predict(self, model: str, quant: str, input_tokens: int, output_tokens: int,
                batch: int = 1, power_mode: str | None = None) -> SimpleNamespace:
        g = self.predict_grid(model, quant, input_tokens, np.array([output_tokens]),
                              np.array([batch]), power_mode)
        r = self.rel_interval

        def est(key: str) -> Estimate:
            v = float(g[key][0])
            return Estimate(value=v, lo=v * (1 - r), hi=v * (1 + r), provenance=_SYN)

        energy = est("energy_j")
        return SimpleNamespace(ttft_s=est("ttft_s"), decode_s=est("decode_s"),
                               e2e_s=est("e2e_s"), peak_mem_bytes=est("peak_mem_bytes"),
                               energy_j=energy,
                               avg_power_w=Estimate.exact(energy.value / est("e2e_s").value,
                                                          _SYN))


@dataclass
class SyntheticAccuracy:
    """Majority-vote accuracy that saturates with budget; output lengths are exponential.

    ``skill`` is each model's accuracy with unlimited budget and one sample; ``scale`` its
    mean output length in tokens.
    """

    skill: dict[str, float]
    scale: dict[str, float]
    quants: tuple[str, ...] = ("bf16", "int8", "int4")
    samples_max: int = 16
    input_tokens: int | None = 256
    source: str = "synthetic accuracy (edgeprof.search._synthetic)"

    def pairs(self) -> list[tuple[str, str]]:
        return [(m, q) for m in self.skill for q in self.quants]

    def budgets(self, model: str, quant: str) -> list[int] | None:
        return None

    def max_samples(self, model: str, quant: str) -> int:
        return self.samples_max

    def accuracy(self, model: str, quant: str, budget: int, samples: int,
                 semantics: str = "truncate-wrong") -> Estimate:
        finish = 1.0 - math.exp(-budget / self.scale[model])
        p = self.skill[model] * _RECOVERY[quant] * finish
        # majority vote over `samples` i.i.d. votes with one competing wrong answer at (1-p)/2
        k = np.arange(samples + 1)
        log_c = np.array([math.lgamma(samples + 1) - math.lgamma(i + 1)
                          - math.lgamma(samples - i + 1) for i in k])
        pmf = np.exp(log_c + k * math.log(max(p, 1e-12))
                     + (samples - k) * math.log(max(1 - p, 1e-12)))
        win = float(pmf[k * 2 > samples].sum() + 0.5 * pmf[k * 2 == samples].sum())
        value = max(p, win) if samples > 1 else p
        half = 0.05 / math.sqrt(samples)
        return Estimate(value=value, lo=max(0.0, value - half), hi=min(1.0, value + half),
                        provenance=_SYN)

    def length_quantile(self, model: str, quant: str, budget: int, samples: int,
                        q: float) -> float:
        # longest of n exponentials: F(x)^n = q  ->  x = -scale * ln(1 - q^(1/n))
        x = -self.scale[model] * math.log(max(1e-300, 1 - q ** (1.0 / samples)))
        return float(min(math.ceil(x), budget))

    def default_input_tokens(self, model: str | None = None) -> int | None:
        return self.input_tokens
