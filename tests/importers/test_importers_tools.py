"""Tool-output importers on recorded samples of each tool's format (tests/fixtures/importers)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.importers._edge_llm import edge_llm_rows
from edgeprof.importers._genai_perf import genai_perf_rows
from edgeprof.importers._llama_bench import gguf_quant, llama_bench_rows
from edgeprof.importers._tool import ImportOptions
from edgeprof.importers._vllm_bench import vllm_bench_rows
from edgeprof.table import read_measurements, read_run_conditions

FIX = Path(__file__).parents[1] / "fixtures" / "importers"
NX = ImportOptions(device="jetson-orin-nx-16gb")


def _raw(name: str) -> list[dict]:
    return json.loads((FIX / name).read_text())


def _by_test(rows, test: str):
    return [r for r in rows if r.model_dump()["llama_bench_test"] == test]


# ------------------------------------------------------------------------ llama-bench
def test_llama_bench_json_maps_pp_to_ttft_and_tg_to_decode():
    raw = {(r["n_prompt"], r["n_gen"], r["n_depth"]): r for r in _raw("llama_bench.json")}
    result = llama_bench_rows(FIX / "llama_bench.json", NX)
    rows = result.rows
    assert len(rows) == sum(len(r["samples_ns"]) for r in raw.values())  # every repetition
    assert {r.model for r in rows} == {"qwen2.5-1.5b"} and {r.quant for r in rows} == {"int4"}
    assert {r.engine for r in rows} == {"llama.cpp"} and {r.batch for r in rows} == {1}
    assert result.versions == {"8cf427ff (5163)"}
    pp512 = _by_test(rows, "pp512")
    assert [r.ttft_s for r in pp512] == [s / 1e9 for s in raw[(512, 0, 0)]["samples_ns"]]
    assert all(r.input_tokens == 512 and r.output_tokens == 1 for r in pp512)
    tg = _by_test(rows, "tg128")
    samples = raw[(0, 128, 0)]["samples_ns"]
    assert [r.decode_s for r in tg] == [s / 1e9 for s in samples]
    assert tg[0].tbt_s == pytest.approx(samples[0] / 1e9 / 128)
    assert all(r.output_tokens == 129 and r.ttft_s is None for r in tg)
    deep = _by_test(rows, "tg128 @ d1024")
    assert {r.input_tokens for r in deep} == {1024}  # decode at context 1024
    assert deep[0].tbt_s > tg[0].tbt_s  # the fixture's deeper context decodes slower
    assert [r.repeat for r in pp512] == list(range(len(pp512)))


def test_llama_bench_formats_agree(tmp_path):
    """JSON, JSONL and CSV of the same records give the same times (CSV: the mean only)."""
    json_rows = llama_bench_rows(FIX / "llama_bench.json", NX).rows
    jsonl_rows = llama_bench_rows(FIX / "llama_bench.jsonl", NX).rows
    csv_rows = llama_bench_rows(FIX / "llama_bench.csv", NX).rows
    assert [r.ttft_s for r in _by_test(jsonl_rows, "pp512")] == [
        r.ttft_s for r in _by_test(json_rows, "pp512")]
    (pp_csv,) = _by_test(csv_rows, "pp512")
    mean = statistics.mean(r.ttft_s for r in _by_test(json_rows, "pp512"))
    assert pp_csv.ttft_s == pytest.approx(mean, abs=1e-9)
    assert pp_csv.model_dump()["stddev_s"] > 0
    assert {r.model_dump()["tool_format"] for r in csv_rows} == {"csv"}


def test_llama_bench_markdown_tests_and_depths():
    opts = ImportOptions(device="jetson-orin-nx-16gb", model="qwen2.5-1.5b")
    result = llama_bench_rows(FIX / "llama_bench.md", opts)
    rows = {r.model_dump()["llama_bench_test"]: r for r in result.rows}
    assert rows["pp512"].ttft_s == pytest.approx(512 / 1221.63)
    assert rows["tg128"].decode_s == pytest.approx(128 / 28.12)
    assert rows["tg128 @ d512"].input_tokens == 512
    at_depth = rows["pp512 @ d512"]
    assert at_depth.ttft_s is None  # not the TTFT of any prompt
    assert at_depth.model_dump()["prefill_at_depth_s"] == pytest.approx(512 / 1102.40)
    pg = rows["pp512+tg128"]
    assert pg.e2e_s == pytest.approx(640 / 141.95) and pg.output_tokens == 129
    assert rows["pp512"].quant == "int4"  # from "Q4_K - Medium"
    assert result.versions == {"unrecorded"}
    assert any("carries no build" in a for a in result.assumptions)


def test_llama_bench_folder_skips_other_files_and_reads_md_build_line(tmp_path):
    opts = ImportOptions(device="jetson-orin-nx-16gb", model="qwen2.5-1.5b")
    result = llama_bench_rows(FIX, opts)  # the fixtures folder: also a README and other JSON
    assert sorted(Path(f).name for f in result.files) == [
        "llama_bench.csv", "llama_bench.json", "llama_bench.jsonl", "llama_bench.md"]
    assert any("README.md" in a for a in result.assumptions)
    md = tmp_path / "bench.md"
    md.write_text((FIX / "llama_bench.md").read_text() + "\nbuild: 8cf427ff (5163)\n")
    assert llama_bench_rows(md, opts).versions == {"8cf427ff (5163)"}


@settings(max_examples=40, deadline=None)
@given(n_prompt=st.integers(0, 8192), n_gen=st.integers(0, 1024), depth=st.integers(0, 4096),
       seconds=st.floats(1e-4, 100.0))
def test_llama_bench_mapping_properties(tmp_path_factory, n_prompt, n_gen, depth, seconds):
    """Whatever the test shape, one timed span lands in exactly one time column, unchanged."""
    if n_prompt == n_gen == 0:
        return
    rec = {**_raw("llama_bench.json")[0], "n_prompt": n_prompt, "n_gen": n_gen,
           "n_depth": depth, "avg_ns": seconds * 1e9}
    rec.pop("samples_ns")
    f = tmp_path_factory.mktemp("lb") / "b.json"
    f.write_text(json.dumps([rec]))
    (row,) = llama_bench_rows(f, NX).rows
    d = row.model_dump()
    spans = {k: d[k] for k in ("ttft_s", "decode_s", "e2e_s", "prefill_at_depth_s")
             if d.get(k)}
    assert pytest.approx(seconds) in spans.values()
    if n_gen and not n_prompt:
        assert row.output_tokens == n_gen + 1 and row.tbt_s == pytest.approx(seconds / n_gen)
        assert row.input_tokens == max(depth, 1)
    if row.ttft_s is not None:
        assert n_gen == 0 and depth == 0 and row.input_tokens == n_prompt


@pytest.mark.parametrize(("text", "quant"), [
    ("models/Qwen2.5-7B-Instruct-Q4_K_M.gguf", "int4"), ("qwen2 7B Q4_K - Medium", "int4"),
    ("llama 7B mostly Q4_0", "int4"), ("Llama-3.2-1B-Q8_0.gguf", "int8"),
    ("Qwen3-8B-BF16.gguf", "bf16"), ("phi-4-mini-f16.gguf", "fp16"),
    ("qwen2 7B Q5_K - Medium", None),
])
def test_gguf_types(text, quant):
    assert gguf_quant(text)[0] == quant


def test_llama_bench_cli_writes_a_table_fit_reads(run_cli, tmp_path):
    out = tmp_path / "lb"
    code, stdout, _ = run_cli("import", "llama-bench", str(FIX / "llama_bench.json"),
                              "--device", "jetson-orin-nx-16gb", "--out", str(out), "--json")
    assert code == 0 and json.loads(stdout)["rows"] == 30
    rows = read_measurements(out)
    assert {r.source for r in rows} == {"imported:llama-bench"}
    run = read_run_conditions(out)
    assert run is not None and run.model_dump()["tool_version"] == "8cf427ff (5163)"
    assert run.device_spec and run.device_spec["name"] == "jetson-orin-nx-16gb"
    code, stdout, err = run_cli("fit", str(out), "--out", str(tmp_path / "p.yaml"), "--json")
    assert code == 0, err
    (fit,) = json.loads(stdout)["fits"]
    assert fit["engine"] == "llama.cpp" and fit["prefill_cv_mape"] < 0.05
    assert fit["decode_cv_mape"] < 0.05


# ------------------------------------------------------------------------ vllm bench serve
L40S = ImportOptions(device="l40s", quant="bf16")


def test_vllm_summary_row_takes_medians_and_keeps_every_statistic():
    raw = _raw("vllm_serve_summary.json")
    (row,) = vllm_bench_rows(FIX / "vllm_serve_summary.json", L40S).rows
    assert row.model == "qwen3-8b" and row.engine == "vllm" and row.batch == 1
    assert row.input_tokens == raw["total_input_tokens"] // raw["completed"]
    assert row.ttft_s == raw["median_ttft_ms"] / 1e3
    assert row.tbt_s == raw["median_itl_ms"] / 1e3
    assert row.decode_s == pytest.approx(raw["median_tpot_ms"] / 1e3 * (row.output_tokens - 1))
    assert row.e2e_s == raw["median_e2el_ms"] / 1e3
    stats = row.model_dump()["summary_ms"]
    assert stats["ttft"]["p90"] == raw["p90_ttft_ms"] and stats["itl"]["mean"] == raw[
        "mean_itl_ms"]
    assert row.model_dump()["tool_version"] == "unrecorded"


def test_a_result_without_a_tool_version_says_so_and_the_flag_fills_it():
    result = vllm_bench_rows(FIX / "vllm_serve_summary.json", L40S)
    missing = "the result file names no vLLM version (pass --tool-version)"
    assert result.assumptions.count(missing) == 1
    named = vllm_bench_rows(FIX / "vllm_serve_summary.json",
                            ImportOptions(device="l40s", quant="bf16", tool_version="0.9.1"))
    assert missing not in named.assumptions and named.versions == {"0.9.1"}


def test_vllm_appended_results_fit(tmp_path, run_cli):
    out = tmp_path / "v"
    code, _, err = run_cli("import", "vllm-bench", str(FIX / "vllm_serve_append.json"),
                           "--device", "l40s", "--quant", "bf16", "--tool-version", "0.9.1",
                           "--out", str(out))
    assert code == 0, err
    rows = read_measurements(out)
    assert [r.input_tokens for r in rows] == [256, 1024, 2048]
    assert {r.model_dump()["tool_version"] for r in rows} == {"0.9.1"}
    code, _, err = run_cli("fit", str(out), "--out", str(tmp_path / "v.yaml"))
    assert code == 0, err


def test_vllm_detailed_file_gives_one_row_per_request():
    raw = _raw("vllm_serve_detailed.json")
    rows = vllm_bench_rows(FIX / "vllm_serve_detailed.json", L40S).rows
    assert [r.input_tokens for r in rows] == raw["input_lens"]
    assert [r.ttft_s for r in rows] == raw["ttfts"]
    assert rows[1].token_times_s == raw["itls"][1]
    assert rows[1].decode_s == pytest.approx(sum(raw["itls"][1]))


# ------------------------------------------------------------------------ GenAI-Perf / AIPerf
def test_genai_perf_export_p50_and_concurrency_from_artifact_folder():
    opts = ImportOptions(device="h100-sxm", quant="bf16", engine="vllm")
    result = genai_perf_rows(FIX / "genai_perf", opts)
    (row,) = result.rows
    raw = json.loads(next((FIX / "genai_perf").rglob("*.json")).read_text())
    assert result.tool == "genai-perf" and row.model == "llama-3.1-8b"
    assert row.batch == 1 and row.model_dump()["batch_from"].startswith("artifact folder")
    assert row.ttft_s == pytest.approx(raw["time_to_first_token"]["p50"] / 1e3)
    assert row.tbt_s == pytest.approx(raw["inter_token_latency"]["p50"] / 1e3)
    assert row.input_tokens == 550 and row.output_tokens == 256
    (avg,) = genai_perf_rows(FIX / "genai_perf", opts, statistic="avg").rows
    assert avg.ttft_s == pytest.approx(raw["time_to_first_token"]["avg"] / 1e3)


def test_aiperf_export_concurrency_and_power():
    opts = ImportOptions(device="l40s", quant="fp8", engine="vllm")
    result = genai_perf_rows(FIX / "aiperf" / "profile_export_aiperf.json", opts)
    (row,) = result.rows
    assert result.tool == "aiperf" and row.source == "imported:aiperf"
    assert row.batch == 8 and row.model == "qwen3-8b"
    assert row.avg_power_w == 287.4
    assert row.e2e_s == pytest.approx(2744.9 / 1e3)


def test_genai_perf_folder_of_runs_fits(tmp_path, run_cli):
    """One export per input length, as a sweep script leaves them, is enough to fit."""
    raw = json.loads(next((FIX / "genai_perf").rglob("*.json")).read_text())
    for isl, ttft in ((128, 21.0), (550, 71.4), (2048, 251.0)):
        run = json.loads(json.dumps(raw))
        run["input_sequence_length"].update(avg=float(isl), p50=float(isl))
        run["time_to_first_token"].update(avg=ttft * 1.01, p50=ttft)
        folder = tmp_path / "art" / f"llama-3.1-8b-instruct-openai-chat-concurrency1-isl{isl}"
        folder.mkdir(parents=True)
        (folder / "profile_export_genai_perf.json").write_text(json.dumps(run))
    out = tmp_path / "gp"
    code, _, err = run_cli("import", "genai-perf", str(tmp_path / "art"), "-d", "h100-sxm",
                           "-q", "bf16", "--engine", "trtllm", "-o", str(out))
    assert code == 0, err
    assert sorted(r.input_tokens for r in read_measurements(out)) == [128, 550, 2048]
    code, _, err = run_cli("fit", str(out), "--out", str(tmp_path / "gp.yaml"))
    assert code == 0, err


def test_genai_perf_seconds_unit(tmp_path):
    raw = json.loads(next((FIX / "genai_perf").rglob("*.json")).read_text())
    raw["time_to_first_token"] = {"unit": "s", "avg": 0.08, "p50": 0.07}
    f = tmp_path / "profile_export_genai_perf.json"
    f.write_text(json.dumps(raw))
    opts = ImportOptions(device="h100-sxm", quant="bf16", engine="vllm", batch=2)
    (row,) = genai_perf_rows(f, opts).rows
    assert row.ttft_s == 0.07 and row.batch == 2


# ------------------------------------------------------------------------ TensorRT Edge-LLM
def test_edge_llm_profile():
    opts = ImportOptions(device="jetson-orin-nx-16gb", model="qwen3-4b", quant="int4")
    (row,) = edge_llm_rows(FIX / "edge_llm_profile.json", opts).rows
    raw = _raw("edge_llm_profile.json")
    assert row.engine == "trtllm" and row.source == "imported:tensorrt-edge-llm"
    assert row.input_tokens == 512 and row.output_tokens == 128
    assert row.ttft_s == raw["prefill"]["average_time_per_run_ms"] / 1e3
    assert row.decode_s == pytest.approx(127 * raw["generation"]["average_time_per_token_ms"]
                                         / 1e3)
    assert row.peak_mem_bytes == raw["peak_unified_memory_bytes"]


def test_edge_llm_bench_e2e_csvs_import_and_fit(run_cli, tmp_path):
    opts = ImportOptions(device="jetson-orin-nx-16gb", model="qwen3-4b", quant="int4")
    result = edge_llm_rows(FIX / "edge_llm_bench", opts)
    assert not any("layer_" in f for f in result.files)  # layer CSVs are not E2E timings
    pre = sorted((r for r in result.rows if r.phase == "prefill"), key=lambda r: r.input_tokens)
    dec = sorted((r for r in result.rows if r.phase == "decode"), key=lambda r: r.input_tokens)
    assert [r.input_tokens for r in pre] == [128, 512, 2048]
    assert pre[1].ttft_s == pytest.approx(0.37841)
    assert [(r.input_tokens, r.output_tokens) for r in dec] == [(128, 2), (512, 128),
                                                                 (2048, 128)]
    assert dec[0].tbt_s == pytest.approx(0.01395)  # osl 1: one timed step
    assert dec[1].tbt_s == pytest.approx(1.78816 / 127)  # osl 128: the whole sequence
    out = tmp_path / "el"
    code, _, err = run_cli("import", "edge-llm", str(FIX / "edge_llm_bench"), "-d",
                           "jetson-orin-nx-16gb", "-m", "qwen3-4b", "-q", "int4", "-o", str(out))
    assert code == 0, err
    code, _, err = run_cli("fit", str(out), "--out", str(tmp_path / "el.yaml"))
    assert code == 0, err


# ------------------------------------------------------------------------ bad input
def _edit(src: str, tmp_path: Path, change, name: str | None = None) -> Path:
    text = (FIX / src).read_text()
    data = change(json.loads(text))
    out = tmp_path / (name or Path(src).name)
    out.write_text(data if isinstance(data, str) else json.dumps(data))
    return out


def _drop(key):
    def change(d):
        if isinstance(d, list):
            d[0].pop(key)
        else:
            d.pop(key)
        return d
    return change


def _set(key, value):
    def change(d):
        (d[0] if isinstance(d, list) else d)[key] = value
        return d
    return change


BAD = [
    ("llama-bench", "llama_bench.json", _drop("n_gen"), [], "'n_gen'"),
    ("llama-bench", "llama_bench.json", _set("avg_ns", "fast"), [], "'avg_ns'"),
    ("llama-bench", "llama_bench.json", _set("samples_ns", [1, -2]), [], "'samples_ns'"),
    ("llama-bench", "llama_bench.json", lambda d: json.dumps(d)[:-9], [], "not valid JSON"),
    ("vllm-bench", "vllm_serve_summary.json", _drop("completed"), ["-q", "bf16"],
     "'completed'"),
    ("vllm-bench", "vllm_serve_detailed.json", _set("itls", [[0.1]]), ["-q", "bf16"],
     "'itls'"),
    ("vllm-bench", "vllm_serve_summary.json", _drop("max_concurrency"), [], "--quant"),
    ("edge-llm", "edge_llm_profile.json", _drop("generation"), ["-m", "qwen3-4b", "-q", "int4"],
     "'generation'"),
    ("edge-llm", "edge_llm_profile.json", lambda d: d, ["-q", "int4"], "--model"),
]


def test_edge_llm_bench_bad_csv(run_cli, tmp_path):
    f = tmp_path / "e2e_prefill_inputlen512.csv"
    f.write_text("mode,batch_size,osl,e2e_time_ms,per_token_ms,throughput_tps,input_len\n"
                 "prefill,1,1,n/a,0.7,1353.0,512\n")
    code, _, err = run_cli("import", "edge-llm", str(f), "-d", "l40s", "-m", "qwen3-4b", "-q",
                           "int4", "-o", str(tmp_path / "o"))
    assert code == 2 and "'e2e_time_ms'" in err and err.strip().count("\n") == 0


@pytest.mark.parametrize(("kind", "src", "change", "args", "needle"), BAD,
                         ids=[f"{b[0]}-{b[4]}" for b in BAD])
def test_malformed_file_one_line_naming_the_field(run_cli, tmp_path, kind, src, change, args,
                                                  needle):
    path = _edit(src, tmp_path, change)
    code, out, err = run_cli("import", kind, str(path), "--device", "l40s", *args,
                             "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and err.strip().count("\n") == 0, err
    assert needle in err
    assert not (tmp_path / "o" / "measurements.jsonl").exists()


def test_markdown_bad_cell_and_genai_perf_bad_unit(run_cli, tmp_path):
    md = tmp_path / "bench.md"
    md.write_text((FIX / "llama_bench.md").read_text().replace("28.12 ± 0.05", "fast"))
    code, _, err = run_cli("import", "llama-bench", str(md), "-d", "l40s", "-m", "qwen2.5-1.5b",
                           "-o", str(tmp_path / "o"))
    assert code == 2 and "'t/s'" in err and err.strip().count("\n") == 0
    src = next((FIX / "genai_perf").rglob("*.json"))
    bad = json.loads(src.read_text())
    bad["time_to_first_token"]["unit"] = "fortnights"
    f = tmp_path / "profile_export_genai_perf.json"
    f.write_text(json.dumps(bad))
    code, _, err = run_cli("import", "genai-perf", str(f), "-d", "l40s", "-q", "bf16",
                           "--engine", "vllm", "--batch", "1", "-o", str(tmp_path / "g"))
    assert code == 2 and "'time_to_first_token'" in err and "unit" in err


def test_cli_option_errors(run_cli, tmp_path):
    lb = str(FIX / "llama_bench.json")
    code, _, err = run_cli("import", "llama-bench", lb, "--out", str(tmp_path / "a"))
    assert code == 2 and "--device" in err
    code, _, err = run_cli("import", "llama-bench", lb, "-d", "no-such-board", "-o",
                           str(tmp_path / "b"))
    assert code == 2 and "Unknown device" in err
    code, _, err = run_cli("import", "edgereasoning", str(tmp_path), "-d", "l40s", "-o",
                           str(tmp_path / "c"))
    assert code == 2 and "takes no --device" in err
    code, _, err = run_cli("import", "llama-bench", lb, "-d", "jetson-orin-nx-16gb",
                           "--power-mode", "TURBO", "-o", str(tmp_path / "p"))
    assert code == 2 and "no power mode 'TURBO'" in err
    code, _, err = run_cli("import", "no-such-tool", lb, "-o", str(tmp_path / "d"))
    assert code == 2 and "llama-bench" in err
    code, _, err = run_cli("import", "genai-perf", str(tmp_path), "-d", "l40s", "-o",
                           str(tmp_path / "e"))
    assert code == 2 and "holds no" in err
