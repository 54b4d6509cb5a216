"""Per-point summaries of a sweep folder: medians over repeats, statuses (computed from the
stored rows, never kept as the only copy)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

from edgeprof.sweep._grid import Point
from edgeprof.table import Measurement


def _median(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def summarize(rows: list[Measurement], points: list[Point], device: str,
              engine: str) -> list[dict[str, Any]]:
    """One entry per shape of ``points`` (model, quant, mode, batch, input, output)."""
    wanted = {p.key(device, engine) for p in points}
    by_shape: dict[tuple, list[Measurement]] = defaultdict(list)
    for r in rows:
        if r.key in wanted:
            by_shape[(r.model, r.quant, r.power_mode, r.batch, r.input_tokens,
                      r.output_tokens)].append(r)
    out = []
    seen: set[tuple] = set()
    for p in points:
        shape = (p.model, p.quant, p.power_mode, p.batch, p.input_tokens, p.output_tokens)
        if shape in seen:
            continue
        seen.add(shape)
        got = by_shape.get(shape, [])
        ok = [r for r in got if r.ok]
        statuses: dict[str, int] = defaultdict(int)
        for r in got:
            statuses[str(r.status)] += 1
        errors = sorted({r.error for r in got if r.error})
        out.append({
            "model": p.model, "quant": p.quant, "power_mode": p.power_mode, "batch": p.batch,
            "input_tokens": p.input_tokens, "output_tokens": p.output_tokens,
            "repeats": len(got), "ok": len(ok), "statuses": dict(statuses),
            "quant_impl": next((str(r.quant_impl) for r in got if r.quant_impl), None),
            "ttft_s": _median([r.ttft_s for r in ok]), "tbt_s": _median([r.tbt_s for r in ok]),
            "e2e_s": _median([r.e2e_s for r in ok]),
            "energy_j": _median([r.energy_j for r in ok]),
            "peak_mem_bytes": _median([r.peak_mem_bytes for r in ok]),
            "error": errors[0] if errors else None,
        })
    return out
