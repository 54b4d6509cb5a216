"""The winner's rows, as the CLI table and the HTML report both show them.

One list of rows — label, then either an estimate with its unit and digits or a line of
text — so the two outputs cannot drift apart; each renders an estimate its own way (the CLI
as ``value [lo, hi] (provenance)``, the report with a provenance badge).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.estimates import Estimate
from edgeprof.search._result import ConfigOut, RecProblem

SYNTHETIC_TEXT = "a -scaled- toy or synthetic accuracy data: not a real model's answer quality"
GIB = 1 / 2**30


@dataclass(frozen=True)
class Row:
    """One labelled line of the winner's table."""

    label: str
    estimate: Estimate | None = None
    unit: str = ""
    scale: float = 1.0
    digits: int = 2
    text: str | None = None

    @property
    def is_text(self) -> bool:
        return self.text is not None

    def numbers(self) -> str:
        """``value unit [lo, hi]`` (no provenance); ``n/a`` without an estimate."""
        e = self.estimate
        if e is None:
            return "n/a"
        v, lo, hi = (x * self.scale for x in (e.value, e.lo, e.hi))
        d = self.digits
        return f"{v:.{d}f}{self.unit} [{lo:.{d}f}, {hi:.{d}f}]"


def describe_config(c: ConfigOut) -> str:
    """``model quant, budget B tokens, N samples (majority vote), power mode M``."""
    mode = f", power mode {c.power_mode}" if c.power_mode else ""
    return (f"{c.model} {c.quant}, budget {c.budget} tokens, {c.samples} sample"
            f"{'s' if c.samples != 1 else ''} (majority vote){mode}")


def checked_text(c: ConfigOut, problem: RecProblem) -> str | None:
    """What the constraints were checked at (the bound or the point); None when unknown."""
    if not c.checked:
        return None
    conf = float(c.checked.get("confidence", 0.0))
    if conf <= 0.5:
        return "the point predictions (--confidence 0)"
    text = (f"latency {problem.pct_label} {c.checked['latency_s']:.2f} s vs SLO "
            f"{problem.slo_s:g} s")
    if "memory_bytes" in c.checked:
        text += (f"; peak memory {c.checked['memory_bytes'] * GIB:.2f} GiB vs limit "
                 f"{problem.memory_limit_bytes * GIB:.2f} GiB")
    return text + f" (--confidence {conf:g})"


def winner_rows(c: ConfigOut, problem: RecProblem) -> list[Row]:
    """The rows shown for a winner (or for the fastest configuration when none is
    feasible): configuration, accuracy, latency at the SLO's percentile and what it was
    checked at, mean latency, TTFT, energy, peak memory and output lengths."""
    pct = problem.pct_label
    rows = [Row("configuration", text=describe_config(c))]
    if c.synthetic:
        rows.append(Row("SYNTHETIC", text=SYNTHETIC_TEXT))
    rows.append(Row("accuracy", c.accuracy, digits=3))
    rows.append(Row(f"latency {pct} (the SLO's percentile)", c.latency_pct, " s"))
    checked = checked_text(c, problem)
    if checked is not None:
        conf = float(c.checked.get("confidence", 0.0))
        rows.append(Row(f"checked at {conf:.0%} bound" if conf > 0.5 else "checked at",
                        text=checked))
    rows += [Row("latency mean", c.latency_mean, " s"),
             Row("time to first token", c.ttft, " s", digits=3),
             Row("energy / request", c.energy_j, " J", digits=1),
             Row("peak memory", c.memory_bytes, " GiB", GIB),
             Row("output tokens", text=f"{c.output_tokens_pct:.0f} at {pct}, "
                                       f"{c.output_tokens_mean:.0f} mean (longest of N)")]
    return rows
