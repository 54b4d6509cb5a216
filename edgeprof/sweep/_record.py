"""Turning one engine run (or one failure) into a measurements row.

Power columns come from the sampler's windows over the run's own ``perf_counter_ns`` stamps:
prefill = start..first token, decode = first..last token, whole = start..last token. A
quantity the sampler cannot measure stays ``None`` (never 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edgeprof.engines._base import RunResult, Support
from edgeprof.sweep._grid import Point
from edgeprof.table import Measurement, QuantImpl, Status
from edgeprof.telemetry import PowerSampler


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class RowContext:
    """What every row of one sweep shares."""

    device: str
    engine: str
    power_source: str
    idle_power_w: float | None


def _base(point: Point, ctx: RowContext) -> dict[str, Any]:
    return {
        "device": ctx.device, "engine": ctx.engine, "model": point.model, "quant": point.quant,
        "input_tokens": point.input_tokens, "output_tokens": point.output_tokens,
        "batch": point.batch, "repeat": point.repeat, "power_mode": point.power_mode,
        "power_source": ctx.power_source, "idle_power_w": ctx.idle_power_w,
        "source": "measured",
    }


def ok_row(point: Point, ctx: RowContext, result: RunResult, support: Support,
           weight_bytes: int | None, sampler: PowerSampler, started_at: str) -> Measurement:
    """A measured row: timings from the engine, power from the sampler's windows."""
    t0, t1, t2 = result.t_start_ns, result.t_first_ns, result.t_end_ns
    whole = sampler.window(t0, t2)  # waits for a sample past the end; later windows need not
    prefill = sampler.window(t0, t1)
    decode = sampler.window(t1, t2) if t2 > t1 else None
    flags = set(whole.flags) | set(prefill.flags) | set(decode.flags if decode else [])
    flags |= set(sampler.throttle_flags(t0, t2))
    if support.impl == QuantImpl.EMULATED:
        flags.add("emulated")
    peak = result.peak_mem_bytes
    extra: dict[str, Any] = {}
    flags |= set(result.extra.get("flags") or [])  # the engine's own (e.g. openai's)
    if peak is None and whole.peak_rss_bytes is not None and not result.extra.get("remote"):
        peak = whole.peak_rss_bytes
        flags.add("peak-mem:sampler-rss")
    if result.extra:
        extra["engine_extra"] = result.extra
    return Measurement(
        **_base(point, ctx),
        ttft_s=result.ttft_s, decode_s=result.decode_s, tbt_s=result.tbt_s,
        e2e_s=result.e2e_s, peak_mem_bytes=peak,
        avg_power_w=whole.avg_power_w, energy_j=whole.energy_j,
        prefill_power_w=prefill.avg_power_w, prefill_energy_j=prefill.energy_j,
        decode_power_w=decode.avg_power_w if decode else None,
        decode_energy_j=decode.energy_j if decode else None,
        status=Status.OK, quant_impl=support.impl, token_times_s=list(result.token_times_s),
        weight_bytes=weight_bytes, flags=sorted(flags), timestamp=now_iso(),
        started_at=started_at, conditions=sampler.conditions(), **extra,
    )


def failed_row(point: Point, ctx: RowContext, status: Status, error: str,
               impl: QuantImpl = QuantImpl.NONE, weight_bytes: int | None = None,
               ) -> Measurement:
    """A point that did not produce timings: unsupported, oom or error, with one line why."""
    flags = ["emulated"] if impl == QuantImpl.EMULATED else []
    return Measurement(**_base(point, ctx), status=status, error=one_line(error),
                       quant_impl=impl, weight_bytes=weight_bytes, flags=flags,
                       timestamp=now_iso())


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
