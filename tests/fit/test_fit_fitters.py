"""Fitters on synthetic data with known coefficients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeprof.catalog import resolve_model
from edgeprof.errors import NotFittedError, UserInputError
from edgeprof.fit import _forms as forms
from edgeprof.fit._fitters import DecodeEnergyModel, DecodeModel, PrefillModel

ARCH = resolve_model("deepseek-r1-distill-qwen-1.5b")
INPUTS = np.array([3, 129, 256, 385, 513, 641, 769, 897, 1027, 1500, 2049, 3000, 4097], float)


def _prefill_X() -> np.ndarray:
    return np.c_[INPUTS, np.ones_like(INPUTS), np.ones_like(INPUTS)]


def _decode_X() -> np.ndarray:
    i, o = np.meshgrid([128, 384, 640, 1024], [16, 64, 256, 1024, 2048])
    return np.c_[i.ravel(), o.ravel(), np.ones(i.size)].astype(float)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overhead=st.floats(0.005, 0.1), slope=st.floats(0.02, 0.1), seed=st.integers(0, 99))
def test_prefill_recovers_coefficients_of_the_previous_form(overhead: float, slope: float,
                                                            seed: int) -> None:
    X = _prefill_X()
    true = {"overhead_s": overhead, "s_per_tflop": slope, "chunk_s": 0.02}
    y = forms.prefill_time(true, ARCH, X[:, 0], X[:, 2])
    y = y * (1 + np.random.default_rng(seed).normal(0, 0.01, y.size))
    m = PrefillModel(ARCH, chunk_s=0.02, fit_token=False).fit(X, y)
    assert m.coef_["s_per_tflop"] == pytest.approx(slope, rel=0.05)
    assert m.coef_["overhead_s"] == pytest.approx(overhead, rel=0.25, abs=0.003)
    assert m.coef_["token_s"] == 0.0
    grid = np.arange(1, 8192, 37, dtype=float)
    pred = m.predict(np.c_[grid, np.ones_like(grid), np.ones_like(grid)])
    assert np.all(pred > 0) and np.all(np.diff(pred) >= 0)


# Lengths at many phases of a 256-token tile (k·256+1, k·256+129, and between), as a sweep
# over 3–4097 has: the tile term and the per-token slope are told apart only across phases.
TILED_INPUTS = np.array([3, 64, 129, 200, 256, 385, 450, 513, 641, 700, 769, 897, 1027, 1153,
                         1300, 1537, 1665, 2049, 2177, 2500, 3073, 3201, 4097], float)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overhead=st.floats(0.005, 0.1), slope=st.floats(0.01, 0.06),
       token_us=st.floats(20.0, 500.0), seed=st.integers(0, 99))
def test_prefill_recovers_tile_and_token_coefficients(overhead: float, slope: float,
                                                      token_us: float, seed: int) -> None:
    """The 256-tile form: overhead, s_per_tflop (whole tiles) and token_s (per token)."""
    X = np.c_[TILED_INPUTS, np.ones_like(TILED_INPUTS), np.ones_like(TILED_INPUTS)]
    true = {"overhead_s": overhead, "s_per_tflop": slope, "token_s": token_us * 1e-6,
            "pad_tokens": forms.TILE_TOKENS, "chunk_s": 0.02}
    y = forms.prefill_time(true, ARCH, X[:, 0], X[:, 2])
    y = y * (1 + np.random.default_rng(seed).normal(0, 0.003, y.size))
    m = PrefillModel(ARCH, chunk_s=0.02, pad_tokens=forms.TILE_TOKENS).fit(X, y)
    assert m.free_ == ["overhead_s", "s_per_tflop", "token_s"]
    # Each share of the per-token cost (whole tiles, actual tokens) is identifiable to the
    # noise: within 10 % of the total per-token cost. (0.3 % noise on a 0.1 s overhead with the
    # smallest per-token costs leaves the split uncertain by up to 7.0 % over a grid of the
    # ranges' corners × 100 seeds; 5 % failed at overhead 0.094, slope 0.0117, 20 µs, seed 18.)
    tflop_per_token = 2 * ARCH.linear_params / 1e12
    per_token = slope * tflop_per_token + token_us * 1e-6
    assert m.coef_["s_per_tflop"] * tflop_per_token == pytest.approx(
        slope * tflop_per_token, abs=0.10 * per_token)
    assert m.coef_["token_s"] == pytest.approx(token_us * 1e-6, abs=0.10 * per_token)
    assert m.coef_["overhead_s"] == pytest.approx(overhead, rel=0.25, abs=0.003)
    grid = np.arange(1, 8192, 37, dtype=float)
    fit = m.predict(np.c_[grid, np.ones_like(grid), np.ones_like(grid)])
    assert fit == pytest.approx(forms.prefill_time(true, ARCH, grid, np.ones_like(grid)),
                                rel=0.03)


@settings(max_examples=60, deadline=None)
@given(overhead=st.floats(0.0, 1.0), slope=st.floats(0.0, 100.0),
       token_s=st.floats(0.0, 1e-2), chunk_s=st.floats(0.0, 1.0),
       pad=st.sampled_from([1, 16, 64, 128, 256]), batch=st.integers(1, 16),
       attn=st.floats(0.0, 8.0))
def test_prefill_form_is_monotone_in_tokens(overhead: float, slope: float, token_s: float,
                                            chunk_s: float, pad: int, batch: int,
                                            attn: float) -> None:
    coef = {"overhead_s": overhead, "s_per_tflop": slope, "token_s": token_s,
            "chunk_s": chunk_s, "pad_tokens": pad, "attn_factor": attn}
    n = np.arange(1, 9000, dtype=float)
    t = forms.prefill_time(coef, ARCH, n, np.full_like(n, batch))
    assert np.all(np.isfinite(t)) and np.all(t >= 0)
    assert np.all(np.diff(t) >= -1e-12 * np.abs(t[1:]))


def test_a_profile_without_token_s_predicts_the_previous_form() -> None:
    """A profile written before token_s existed: the form it was fitted with, unchanged."""
    from edgeprof.device._spec import load_device_spec
    from edgeprof.fit import Profile

    old = {"overhead_s": 0.005857845655914039, "s_per_tflop": 0.056519673539760396,
           "chunk_s": 0.10088151029240591, "pad_tokens": 128.0, "attn_factor": 2.0,
           "chunk_tokens": 2048.0}  # the shipped 8B fit before issue 12
    arch = resolve_model("deepseek-r1-distill-llama-8b")
    i = np.array([1, 3, 129, 256, 1027, 2049, 4097], float)
    p = np.ceil(i / 128) * 128
    work = (2 * arch.linear_params * p + 2 * arch.vocab * arch.hidden
            + 2.0 * 2 * arch.layers * arch.heads * arch.head_dim * p * p) / 1e12
    expected = old["overhead_s"] + old["s_per_tflop"] * work + \
        (np.ceil(i / 2048) - 1) * old["chunk_s"]
    ones = np.ones_like(i)
    assert forms.prefill_time(old, arch, i, ones) == pytest.approx(expected, rel=1e-12)
    assert forms.prefill_time(old | {"token_s": 0.0}, arch, i, ones) == pytest.approx(
        expected, rel=1e-12)
    entry = {"model": arch.name, "quant": "bf16", "engine": "vllm", "power_mode": "MAXN",
             "prefill": {"coef": old, "fitted_on": {"input_tokens": [3.0, 4097.0]},
                         "interval": {"lo": 0.9, "hi": 1.1}},
             "decode": {"coef": {"step_s": 0.1, "kv_s": 7e-7},
                        "fitted_on": {"input_tokens": [128.0, 1152.0],
                                      "output_tokens": [2.0, 2176.0], "batch": [1.0, 1.0]},
                        "interval": {"lo": 0.9, "hi": 1.1}}}
    prof = Profile(load_device_spec("jetson-agx-orin-64gb"), [entry])
    got = [prof.predict(arch.name, "bf16", int(n), 1).ttft_s.value for n in i]
    assert got == pytest.approx(expected, rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(step=st.floats(0.01, 0.2), kv=st.floats(1e-8, 2e-6), seed=st.integers(0, 99))
def test_decode_recovers_coefficients(step: float, kv: float, seed: int) -> None:
    X = _decode_X()
    y = forms.decode_time({"step_s": step, "kv_s": kv}, X[:, 0], X[:, 1], X[:, 2])
    y = y * (1 + np.random.default_rng(seed).normal(0, 0.003, y.size))
    m = DecodeModel().fit(X, y)
    assert m.coef_["step_s"] == pytest.approx(step, rel=0.02)
    # kv is identifiable only to the noise: within 1 % of a step over 1000 context tokens
    assert m.coef_["kv_s"] == pytest.approx(kv, rel=0.3, abs=0.01 * step / 1000)
    pred = m.predict(np.c_[np.full(50, 512.0), np.arange(1, 51) * 40.0, np.ones(50)])
    assert np.all(pred >= 0) and np.all(np.diff(pred) > 0)


def test_glitch_is_flagged_and_does_not_move_the_fit() -> None:
    X = np.c_[TILED_INPUTS, np.ones_like(TILED_INPUTS), np.ones_like(TILED_INPUTS)]
    true = {"overhead_s": 0.03, "s_per_tflop": 0.03, "token_s": 1e-4, "chunk_s": 0.02,
            "pad_tokens": forms.TILE_TOKENS}
    y = forms.prefill_time(true, ARCH, X[:, 0], X[:, 2])
    clean = PrefillModel(ARCH, 0.02, pad_tokens=forms.TILE_TOKENS).fit(X, y)
    y_bad = y.copy()
    y_bad[18] *= 8  # a 22 s-style glitch
    m = PrefillModel(ARCH, 0.02, pad_tokens=forms.TILE_TOKENS).fit(X, y_bad)
    assert [o["input_tokens"] for o in m.outliers_] == [TILED_INPUTS[18]]
    assert m.coef_["s_per_tflop"] == pytest.approx(clean.coef_["s_per_tflop"], rel=0.01)
    # noise-free data: the refit without the flagged point recovers the truth exactly (the
    # robust first pass alone is ~5e-4 off)
    for k in ("s_per_tflop", "overhead_s", "token_s"):
        assert m.coef_[k] == pytest.approx(true[k], rel=1e-5)
    assert m.record()["outliers"][0]["measured"] == pytest.approx(y_bad[18])


def test_clean_data_flags_nothing() -> None:
    X = _decode_X()
    y = forms.decode_time({"step_s": 0.02, "kv_s": 2e-7}, X[:, 0], X[:, 1], X[:, 2])
    y = y * (1 + np.random.default_rng(1).normal(0, 0.01, y.size))
    m = DecodeModel().fit(X, y)
    assert m.outliers_ == []
    assert m.cv_mape_ < 0.03
    assert m.interval_["lo"] < 1 < m.interval_["hi"]


def test_power_ramp_energy_is_the_integral() -> None:
    coef = {"p_inf_w": 25.0, "delta_p_w": 20.0, "tau_s": 1.5}
    t = np.linspace(0, 60, 60001)
    numeric = np.trapezoid(25.0 - 20.0 * np.exp(-t / 1.5), t)
    assert forms.ramp_energy(coef, np.array([60.0]))[0] == pytest.approx(numeric, rel=1e-6)
    T = np.array([2, 5, 10, 30, 60, 120, 200], float)
    y = 10 + forms.ramp_energy(coef, T)
    m = DecodeEnergyModel().fit(T[:, None], y)
    assert m.predict(np.array([[90.0]]))[0] == pytest.approx(10 + forms.ramp_energy(
        coef, np.array([90.0]))[0], rel=0.02)


def test_unfitted_and_too_few_points() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        DecodeModel().predict(np.ones((1, 3)))
    with pytest.raises(UserInputError, match="at least"):
        DecodeModel().fit(np.ones((2, 3)), np.ones(2))


@pytest.mark.parametrize("pad", [1, 128, 256])
def test_prefill_padding_is_chosen_from_the_data(pad: int) -> None:
    """A CPU pays per token; a tiled GPU kernel pays per 128 or per 256 tokens (with a
    per-token slope inside the tile). Lengths at many tile phases tell them apart."""
    from edgeprof.fit._pipeline import _fit_prefill

    rng = np.random.default_rng(pad)
    lengths = np.arange(24.0, 400.0, 24.0)
    inputs = np.repeat(lengths, 3)
    batch = np.tile([1.0, 2.0, 4.0], lengths.size)
    X = np.c_[inputs, np.ones_like(inputs), batch]
    coef = {"overhead_s": 0.01, "s_per_tflop": 30.0, "pad_tokens": pad,
            "token_s": 0.02 if pad == 256 else 0.0}
    y = forms.prefill_time(coef, ARCH, inputs, batch) * rng.normal(1, 0.01, inputs.size)
    rec = _fit_prefill(ARCH, 0.0, X, y).model_dump()  # a PhaseFit; the record as dumped
    assert rec["coef"]["pad_tokens"] == pad
    assert set(rec["pad_tokens_tried"]) == {"1", "16", "64", "128", "256"}
    assert rec["cv_mape"] < 0.05


@pytest.mark.parametrize(("coef", "match"), [
    ({"overhead_s": 0.01}, "lacks s_per_tflop"),
    ({"overhead_s": 0.01, "s_per_tflop": 0.05, "token_s": -1e-4}, "token_s is negative"),
])
def test_profile_prefill_coefficients_are_checked(coef: dict, match: str) -> None:
    from edgeprof.errors import DataFormatError
    from edgeprof.fit._schema import check_fits as check_profile_fits

    good = [{"model": "m", "quant": "bf16",  # no token_s: a profile from before it existed
             "prefill": {"coef": {"overhead_s": 0.01, "s_per_tflop": 0.05}}}]
    assert check_profile_fits(good, "p.yaml") == good
    with pytest.raises(DataFormatError, match=match):
        check_profile_fits([{"model": "m", "quant": "bf16", "prefill": {"coef": coef}}],
                           "p.yaml")
