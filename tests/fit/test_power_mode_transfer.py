"""A fit measured in one power mode, predicted in another: carried by the roofline ratio."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.device._spec import DeviceSpec
from edgeprof.fit import Profile, bandwidth, peak_flops

BOARD = "jetson-agx-orin-64gb"  # its fits are the EdgeReasoning measurements, at MAXN
FITTED = ("deepseek-r1-distill-qwen-1.5b", "deepseek-r1-distill-llama-8b",
          "deepseek-r1-distill-qwen-14b")


@pytest.fixture(scope="module")
def orin() -> Profile:
    return Profile.load(BOARD)


def _at(p: Profile, model: str, mode: str | None, i: int = 512, o: int = 128,
        quant: str = "bf16") -> tuple[float, float, str, str]:
    r = p.predict(model, quant, i, o, power_mode=mode)
    return r.ttft_s.value, r.decode_s.value, r.decode_s.provenance, r.decode_s.note or ""


def _slower_or_equal(spec: DeviceSpec, a: str, b: str) -> bool:
    """Mode ``b`` has no more compute and no more bandwidth than mode ``a``."""
    return (peak_flops(spec, "bf16", b) <= peak_flops(spec, "bf16", a)
            and bandwidth(spec, b) <= bandwidth(spec, a))


def test_the_measured_mode_is_the_fit_and_its_name_is_case_blind(orin: Profile) -> None:
    for mode in ("MAXN", "maxn", " MaxN "):
        assert _at(orin, FITTED[0], mode)[:3] == _at(orin, FITTED[0], None)[:3]
    assert _at(orin, FITTED[0], "MAXN")[2] == "predicted:measured-fit"


def test_another_mode_carries_the_fit_by_the_roofline_ratio(orin: Profile) -> None:
    spec = orin.device
    ttft_max, dec_max, _, _ = _at(orin, FITTED[1], "MAXN")
    ttft_50, dec_50, prov, note = _at(orin, FITTED[1], "50W")
    assert prov == "predicted:spec-derived" and "carried from the measured MAXN fit" in note
    # 50W keeps MAXN's EMC cap: a memory-bound decode is the measured one …
    assert bandwidth(spec, "50W") == bandwidth(spec, "MAXN")
    assert dec_50 == pytest.approx(dec_max, rel=1e-9)
    # … while prefill's compute share slows by the clock × TPC scale (0.6275)
    scale = peak_flops(spec, "bf16", "MAXN") / peak_flops(spec, "bf16", "50W")
    assert 1.0 < ttft_50 / ttft_max < scale
    # 15W also caps the EMC (136.5 GB/s): decode slows, by no more than the bandwidth ratio
    dec_15 = _at(orin, FITTED[1], "15W")[1]
    assert 1.0 < dec_15 / dec_max <= bandwidth(spec, "MAXN") / bandwidth(spec, "15W") + 1e-9


@settings(max_examples=40, deadline=None)
@given(model=st.sampled_from(FITTED), a=st.sampled_from(["MAXN", "50W", "30W", "15W"]),
       b=st.sampled_from(["MAXN", "50W", "30W", "15W"]),
       i=st.integers(16, 4096), o=st.integers(2, 2048), quant=st.sampled_from(["bf16", "int8"]))
def test_a_mode_with_lower_clocks_is_never_predicted_faster(model: str, a: str, b: str, i: int,
                                                            o: int, quant: str) -> None:
    p = Profile.load(BOARD)
    if not _slower_or_equal(p.device, a, b):
        a, b = b, a
    if not _slower_or_equal(p.device, a, b):
        return  # neither mode dominates the other
    fast, slow = (_at(p, model, m, i, o, quant) for m in (a, b))
    assert slow[0] >= fast[0] * (1 - 1e-9) and slow[1] >= fast[1] * (1 - 1e-9)


def test_the_interval_widens_when_a_fit_changes_mode(orin: Profile) -> None:
    here = orin.predict(FITTED[0], "bf16", 512, 128, power_mode="MAXN").decode_s
    there = orin.predict(FITTED[0], "bf16", 512, 128, power_mode="30W").decode_s
    assert np.log(there.hi / there.lo) > 2 * np.log(here.hi / here.lo)


@pytest.mark.parametrize("board", ["jetson-orin-nano-8gb", "jetson-orin-nx-16gb",
                                   "jetson-agx-orin-64gb", "jetson-agx-thor"])
@pytest.mark.parametrize("engine", ["vllm", "trtllm", "mlc", "llama.cpp"])
def test_every_board_orders_its_modes_by_their_clocks(board: str, engine: str) -> None:
    """Whatever path a prediction takes (fit, transfer, engine terms, spec), a mode with no
    more compute and no more bandwidth than another is not predicted faster."""
    p = Profile.load(board).with_engine(engine)
    modes = [m.name for m in p.device.power_modes]
    for model in ("qwen3-4b", "llama-3.1-8b"):
        at = {m: p.predict(model, "int4", 512, 256, batch=2, power_mode=m) for m in modes}
        for a in modes:
            for b in modes:
                if a != b and _slower_or_equal(p.device, a, b):
                    assert at[b].ttft_s.value >= at[a].ttft_s.value * (1 - 1e-9), (model, a, b)
                    assert at[b].decode_s.value >= at[a].decode_s.value * (1 - 1e-9), (model, a, b)


def test_a_mode_is_carried_from_the_nearest_fitted_mode() -> None:
    """Fits in MAXN and 15W: 30W (4 TPCs at 612 MHz, full EMC) is predicted from whichever
    fitted mode is nearer in compute and bandwidth, and says which."""
    base = Profile.load(BOARD)
    entry = next(f for f in base.fits if f["model"] == FITTED[0] and f["quant"] == "bf16")
    slow = {**entry, "power_mode": "15W"}
    p = Profile(base.device, [entry, slow], base.calibration, base.provenance)
    spec = p.device

    def gap(a: str, b: str) -> float:
        return (abs(np.log(peak_flops(spec, "fp16", a) / peak_flops(spec, "fp16", b)))
                + abs(np.log(bandwidth(spec, a) / bandwidth(spec, b))))

    near = min(("MAXN", "15W"), key=lambda m: gap(m, "30W"))
    note = p.predict(FITTED[0], "bf16", 512, 128, power_mode="30W").decode_s.note or ""
    assert f"carried from the measured {near} fit to 30W" in note
    assert p.predict(FITTED[0], "bf16", 512, 128, power_mode="15W").decode_s.provenance == \
        "predicted:measured-fit"


def test_a_fit_without_a_mode_is_the_default_mode_and_carries_to_the_others() -> None:
    """A sweep that recorded no power mode is taken as the board's default mode: asked for
    by name it is the fit, and other modes carry from it."""
    base = Profile.load(BOARD)
    entry = next(f for f in base.fits if f["model"] == FITTED[0] and f["quant"] == "bf16")
    p = Profile(base.device, [{**entry, "power_mode": None}], base.calibration,
                base.provenance)
    assert _at(p, FITTED[0], "MAXN")[2] == "predicted:measured-fit"
    assert _at(p, FITTED[0], "MAXN")[:2] == _at(base, FITTED[0], "MAXN")[:2]
    assert "carried from the measured MAXN fit" in _at(p, FITTED[0], "15W")[3]


ROOT = Path(__file__).resolve().parents[2]
JB = ROOT.parent / "shared/reference/jetson-published-benchmarks/benchmarks.csv"


@pytest.mark.skipif(not JB.is_file(), reason="reference data not present")
def test_published_pairs_of_modes_are_carried_closer_than_ignoring_the_mode() -> None:
    """The Orin Nano's published 15W and MAXN_SUPER MLC figures, each carried to the other
    mode (benchmarks/power_mode_transfer.py), land nearer the other's than the figure
    itself does."""
    spec = importlib.util.spec_from_file_location(
        "power_mode_transfer", ROOT / "benchmarks/power_mode_transfer.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    per = [mod.carry(a, b) for a, b in mod.pairs(mod.read_figures(JB)[0])]
    assert len(per) == 6 and {p["to_mode"] for p in per} == {"15W", "MAXN_SUPER"}
    for p in per:
        assert abs(p["ratio"] - 1) < abs(p["published_tpot_s"] / p["from_tpot_s"] - 1), p
        assert p["provenance"] == "predicted:spec-derived" and "carried from" in p["note"]
