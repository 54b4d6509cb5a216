"""``edgeprof load`` against the fake server, the concurrency fit and ``--concurrency``."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))
from fake_openai_server import fake_openai_server

from edgeprof.fit._concurrency import ConcurrentProfile, factors, fit_concurrency
from edgeprof.fit._profile import Profile
from edgeprof.table import Measurement, point_key

MODEL = "qwen2.5-0.5b"


def _load(run_cli, url: str, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli("load", "--url", url, "--model", MODEL, "--quant", "int4",
                             "--json", *extra)
    return code, (json.loads(out) if code == 0 else {}), err


def _close(measured: float, truth: float, tol: float = 0.15) -> bool:
    return abs(measured - truth) <= tol * truth


def test_single_slot_server_ttft_grows_with_concurrency(run_cli, tmp_path):
    ttft, tpot, out_tokens = 0.04, 0.01, 6
    with fake_openai_server(ttft_s=ttft, tpot_s=tpot, slots=1) as (url, _):
        code, res, err = _load(run_cli, url, "--concurrency", "1,2,4", "--requests", "8",
                               "--input-tokens", "16", "--output-tokens", str(out_tokens),
                               "--slo-ttft", "100ms", "--out", str(tmp_path))
    assert code == 0, err
    levels = res["levels"]
    p50 = [lv["ttft_s"]["p50"] for lv in levels]
    assert p50[0] < p50[1] < p50[2], p50
    assert _close(p50[0], ttft)
    e2e = ttft + (out_tokens - 1) * tpot  # a request waits for the ones ahead of it
    assert _close(p50[2], ttft + 3 * e2e, 0.3), p50[2]
    for lv in levels:
        assert lv["ok"] == lv["requests"] == 8 and not lv["cut_by_time_limit"]
        assert _close(lv["tpot_s"]["p50"], tpot)
        assert lv["ttft_s"]["p50"] <= lv["ttft_s"]["p90"] <= lv["ttft_s"]["p99"]
    assert levels[0]["slo_attainment"] == 1.0 and levels[2]["slo_attainment"] < 0.5
    assert levels[2]["goodput_rps"] < levels[2]["request_throughput_rps"]
    rows = [json.loads(x) for x in (tmp_path / "measurements.jsonl").read_text().splitlines()]
    assert sorted({r["concurrency"] for r in rows}) == [1, 2, 4] and len(rows) == 24
    assert len({point_key(r) for r in rows}) == 24  # unique keys across levels
    assert json.loads((tmp_path / "load.json").read_text())["runs"][0]["levels"] == levels


def test_batching_server_keeps_ttft(run_cli):
    with fake_openai_server(ttft_s=0.05, tpot_s=0.01, slots=64) as (url, _):
        code, res, err = _load(run_cli, url, "--concurrency", "1,4", "--requests", "8",
                               "--input-tokens", "16", "--output-tokens", "4")
    assert code == 0, err
    for lv in res["levels"]:  # the client adds no queueing of its own
        assert _close(lv["ttft_s"]["p50"], 0.05), lv["ttft_s"]


def test_lengths_file_and_time_bound(run_cli, tmp_path):
    lengths = tmp_path / "traces.jsonl"
    lengths.write_text('{"output_tokens": 3, "input_tokens": 8}\n{"output_tokens": 5}\n')
    with fake_openai_server(ttft_s=0.01, tpot_s=0.002) as (url, cfg):
        code, res, err = _load(run_cli, url, "--concurrency", "1", "--requests", "4",
                               "--lengths", str(lengths), "--input-tokens", "12")
        assert code == 0, err
        sent = [b["max_tokens"] for b in cfg.requests[1:]]  # [0] is the calibration request
        assert sent == [3, 5, 3, 5]
        code, res, err = _load(run_cli, url, "--concurrency", "2", "--requests", "1000",
                               "--input-tokens", "8", "--output-tokens", "2",
                               "--level-timeout", "300ms")
    assert code == 0, err
    (lv,) = res["levels"]
    assert lv["cut_by_time_limit"] and 0 < lv["requests"] < 1000


def test_failures_are_counted_and_rowed(run_cli, tmp_path):
    with fake_openai_server(fail_status=500) as (url, _):
        code, res, err = _load(run_cli, url, "--concurrency", "1,2", "--requests", "3",
                               "--out", str(tmp_path))
    assert code == 0, err
    assert [lv["failed"] for lv in res["levels"]] == [3, 3]
    assert "HTTP 500" in res["levels"][0]["errors"][0]
    rows = [json.loads(x) for x in (tmp_path / "measurements.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and {r["status"] for r in rows} == {"error"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = _load(run_cli, f"http://127.0.0.1:{port}/v1")
    assert code == 2 and "does not answer /v1/models" in err and "Traceback" not in err


@pytest.mark.parametrize("args,needle", [
    (("--concurrency", "0"), "concurrency"),
    (("--requests", "0"), "--requests"),
    (("--output-tokens", "0"), "--output-tokens"),
    (("--slo-ttft", "fast"), "fast"),
    (("--request-extra", "{bad"), "--request-extra must be a JSON object"),
])
def test_bad_input_is_one_line(run_cli, args, needle):
    code, _, err = _load(run_cli, "http://127.0.0.1:9/v1", *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def _rows(ttft1: float, a: float, tpot1: float, b: float) -> list[Measurement]:
    rows = []
    for c in (1, 2, 4, 8):
        for i in range(5):
            jitter = 1 + 0.01 * (i - 2)
            rows.append(Measurement(
                device="d", engine="openai", model=MODEL, quant="int4", input_tokens=64,
                output_tokens=16, batch=1, repeat=10 * c + i, concurrency=c,
                ttft_s=ttft1 * (1 + a * (c - 1)) * jitter, tpot_s=tpot1 * (1 + b * (c - 1)),
                flags=["load"]))
    return rows


def test_concurrency_fit_recovers_known_growth():
    (rec,) = fit_concurrency(_rows(0.2, 0.5, 0.02, 0.1)).values()
    assert rec["ttft"]["slope"] == pytest.approx(0.5, rel=0.05)
    assert rec["ttft"]["base_s"] == pytest.approx(0.2, rel=0.05)
    assert rec["tpot"]["slope"] == pytest.approx(0.1, rel=0.05)
    assert rec["ttft"]["cv_mape"] < 0.05 and rec["fitted_on"]["concurrency"] == [1, 8]
    ft, fs, _ = factors(rec, 4)
    assert ft == pytest.approx(2.5, rel=0.05) and fs == pytest.approx(1.3, rel=0.05)
    no_load = [r.model_copy(update={"flags": []}) for r in _rows(0.2, 0.5, 0.02, 0.1)]
    assert fit_concurrency(no_load) == {}  # sweep rows are not load rows


def test_concurrent_profile_scales_predictions():
    base = Profile.load("jetson-agx-orin-64gb")
    (rec,) = fit_concurrency(_rows(0.2, 0.5, 0.02, 0.1)).values()
    with_fit = Profile(base.device, [{"model": MODEL, "quant": "int4", "engine": "openai",
                                      "power_mode": None, "prefill": None, "decode": None,
                                      "memory": None, "power": None, "concurrency": rec}])
    one = with_fit.predict(MODEL, "int4", 256, 64)
    four = ConcurrentProfile(with_fit, 4).predict(MODEL, "int4", 256, 64)
    ft, fs, _ = factors(rec, 4)
    assert four.ttft_s.value == pytest.approx(one.ttft_s.value * ft)
    assert four.decode_s.value == pytest.approx(one.decode_s.value * fs)
    assert four.e2e_s.value == pytest.approx(four.ttft_s.value + four.decode_s.value)
    assert "concurrency 4" in four.ttft_s.note
    assert ConcurrentProfile(with_fit, 4).hash() != with_fit.hash()
    with pytest.raises(Exception, match="no concurrency fit"):
        ConcurrentProfile(base, 4)


def test_concurrency_column_is_backward_compatible():
    row = {"device": "d", "engine": "torch", "model": MODEL, "quant": "fp32",
           "input_tokens": 8, "output_tokens": 4, "batch": 1, "repeat": 0}
    m = Measurement.model_validate(row)
    assert m.concurrency == 1 and len(m.key) == 9  # sweep keys unchanged
    assert point_key({**row, "concurrency": 4})[-1] == 4


@pytest.mark.parametrize("args,needle", [
    (("--input-tokens", "30000", "--output-tokens", "4000"),
     "--input-tokens 30000 + --output-tokens 4000 = 34000 tokens exceeds qwen2.5-0.5b's "
     "context length of 32768; lower --output-tokens to at most 2768"),
    (("--input-tokens", "40000"), "lower --input-tokens below 32768"),
])
def test_lengths_beyond_the_models_context_are_refused(run_cli, args, needle):
    # refused before any request: the URL answers nothing
    code, _, err = _load(run_cli, "http://127.0.0.1:9/v1", *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_lengths_file_beyond_the_context_names_the_line(run_cli, tmp_path):
    lengths = tmp_path / "traces.jsonl"
    lengths.write_text('{"output_tokens": 3}\n\n{"output_tokens": 40000, "input_tokens": 8}\n')
    code, _, err = _load(run_cli, "http://127.0.0.1:9/v1", "--lengths", str(lengths))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"--lengths {lengths}:3: input_tokens 8 + output_tokens 40000" in err
    assert "context length of 32768" in err
    # --output-tokens replaces the file's outputs: then the lengths fit
    with fake_openai_server(ttft_s=0.01, tpot_s=0.002) as (url, _):
        code, _, err = _load(run_cli, url, "--concurrency", "1", "--requests", "2",
                             "--lengths", str(lengths), "--output-tokens", "2")
    assert code == 0, err


def test_the_servers_own_context_is_checked(run_cli):
    with fake_openai_server(ttft_s=0.01, tpot_s=0.002, max_model_len=2048) as (url, cfg):
        code, _, err = _load(run_cli, url, "--concurrency", "1", "--requests", "2",
                             "--input-tokens", "2000", "--output-tokens", "100")
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert ("exceeds the server's context length (max_model_len of fake-model) of 2048; "
                "lower --output-tokens to at most 48") in err
        assert "--max-model-len" in err
        assert not any("max_tokens" in r for r in cfg.requests)  # refused before sending
        code, _, err = _load(run_cli, url, "--concurrency", "1", "--requests", "2",
                             "--input-tokens", "16", "--output-tokens", "4")
    assert code == 0, err
