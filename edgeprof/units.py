"""Parsing of what people type into flags and tables: durations, sizes, energies, int axes,
and the spelling of names (:func:`fold_name`)."""

from __future__ import annotations

import math
import re

from edgeprof.errors import UserInputError

#: Most values one sweep axis may expand to; a range is counted before it is built.
MAX_AXIS_VALUES = 10_000
#: Largest integer an axis or count takes (token counts, budgets): far above any context
#: length, far below the 2**63 where int64 arrays overflow.
MAX_INT = 10**9
#: Largest duration (seconds, about 4 months) and size (1 PiB) a flag takes.
MAX_DURATION_S = 1e7
MAX_SIZE_BYTES = 2**50

def fold_name(text: str) -> str:
    """The key a typed name is looked up by: lower case, runs of spaces and underscores as one
    ``-`` (``"INT4 AWQ"``, ``int4_awq`` and ``int4-awq`` are one name). Models, quant formats,
    engines and devices are all matched on it."""
    return re.sub(r"[\s_]+", "-", text.strip().lower())


_NUM = r"([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

_DURATION_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0, "m": 60.0}
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_ENERGY_UNITS = {"": 1.0, "j": 1.0, "mj": 1e-3, "kj": 1e3, "wh": 3600.0, "mwh": 3.6}


def _split(text: str, what: str, example: str) -> tuple[float, str]:
    match = re.fullmatch(_NUM + r"\s*([a-zA-Z]*)", text.strip())
    if not match:
        raise UserInputError(f"Cannot read {what} {text!r}; write it like {example}.")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise UserInputError(f"{what.capitalize()} {text!r} is too large; write it like "
                             f"{example}.")
    return value, match.group(2)


def _finite(value: float, what: str, text: object) -> float:
    if isinstance(value, bool) or not math.isfinite(value):
        raise UserInputError(f"{what.capitalize()} {text!r} must be a finite number.")
    return float(value)


def check_number(value: float | int | None, name: str, *, lo: float | None = None,
                 hi: float | None = None, lo_open: bool = False) -> float | None:
    """A float flag that must be finite and within [lo, hi] (``lo_open``: > lo)."""
    if value is None:
        return None
    v = _finite(value, f"--{name}", value)
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise UserInputError(f"--{name} must be {'>' if lo_open else '≥'} {lo:g}; got {v:g}.")
    if hi is not None and v > hi:
        raise UserInputError(f"--{name} must be ≤ {hi:g}; got {v:g}.")
    return v


def check_count(value: int | None, name: str, *, minimum: int = 1,
                maximum: int = MAX_INT) -> int | None:
    """An integer flag (trials, samples, tokens) within [minimum, maximum]."""
    if value is None:
        return None
    if value < minimum or value > maximum:
        raise UserInputError(f"--{name} must be between {minimum} and {maximum}; got {value}.")
    return int(value)


def parse_duration(text: str | float) -> float:
    """Seconds from ``2s``, ``1500ms``, ``0.5`` (seconds) or ``1min``."""
    if isinstance(text, int | float):
        value, unit = _finite(text, "the duration", text), ""
    else:
        value, unit = _split(text, "the duration", "2s, 1500ms or 0.5s")
    factor = _DURATION_UNITS.get(unit.lower())
    if factor is None:
        raise UserInputError(f"Unknown time unit {unit!r} in {text!r}; use s or ms (e.g. 2s).")
    seconds = value * factor
    if seconds <= 0:
        raise UserInputError(f"The duration {text!r} must be positive.")
    if seconds > MAX_DURATION_S:
        raise UserInputError(f"The duration {text!r} is too long (at most {MAX_DURATION_S:g} s).")
    return seconds


def parse_size(text: str | int) -> int:
    """Bytes from ``8GiB``, ``512MB``, ``1e9``."""
    if isinstance(text, int | float):
        value, unit = _finite(text, "the size", text), ""
    else:
        value, unit = _split(text, "the size", "8GiB or 512MB")
    factor = _SIZE_UNITS.get(unit.lower())
    if factor is None:
        raise UserInputError(f"Unknown size unit {unit!r} in {text!r}; use B, MB, GB, MiB, GiB.")
    size = int(value * factor)
    if size <= 0:
        raise UserInputError(f"The size {text!r} must be positive.")
    if size > MAX_SIZE_BYTES:
        raise UserInputError(f"The size {text!r} is too large (at most 1 PiB).")
    return size


def parse_energy(text: str | float) -> float:
    """Joules from ``40J``, ``0.5kJ``, ``0.01Wh``."""
    if isinstance(text, int | float):
        value, unit = _finite(text, "the energy", text), ""
    else:
        value, unit = _split(text, "the energy", "40J or 0.5kJ")
    factor = _ENERGY_UNITS.get(unit.lower())
    if factor is None:
        raise UserInputError(f"Unknown energy unit {unit!r} in {text!r}; use J, kJ or Wh.")
    if value <= 0:
        raise UserInputError(f"The energy {text!r} must be positive.")
    if value * factor > 1e12:
        raise UserInputError(f"The energy {text!r} is too large (at most 1e12 J).")
    return value * factor


def parse_int_axis(text: str | int | list[int], name: str, minimum: int = 1,
                   maximum: int = MAX_INT) -> list[int]:
    """A sweep axis: ``128,512``, a range ``128:1024:128`` (start:stop:step, stop included)
    or a doubling range ``128..1024`` (128, 256, 512, 1024). Values lie in
    [minimum, maximum] and an axis has at most :data:`MAX_AXIS_VALUES` values (ranges are
    counted before they are built)."""
    too_many = (f"--{name} expands to more than {MAX_AXIS_VALUES} values; use a larger step "
                f"or a doubling range like 128..4096.")
    if isinstance(text, bool):
        raise UserInputError(f"--{name} must be integers, not {text!r}.")
    if isinstance(text, int):
        values = [text]
    elif isinstance(text, list):
        if len(text) > MAX_AXIS_VALUES:
            raise UserInputError(too_many)
        try:
            values = []
            for v in text:
                if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
                    raise ValueError
                values.append(int(v))
        except (TypeError, ValueError, OverflowError):
            raise UserInputError(f"--{name} must be a list of integers like [128, 512]; "
                                 f"got {text!r:.80}.") from None
    else:
        values = []
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if ".." in part:
                    lo, hi = (int(p) for p in part.split(".."))
                    if lo <= 0:
                        raise ValueError
                    if hi > maximum:
                        raise UserInputError(f"--{name} range {part!r} must lie within "
                                             f"{minimum}..{maximum}.")
                    v = lo
                    while v <= hi:
                        values.append(v)
                        v *= 2
                elif ":" in part:
                    bits = [int(p) for p in part.split(":")]
                    lo, hi, step = [*bits, 1][:3] if len(bits) == 2 else bits
                    if step <= 0:
                        raise ValueError
                    if lo < minimum or hi > maximum:
                        raise UserInputError(f"--{name} range {part!r} must lie within "
                                             f"{minimum}..{maximum}.")
                    if len(range(lo, hi + 1, step)) + len(values) > MAX_AXIS_VALUES:
                        raise UserInputError(too_many)
                    values.extend(range(lo, hi + 1, step))
                else:
                    values.append(int(part))
                if len(values) > MAX_AXIS_VALUES:
                    raise UserInputError(too_many)
            except UserInputError:
                raise
            except ValueError:
                raise UserInputError(
                    f"Cannot read {part!r} in --{name}; give integers like 128,512, "
                    f"a range 128:1024:128 or a doubling range 128..1024."
                ) from None
    if not values:
        raise UserInputError(f"--{name} is empty; give at least one value, e.g. 128,512.")
    for v in values:
        if v < minimum:
            raise UserInputError(f"--{name} values must be ≥ {minimum}; got {v}.")
        if v > maximum:
            raise UserInputError(f"--{name} values must be ≤ {maximum}; got {v}.")
    return sorted(dict.fromkeys(values))


def parse_str_list(text: str | list[str], name: str) -> list[str]:
    """A comma list of names."""
    items = text if isinstance(text, list) else [p.strip() for p in str(text).split(",")]
    items = [i for i in items if i]
    if not items:
        raise UserInputError(f"--{name} is empty; give at least one value.")
    return list(dict.fromkeys(items))


def format_bytes(n: float | None) -> str:
    if n is None:
        return "n/a"
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= factor:
            return f"{n / factor:.2f} {unit}"
    return f"{int(n)} B"
