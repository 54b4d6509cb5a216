"""The power trace: the sampler's power readings per measured point, kept beside the table.

``power_trace.jsonl`` holds one line per measured point (and one for the idle baseline):

```json
{"session": "2026-…", "point": {"model": …, "quant": …, "input_tokens": …, "output_tokens": …,
 "batch": …, "repeat": …, "power_mode": …}, "edges_s": [start, first_token, end],
 "t_s": [...], "power_w": [...], "phase": ["prefill", "decode", ...]}
```

Times are seconds since ``session`` (the sweep run that wrote the line; a resumed sweep is a
new session). ``phase`` is ``idle``, ``prefill`` (start → first token), ``decode`` (first →
last token) or ``between`` (the one sample kept on each side of a run, for interpolation).
Each line is appended and flushed on its own, so a killed sweep keeps every finished point;
a torn last line is skipped by :func:`read_power_trace`. Only written when the sampler has a
power source and keeps its samples (:class:`~edgeprof.telemetry._sampler.Sampler`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

TRACE_FILE = "power_trace.jsonl"


@dataclass(frozen=True)
class TraceLine:
    """One point's (or the idle baseline's) power samples."""

    session: str
    point: dict[str, Any] | None  # None for the idle baseline
    edges_s: list[float]
    t_s: list[float]
    power_w: list[float]
    phase: list[str]

    def session_start(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.session)
        except ValueError:
            return None


class PowerTraceWriter:
    """Appends the power samples of each window to ``folder/power_trace.jsonl``.

    ``samples`` is the sampler's ``samples()`` method (objects with ``t_ns`` and
    ``reading.total_w``); ``session`` names this run (its ISO start time).
    """

    def __init__(self, folder: Path | str, samples: Callable[[], Sequence[Any]],
                 session: str) -> None:
        self.path = Path(folder) / TRACE_FILE
        self._samples = samples
        self.session = session
        self._t_ref_ns = time.perf_counter_ns()
        self._seen = 0  # samples before this index are older than every later window

    def _s(self, t_ns: int) -> float:
        return round((t_ns - self._t_ref_ns) / 1e9, 6)

    def idle(self, t0_ns: int, t1_ns: int) -> None:
        """The idle baseline window, every sample labeled ``idle``."""
        self._write(None, [t0_ns, t1_ns], lambda t: "idle" if t0_ns <= t <= t1_ns else "between")

    def point(self, point: dict[str, Any], t0_ns: int, t1_ns: int, t2_ns: int) -> None:
        """One run: start, first token and end stamps (``perf_counter_ns``)."""

        def phase(t: int) -> str:
            if t0_ns <= t <= t1_ns:
                return "prefill"
            return "decode" if t1_ns < t <= t2_ns else "between"

        self._write(point, [t0_ns, t1_ns, t2_ns], phase)

    def _write(self, point: dict[str, Any] | None, edges: list[int],
               phase: Callable[[int], str]) -> None:
        start = max(self._seen - 1, 0)  # keep the sample before the window as its neighbour
        fresh = list(self._samples())[start:]
        t0, t1 = edges[0], edges[-1]
        inside = [i for i, s in enumerate(fresh) if t0 <= s.t_ns <= t1]
        if inside:
            lo, hi = inside[0], inside[-1] + 1
        else:
            lo = hi = next((i for i, s in enumerate(fresh) if s.t_ns > t1), len(fresh))
        keep = [s for s in fresh[max(lo - 1, 0): hi + 1] if s.reading.total_w is not None]
        self._seen = start + hi
        line = {"session": self.session, "point": point, "edges_s": [self._s(t) for t in edges],
                "t_s": [self._s(s.t_ns) for s in keep],
                "power_w": [round(float(s.reading.total_w), 4) for s in keep],
                "phase": [phase(s.t_ns) for s in keep]}
        with self.path.open("a") as fh:
            fh.write(json.dumps(line, separators=(",", ":")) + "\n")
            fh.flush()


def trace_writer(folder: Path | str, sampler: Any, session: str) -> PowerTraceWriter | None:
    """A writer when ``sampler`` measures power and exposes its samples, else ``None``."""
    samples = getattr(sampler, "samples", None)
    if not getattr(sampler, "available", False) or not callable(samples):
        return None
    return PowerTraceWriter(folder, samples, session)


def read_power_trace(folder_or_file: Path | str) -> list[TraceLine]:
    """The trace lines of a sweep folder (empty when it has none); for a point measured more
    than once (a resumed sweep), the last line wins."""
    path = Path(folder_or_file)
    if path.is_dir():
        path = path / TRACE_FILE
    if not path.exists():
        return []
    lines: dict[Any, TraceLine] = {}
    for k, text in enumerate(path.read_text().splitlines()):
        try:
            raw = json.loads(text)
            line = TraceLine(str(raw["session"]), raw.get("point"),
                             [float(x) for x in raw["edges_s"]],
                             [float(x) for x in raw["t_s"]],
                             [float(x) for x in raw["power_w"]], [str(x) for x in raw["phase"]])
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a killed sweep, or not ours
        key = (json.dumps(line.point, sort_keys=True) if line.point is not None
               else ("idle", k))
        lines.pop(key, None)
        lines[key] = line
    return list(lines.values())
