"""The human quantities flags take: each unit's factor, ranges and refusals."""

from __future__ import annotations

import pytest

from edgeprof.errors import UserInputError
from edgeprof.units import format_bytes, parse_duration, parse_energy, parse_int_axis, parse_size


@pytest.mark.parametrize(("text", "seconds"), [
    ("2s", 2.0), ("1500ms", 1.5), ("0.5", 0.5), ("250us", 0.00025), ("1min", 60.0),
    ("2m", 120.0), ("3 sec", 3.0), (4, 4.0),
])
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(("text", "size"), [
    ("8GiB", 8 * 1024**3), ("512MB", 512_000_000), ("1e9", 1_000_000_000), ("3KiB", 3072),
    ("2kb", 2000), ("1TiB", 1024**4), ("1.5 MiB", 1_572_864),
])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(("text", "joules"), [
    ("40J", 40.0), ("0.5kJ", 500.0), ("0.01Wh", 36.0), ("2mWh", 7.2), ("250mJ", 0.25),
])
def test_energies(text, joules):
    assert parse_energy(text) == pytest.approx(joules, rel=1e-12)


@pytest.mark.parametrize("bad", ["0s", "0ms", "-1s", "2 parsecs", "soon"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(UserInputError):
        parse_duration(bad)


def test_bad_sizes_and_energies_are_refused():
    with pytest.raises(UserInputError, match="unit"):
        parse_size("8PB")
    with pytest.raises(UserInputError, match="positive"):
        parse_size("0MB")
    with pytest.raises(UserInputError, match="positive"):
        parse_energy("0J")
    with pytest.raises(UserInputError, match="unit"):
        parse_energy("5W")


def test_int_axes():
    assert parse_int_axis("128,512", "inputs") == [128, 512]
    assert parse_int_axis("128:512:128", "inputs") == [128, 256, 384, 512]  # stop included
    assert parse_int_axis("1:3", "inputs") == [1, 2, 3]
    assert parse_int_axis("128..1024", "inputs") == [128, 256, 512, 1024]
    assert parse_int_axis("100..1000", "inputs") == [100, 200, 400, 800]
    assert parse_int_axis("512,128,512", "inputs") == [128, 512]  # sorted, no repeats
    assert parse_int_axis(7, "batch") == [7] and parse_int_axis([3, 1, 3], "batch") == [1, 3]
    assert parse_int_axis("0,1", "repeats", minimum=0) == [0, 1]


@pytest.mark.parametrize("bad", ["", "a,b", "0..8", "8:1:0", "0", "1.5"])
def test_bad_int_axes_are_refused(bad):
    with pytest.raises(UserInputError, match="--inputs"):
        parse_int_axis(bad, "inputs")


def test_format_bytes():
    assert format_bytes(None) == "n/a"
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(1024) == "1.00 KiB"
    assert format_bytes(3 * 2**20 // 2) == "1.50 MiB"
    assert format_bytes(8 * 2**30) == "8.00 GiB"


def test_fold_name_is_the_one_spelling_key() -> None:
    from edgeprof.units import fold_name

    assert fold_name(" INT4  AWQ ") == fold_name("int4_awq") == fold_name("Int4-AWQ") == "int4-awq"
    assert fold_name("MLC LLM") == "mlc-llm" and fold_name("Llama 3.1 8B") == "llama-3.1-8b"
    assert fold_name("llama.cpp") == "llama.cpp"  # dots and dashes are kept
