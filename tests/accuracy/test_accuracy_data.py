"""AccuracyData from traces, lm-eval samples and tables; synthetic truth; bad input; CLI."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.accuracy import load_accuracy
from edgeprof.accuracy._synth import DEFAULT_MODELS, generate, true_accuracy, write_jsonl
from edgeprof.errors import DataFormatError, UserInputError


def _write(tmp_path: Path, records: list[dict], name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _rec(q: str, s: int, tokens: int, correct: bool, answer: str | None = None,
         **extra) -> dict:
    r = {"question_id": q, "model": "dsr1-qwen-1.5b", "quant": "bf16", "sample": s,
         "output_tokens": tokens, "correct": correct, **extra}
    if answer is not None:
        r["answer"] = answer
    return r


# ----------------------------------------------------------------- synthetic truth
@given(seed=st.integers(0, 10_000), n=st.sampled_from([1, 3, 5, 8, 16]),
       budget=st.sampled_from([600, 1200, 2500, 100_000]))
@settings(max_examples=12, deadline=None, derandomize=True)
def test_synthetic_estimate_covers_closed_form(tmp_path_factory, seed, n, budget):
    model = DEFAULT_MODELS[2]
    records, truth = generate(questions=60, samples=16, seed=seed, models=(model,))
    path = tmp_path_factory.mktemp("s") / "t.jsonl"
    write_jsonl(records, path)
    est = load_accuracy(path).accuracy(model.name, "bf16", budget, n, level=0.99)
    assert est.provenance == "synthetic"
    assert est.lo <= true_accuracy(truth.p[model.name], model, budget, n) <= est.hi


def test_shipped_synthetic_file_is_small_and_labeled():
    data = load_accuracy("synthetic-traces")
    path = Path(data.source.split(" ")[0])
    assert path.stat().st_size < 2_000_000
    assert ("deepseek-r1-distill-qwen-14b", "bf16") in data.measured_pairs()
    assert ("qwen2.5-0.5b-scaled-4L", "int4") in data.pairs()
    assert data.default_input_tokens() is not None


# ----------------------------------------------------------------- budgets and semantics
def test_truncate_wrong_counts_long_samples_as_wrong(tmp_path):
    path = _write(tmp_path, [_rec("a", 0, 100, True, "1"), _rec("a", 1, 300, True, "1"),
                             _rec("b", 0, 50, True, "2"), _rec("b", 1, 50, False, "3")])
    data = load_accuracy(path)
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 1000, 1).value == pytest.approx(0.75)
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 200, 1).value == pytest.approx(0.5)
    # N=2 at budget 200: question a = one correct vote + one abstention -> 1; b = tie -> 0.5.
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 200, 2).value == pytest.approx(0.75)
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 200, 2, method="pass").value == 1.0


def test_forced_answer_uses_the_field_and_refuses_without_it(tmp_path):
    recs = [_rec("a", 0, 500, False, "9", forced_answer_correct=True),
            _rec("a", 1, 50, True, "1", forced_answer_correct=False)]
    data = load_accuracy(_write(tmp_path, recs))
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 100, 1, "forced-answer").value == 1.0
    assert data.accuracy("dsr1-qwen-1.5b", "bf16", 100, 1).value == 0.5
    bare = load_accuracy(_write(tmp_path, [_rec("a", 0, 500, True)], "bare.jsonl"))
    with pytest.raises(DataFormatError, match="forced_answer_correct"):
        bare.accuracy("dsr1-qwen-1.5b", "bf16", 100, 1, "forced-answer")


def test_missing_answers_policy_bounds_the_vote(tmp_path):
    # 2 correct, 3 wrong without answers: distinct wrongs lose to 2 correct votes more often.
    recs = [_rec("a", i, 10, i < 2) for i in range(5)]
    path = _write(tmp_path, recs)
    opt = load_accuracy(path).accuracy("dsr1-qwen-1.5b", "bf16", 100, 5)
    pes = load_accuracy(path, missing_answers="shared").accuracy("dsr1-qwen-1.5b", "bf16",
                                                                 100, 5)
    assert opt.value == 1.0 and pes.value == 0.0
    assert "optimistic" in (opt.note or "")


def test_length_quantile_matches_subset_enumeration(tmp_path):
    lengths = {"a": [10, 40, 25, 70], "b": [5, 90, 60, 30]}
    recs = [_rec(q, i, t, True, "1") for q, ls in lengths.items() for i, t in enumerate(ls)]
    data = load_accuracy(_write(tmp_path, recs))
    for n, budget in itertools.product((1, 2, 3), (50, 1000)):
        pooled = []
        for ls in lengths.values():
            subs = [min(budget, max(s)) for s in itertools.combinations(ls, n)]
            pooled += [(v, 1 / len(subs) / 2) for v in subs]
        _values, probs = data.length_distribution("dsr1-qwen-1.5b", "bf16", budget, n)
        assert probs.sum() == pytest.approx(1.0)
        for q in (0.25, 0.5, 0.9, 1.0):
            cum, want = 0.0, None
            for v, p in sorted(pooled):
                cum += p
                if cum >= q - 1e-12:
                    want = v
                    break
            assert data.length_quantile("dsr1-qwen-1.5b", "bf16", budget, n, q) == want


def test_derived_quant_over_synthetic_data_stays_synthetic_with_base_lengths():
    data = load_accuracy("synthetic-traces")
    m = "deepseek-r1-distill-qwen-1.5b"
    base = data.accuracy(m, "bf16", 2048, 4)
    int4 = data.accuracy(m, "int4", 2048, 4)
    assert base.provenance == "synthetic"
    assert int4.provenance == "synthetic" and "2411.02355" in (int4.note or "")
    assert "prior over synthetic" in (int4.note or "")
    assert int4.value < base.value and int4.lo < base.lo
    assert data.length_quantile(m, "int4", 2048, 4, 0.9) == data.length_quantile(
        m, "bf16", 2048, 4, 0.9)


def test_cached_calls_are_fast():
    data = load_accuracy("synthetic-traces")
    m = "deepseek-r1-distill-llama-8b"
    data.accuracy(m, "int8", 1500, 8)
    data.length_quantile(m, "int8", 1500, 8, 0.95)
    t0 = time.perf_counter()
    for _ in range(200):
        data.accuracy(m, "int8", 1500, 8)
        data.length_quantile(m, "int8", 1500, 8, 0.95)
    assert (time.perf_counter() - t0) / 400 < 1e-3


# ----------------------------------------------------------------- malformed input
@pytest.mark.parametrize("record, match", [
    ({"question_id": "a", "model": "m", "quant": "bf16", "sample": 0, "correct": True},
     "missing output_tokens"),
    ({"question_id": "a", "model": "m", "quant": "bf16", "sample": 0, "output_tokens": -3,
      "correct": True}, "≥ 0"),
    ({"question_id": "a", "model": "m", "quant": "bf16", "sample": 0, "output_tokens": 3,
      "correct": "maybe"}, "true/false"),
])
def test_malformed_records_are_refused(tmp_path, record, match):
    with pytest.raises(DataFormatError, match=match):
        load_accuracy(_write(tmp_path, [record]))


def test_duplicate_samples_and_broken_json(tmp_path):
    with pytest.raises(DataFormatError, match="twice"):
        load_accuracy(_write(tmp_path, [_rec("a", 0, 1, True), _rec("a", 0, 2, True)]))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question_id": "a",\n')
    with pytest.raises(DataFormatError, match="not valid JSON"):
        load_accuracy(bad)


def test_too_few_samples_is_an_error_not_a_number(tmp_path):
    data = load_accuracy(_write(tmp_path, [_rec("a", 0, 1, True), _rec("a", 1, 1, True),
                                           _rec("b", 0, 1, True)]))
    assert data.max_samples("dsr1-qwen-1.5b", "bf16") == 1
    with pytest.raises(UserInputError, match="only 1 samples"):
        data.accuracy("dsr1-qwen-1.5b", "bf16", 10, 2)
    with pytest.raises(UserInputError, match="only 1 samples"):
        data.length_quantile("dsr1-qwen-1.5b", "bf16", 10, 2, 0.5)


def test_unknown_pair_and_bad_arguments(tmp_path):
    data = load_accuracy(_write(tmp_path, [_rec("a", 0, 1, True)]))
    with pytest.raises(UserInputError, match="No accuracy data"):
        data.accuracy("qwen2.5-7b", "bf16", 10, 1)
    with pytest.raises(UserInputError, match="semantics"):
        data.accuracy("dsr1-qwen-1.5b", "bf16", 10, 1, "lenient")
    with pytest.raises(UserInputError, match="quantile"):
        data.length_quantile("dsr1-qwen-1.5b", "bf16", 10, 1, 0.0)


# ----------------------------------------------------------------- lm-eval and tables
def _lmeval_line(doc_id: int, filt: str, text: str, answer: str, ok: float) -> dict:
    return {"doc_id": doc_id, "doc": {"question": "?"}, "target": "4",
            "arguments": {"gen_args_0": {"arg_0": "q"}}, "resps": [[text]],
            "filtered_resps": [answer], "filter": filt, "metrics": ["exact_match"],
            "exact_match": ok, "doc_hash": "h", "prompt_hash": "p", "target_hash": "t"}


def test_lmeval_samples_folder_as_repeated_runs(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    for run, (ans, ok) in enumerate([("4", 1.0), ("5", 0.0), ("4", 1.0)]):
        lines = [_lmeval_line(0, f, "x" * 40, ans, ok) for f in ("strict-match",
                                                                   "flexible-extract")]
        _write(folder, lines, f"samples_gsm8k_2024-06-0{run + 1}T10-00-00.000000.jsonl")
    with pytest.raises(UserInputError, match="--model"):
        load_accuracy(folder)
    with pytest.raises(UserInputError, match="--filter"):
        load_accuracy(folder, model="qwen2.5-1.5b", quant="bf16")
    data = load_accuracy(folder, model="Qwen/Qwen2.5-1.5B", quant="bf16",
                         lm_eval_filter="strict-match")
    est = data.accuracy("qwen2.5-1.5b", "bf16", 100, 3)
    assert est.value == 1.0 and "estimated" in (est.note or "")
    assert data.length_quantile("qwen2.5-1.5b", "bf16", 100, 1, 1.0) == 10  # 40 chars / 4


def test_table_queries_and_errors(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("model,quant,budget,samples,accuracy,n_questions\n"
                   "dsr1-qwen-1.5b,bf16,4096,1,0.5,100\ndsr1-qwen-1.5b,bf16,4096,8,0.7,\n")
    data = load_accuracy(csv)
    assert data.budgets("deepseek-r1-distill-qwen-1.5b", "bf16") == [4096]
    e = data.accuracy("deepseek-r1-distill-qwen-1.5b", "bf16", 4096, 1)
    assert e.provenance == "imported" and e.lo < 0.5 < e.hi
    assert data.accuracy("deepseek-r1-distill-qwen-1.5b", "bf16", 4096, 8).lo == 0.7
    assert data.length_quantile("deepseek-r1-distill-qwen-1.5b", "bf16", 4096, 8, 0.5) == 4096
    with pytest.raises(UserInputError, match="no row"):
        data.accuracy("deepseek-r1-distill-qwen-1.5b", "bf16", 1024, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("model,quant,samples,accuracy\nm,bf16,1,0.5\n")
    with pytest.raises(DataFormatError, match="budget"):
        load_accuracy(bad)
    pct = tmp_path / "pct.csv"
    pct.write_text("model,quant,budget,samples,accuracy\nm,bf16,10,1,83.9\n")
    with pytest.raises(DataFormatError, match="fraction"):
        load_accuracy(pct)


def test_published_table_defaults_to_math500_and_refuses_unknown_benchmarks():
    data = load_accuracy("published-table")
    assert data.benchmark == "MATH-500"
    est = data.accuracy("deepseek-r1-distill-qwen-14b", "bf16", 32768, 1)
    assert est.provenance == "imported" and "2501.12948" in (est.note or "")
    with pytest.raises(UserInputError, match="No rows for benchmark"):
        load_accuracy("published-table", benchmark="NoSuchBench")
    # a user's own table is read as a plain table, exact cells, never the shipped data
    assert load_accuracy("published-table", benchmark="AIME 2024").benchmark == "AIME 2024"


# ----------------------------------------------------------------- CLI
def test_cli_json_and_errors(run_cli, tmp_path):
    code, out, _ = run_cli("accuracy", "synthetic-traces", "--budget", "1024,2048",
                           "--samples", "1,4", "--model", "dsr1-llama-8b", "--json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert len(rows) == 4 and rows[0]["majority"]["provenance"] == "synthetic"
    assert set(rows[0]["length_tokens"]) == {"p50", "p90", "p95", "p99"}
    code, _, err = run_cli("accuracy", "synthetic-traces", "--budget", "0")
    assert code == 2 and err.count("\n") == 1 and err.startswith("Error:")
    code, _, err = run_cli("accuracy", str(tmp_path / "nope.jsonl"), "--budget", "10")
    assert code == 2 and "does not exist" in err
    code, _, err = run_cli("accuracy", "synth")
    assert code == 2 and "--out" in err


def test_cli_synth_writes_loadable_traces(run_cli, tmp_path):
    out = tmp_path / "s.jsonl"
    code, _, _ = run_cli("accuracy", "synth", "--out", str(out), "--questions", "3",
                         "--per-question", "2", "--seed", "5")
    assert code == 0
    data = load_accuracy(out)
    assert len(data.measured_pairs()) == len(DEFAULT_MODELS)
    assert np.isfinite(data.accuracy("qwen2.5-0.5b-scaled-4L", "bf16", 500, 2).value)
