"""The conformance suite every power source runs (shipped in the package, like
:mod:`edgeprof.engines._conformance` for engines).

Each check takes a source factory (a zero-argument callable returning a fresh
:class:`~edgeprof.device._power_source.PowerSource`) and raises ``AssertionError`` saying what
broke. Parametrize a test over :data:`CHECKS`, or call :func:`run_conformance`::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_my_source(check):
        check(lambda: MySource.detect())
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from edgeprof.device._power_source import PowerSource, Reading

SourceFactory = Callable[[], PowerSource | None]
Check = Callable[[SourceFactory], None]

MAX_BOARD_W = 10_000.0  # no single device here draws 10 kW: a larger value is a unit error
TEMP_RANGE_C = (-40.0, 150.0)


def _make(factory: SourceFactory) -> PowerSource:
    source = factory()
    assert source is not None, "the factory gave no source (detect() found nothing)"
    assert isinstance(source, PowerSource), f"{type(source).__name__} is not a PowerSource"
    return source


def _finite_nonneg(value: float, what: str) -> None:
    assert isinstance(value, int | float), f"{what} must be a number, got {type(value).__name__}"
    assert math.isfinite(value) and value >= 0, f"{what} must be finite and ≥ 0, got {value}"


def check_identity(factory: SourceFactory) -> None:
    """``name`` is a non-empty string, ``update_period_s`` a finite non-negative number,
    ``total_rule`` a string."""
    src = _make(factory)
    try:
        assert isinstance(src.name, str) and src.name, "name must be a non-empty string"
        _finite_nonneg(src.update_period_s, "update_period_s")
        assert isinstance(src.total_rule, str), "total_rule must be a string"
    finally:
        src.close()


def check_reading_units(factory: SourceFactory) -> None:
    """A reading is in SI units: watts ≥ 0 and below 10 kW (a mW/µW slip shows here),
    joules ≥ 0, MHz ≥ 0, plausible °C; an unmeasurable value is ``None``, never 0 by
    default; throttle reasons are strings."""
    src = _make(factory)
    try:
        r = src.read()
        assert isinstance(r, Reading), f"read() returned {type(r).__name__}, not Reading"
        if r.total_w is not None:
            _finite_nonneg(r.total_w, "total_w")
            assert r.total_w < MAX_BOARD_W, f"total_w {r.total_w} W: milliwatts read as watts?"
        for rail, watts in r.rails_w.items():
            assert isinstance(rail, str) and rail, "rail names must be non-empty strings"
            _finite_nonneg(watts, f"rails_w[{rail!r}]")
            assert watts < MAX_BOARD_W, f"rail {rail} at {watts} W: a unit error?"
        if r.energy_j is not None:
            _finite_nonneg(r.energy_j, "energy_j")
        for clock, mhz in r.clocks_mhz.items():
            _finite_nonneg(mhz, f"clocks_mhz[{clock!r}]")
        lo, hi = TEMP_RANGE_C
        for zone, celsius in r.temps_c.items():
            assert lo < celsius < hi, f"temps_c[{zone!r}] = {celsius} °C is not plausible"
        assert all(isinstance(t, str) and t for t in r.throttle), "throttle must list strings"
        if r.mem_used_bytes is not None:
            assert isinstance(r.mem_used_bytes, int) and r.mem_used_bytes >= 0, \
                "mem_used_bytes must be a non-negative int"
    finally:
        src.close()


def check_counter_monotone(factory: SourceFactory) -> None:
    """A cumulative energy counter never runs backwards between two reads (wrap-around is
    unwrapped where the counter is read)."""
    src = _make(factory)
    try:
        first = src.read()
        time.sleep(max(0.002, min(src.update_period_s, 0.05)))
        second = src.read()
        if first.energy_j is None:
            assert second.energy_j is None, "energy_j appeared on the second read only"
            return
        assert second.energy_j is not None, "energy_j vanished on the second read"
        assert second.energy_j >= first.energy_j, (
            f"energy counter ran backwards: {first.energy_j} J then {second.energy_j} J")
    finally:
        src.close()


def check_describe(factory: SourceFactory) -> None:
    """``describe()`` is a JSON-serializable dict that names the source."""
    src = _make(factory)
    try:
        facts = src.describe()
        assert isinstance(facts, dict), "describe() must return a dict"
        assert facts.get("source") == src.name, (
            f"describe()['source'] is {facts.get('source')!r}, the source is {src.name!r}")
        json.dumps(facts)
    finally:
        src.close()


def check_close_idempotent(factory: SourceFactory) -> None:
    """``close()`` may be called twice (the sampler closes on every exit path)."""
    src = _make(factory)
    src.close()
    src.close()


CHECKS: tuple[Check, ...] = (check_identity, check_reading_units, check_counter_monotone,
                             check_describe, check_close_idempotent)


def run_conformance(factory: SourceFactory) -> list[str]:
    """Run every check; return the names that passed (the first failure raises)."""
    passed = []
    for check in CHECKS:
        check(factory)
        passed.append(check.__name__)
    return passed
