"""Grid expansion in the order that loads each model × quant once (llama-bench's rule).

Loop order, outermost first: model → quant → power mode → batch → input → output → repeat.
A *group* is the points of one loaded model × quant (× power mode): the runner loads,
warms up, measures the group, and unloads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from edgeprof.sweep._spec import SweepSpec


@dataclass(frozen=True)
class Point:
    """One measurement to take: a shape and a repeat index."""

    model: str
    quant: str
    power_mode: str | None
    batch: int
    input_tokens: int
    output_tokens: int
    repeat: int

    def key(self, device: str, engine: str) -> tuple:
        """Same tuple as :func:`edgeprof.table.point_key` for the row this point makes."""
        return (device, engine, self.model, self.quant, self.input_tokens, self.output_tokens,
                self.batch, self.repeat, self.power_mode or "")

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.input_tokens, self.output_tokens, self.batch

    def label(self) -> str:
        mode = f" @{self.power_mode}" if self.power_mode else ""
        return (f"{self.model} {self.quant}{mode} in={self.input_tokens} "
                f"out={self.output_tokens} b={self.batch} r{self.repeat}")


@dataclass(frozen=True)
class Group:
    """The points measured under one load of ``model`` × ``quant`` (and one power mode)."""

    model: str
    quant: str
    power_mode: str | None
    points: tuple[Point, ...]


def expand(spec: SweepSpec) -> Iterator[Group]:
    """Groups in loop order; within a group, points in batch → input → output → repeat."""
    for model, quant, mode in product(spec.models, spec.quants, spec.power_modes or [None]):
        points = tuple(
            Point(model, quant, mode, b, i, o, r)
            for b, i, o, r in product(spec.batches, spec.inputs, spec.outputs,
                                      range(spec.repeats))
        )
        yield Group(model, quant, mode, points)


def all_points(spec: SweepSpec) -> list[Point]:
    return [p for g in expand(spec) for p in g.points]
