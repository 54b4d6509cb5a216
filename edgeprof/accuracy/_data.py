"""``load_accuracy`` and the :class:`AccuracyData` the search queries (see CONTRACTS.md)."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np

from edgeprof.accuracy._bootstrap import bootstrap_mean_ci
from edgeprof.accuracy._lmeval import is_lmeval_record, read_lmeval
from edgeprof.accuracy._priors import BASE_QUANTS, QUANT_PRIORS, QuantPrior
from edgeprof.accuracy._table import TableRow, read_table, wilson_interval
from edgeprof.accuracy._traces import TraceSet, build_trace_set, read_jsonl, read_traces
from edgeprof.accuracy._vote import max_rank_weights, pass_at_n, signatures, vote_from_counts
from edgeprof.catalog import canonical_name
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.estimates import Estimate, Provenance

Semantics = Literal["truncate-wrong", "forced-answer"]
Method = Literal["majority", "pass"]
SEMANTICS = ("truncate-wrong", "forced-answer")
METHODS = ("majority", "pass")
MISSING_ANSWERS = ("distinct", "shared")

#: Shipped data sets, usable in place of a path.
BUILTIN = {
    "synthetic-traces": "synthetic_traces.jsonl",
    "published-table": "published_accuracy.csv",
}


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("edgeprof") / "data" / "accuracy" / BUILTIN[name]))


def _check(budget: int, samples: int) -> None:
    if int(budget) < 1:
        raise UserInputError(f"The budget must be ≥ 1 token; got {budget}.")
    if int(samples) < 1:
        raise UserInputError(f"samples must be ≥ 1; got {samples}.")


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise UserInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")
    return value


class AccuracyData:
    """Accuracy and output-length queries for (model, quant, budget, samples).

    Formats with no data of their own are derived from the same model's 16-bit data with a
    published recovery ratio (:mod:`edgeprof.accuracy._priors`) and labeled ``prior`` —
    ``synthetic`` when the 16-bit data under it is synthetic.
    """

    kind = "abstract"

    def __init__(self, source: str) -> None:
        self.source = source
        self._cache: dict[tuple, Estimate] = {}

    # ---------------------------------------------------------------- what backends provide
    def _measured(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _estimate(self, model: str, quant: str, budget: int, samples: int, semantics: str,
                  method: str, level: float) -> Estimate:
        raise NotImplementedError

    def _max_samples(self, model: str, quant: str) -> int:
        raise NotImplementedError

    def _budgets(self, model: str, quant: str) -> list[int] | None:
        return None

    def _cells(self, model: str, quant: str) -> set[tuple[int, int]] | None:
        return None

    def _distribution(self, model: str, quant: str, samples: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
        raise NotImplementedError

    # ---------------------------------------------------------------- resolution
    def _derived(self) -> dict[tuple[str, str], tuple[str, QuantPrior]]:
        measured = set(self._measured())
        out: dict[tuple[str, str], tuple[str, QuantPrior]] = {}
        for model in sorted({m for m, _ in measured}):
            base = next((q for q in BASE_QUANTS if (model, q) in measured), None)
            if base is None:
                continue
            for quant, prior in QUANT_PRIORS.items():
                if (model, quant) not in measured:
                    out[(model, quant)] = (base, prior)
        return out

    def _resolve(self, model: str, quant: str) -> tuple[str, str, QuantPrior | None]:
        """(model, quant whose data to use, prior or None) for a query (memoized)."""
        memo = self.__dict__.setdefault("_resolved", {})
        if (model, quant) not in memo:
            memo[(model, quant)] = self._resolve_uncached(model, quant)
        return memo[(model, quant)]

    def _resolve_uncached(self, model: str, quant: str) -> tuple[str, str, QuantPrior | None]:
        key = (canonical_name(model), quant.strip().lower())
        if key in set(self._measured()):
            return key[0], key[1], None
        derived = self._derived()
        if key in derived:
            base, prior = derived[key]
            return key[0], base, prior
        have = ", ".join(f"{m}/{q}" for m, q in self.pairs()[:12])
        raise UserInputError(f"No accuracy data for {key[0]} / {key[1]} in {self.source}; it "
                             f"covers {have}{' …' if len(self.pairs()) > 12 else ''}.")

    # ---------------------------------------------------------------- the contract
    def pairs(self) -> list[tuple[str, str]]:
        """(model, quant) covered, including formats derived as ``prior``."""
        return sorted(set(self._measured()) | set(self._derived()))

    def measured_pairs(self) -> list[tuple[str, str]]:
        """(model, quant) backed by data (no derived formats)."""
        return sorted(self._measured())

    def budgets(self, model: str, quant: str) -> list[int] | None:
        m, q, _ = self._resolve(model, quant)
        return self._budgets(m, q)

    def max_samples(self, model: str, quant: str) -> int:
        m, q, _ = self._resolve(model, quant)
        return self._max_samples(m, q)

    def cells(self, model: str, quant: str) -> set[tuple[int, int]] | None:
        """(budget, samples) the data answers for majority vote: a table's own rows;
        None for traces (any budget, any N up to ``max_samples``)."""
        m, q, _ = self._resolve(model, quant)
        return self._cells(m, q)

    def accuracy(self, model: str, quant: str, budget: int, samples: int,
                 semantics: str = "truncate-wrong", *, method: str = "majority",
                 level: float = 0.9) -> Estimate:
        """Majority-vote (or pass@N with ``method="pass"``) accuracy with its interval."""
        _check(budget, samples)
        _choice(semantics, SEMANTICS, "semantics")
        _choice(method, METHODS, "method")
        m, q, prior = self._resolve(model, quant)
        key = (m, q, int(budget), int(samples), semantics, method, level)
        est = self._cache.get(key)
        if est is None:
            est = self._estimate(m, q, int(budget), int(samples), semantics, method, level)
            self._cache[key] = est
        if prior is None:
            return est
        # A prior over synthetic data is still synthetic; over imported data it is a prior.
        label = (Provenance.SYNTHETIC if est.provenance == Provenance.SYNTHETIC
                 else Provenance.PRIOR)
        return Estimate(
            value=est.value * prior.recovery, lo=est.lo * prior.lo,
            hi=min(1.0, est.hi * prior.hi), provenance=label, level=est.level,
            note=f"{prior.quant} derived (prior over {est.provenance} data) from {q} × recovery "
                 f"{prior.recovery} [{prior.lo}, {prior.hi}]: {prior.summary}. Source: "
                 f"{prior.source}")

    def length_distribution(self, model: str, quant: str, budget: int,
                            samples: int) -> tuple[np.ndarray, np.ndarray]:
        """(tokens, probabilities): min(budget, longest of ``samples`` samples), pooled over
        questions with equal weight. A derived format uses its base format's lengths."""
        _check(budget, samples)
        m, q, _ = self._resolve(model, quant)
        values, cdf = self._distribution(m, q, int(samples))
        probs = np.diff(cdf, prepend=0.0)
        capped = np.minimum(values, int(budget))
        uniq, inv = np.unique(capped, return_inverse=True)
        return uniq.astype(float), np.bincount(inv, weights=probs)

    def length_quantile(self, model: str, quant: str, budget: int, samples: int,
                        q: float) -> float:
        """Tokens of the longest of ``samples`` samples, capped at ``budget``, at quantile q."""
        _check(budget, samples)
        if not 0.0 < q <= 1.0:
            raise UserInputError(f"The quantile must be in (0, 1]; got {q}.")
        m, quant_, _ = self._resolve(model, quant)
        values, cdf = self._distribution(m, quant_, int(samples))
        idx = min(int(np.searchsorted(cdf, q - 1e-12, side="left")), values.size - 1)
        return float(min(values[idx], int(budget)))

    def default_input_tokens(self, model: str | None = None) -> int | None:
        return None


class TraceAccuracy(AccuracyData):
    """Accuracy from per-sample traces (edgeprof traces or lm-eval samples)."""

    kind = "traces"

    def __init__(self, sets: dict[tuple[str, str], TraceSet], source: str, provenance: str,
                 missing_answers: str = "distinct") -> None:
        super().__init__(source)
        self.sets = sets
        self.provenance = provenance
        self.missing_answers = _choice(missing_answers, MISSING_ANSWERS, "missing_answers")
        self._dist: dict[tuple[str, str, int], tuple[np.ndarray, np.ndarray]] = {}

    def _measured(self) -> list[tuple[str, str]]:
        return list(self.sets)

    def _max_samples(self, model: str, quant: str) -> int:
        return int(self.sets[(model, quant)].samples_per_question.min())

    def _need(self, ts: TraceSet, model: str, quant: str, samples: int) -> None:
        k_min = int(ts.samples_per_question.min())
        if samples > k_min:
            short = ts.questions[int(np.argmin(ts.samples_per_question))]
            raise UserInputError(
                f"{model}/{quant}: question {short!r} has only {k_min} samples, fewer than "
                f"--samples {samples}; use --samples ≤ {k_min} or record more samples.")

    def per_question(self, model: str, quant: str, budget: int, samples: int,
                     semantics: str = "truncate-wrong", method: str = "majority") -> np.ndarray:
        """Unbiased accuracy of each question (exact over all size-N subsets of its samples)."""
        ts = self.sets[(model, quant)]
        self._need(ts, model, quant, samples)
        classes = ts.classes(budget, semantics, self.missing_answers)
        if semantics == "forced-answer":
            lacking = int(np.count_nonzero((ts.lengths > budget) & (ts.forced < 0)))
            if lacking:
                raise DataFormatError(
                    f"{model}/{quant}: {lacking} samples exceed budget {budget} but have no "
                    "forced_answer_correct; add the field or use --semantics truncate-wrong.")
        off = ts.offsets
        if method == "pass":
            k = np.diff(off)
            c = np.add.reduceat((classes == 0).astype(np.int64), off[:-1])
            return np.array([pass_at_n(int(a), int(b), samples) for a, b in zip(k, c,
                                                                                  strict=True)])
        return np.array([vote_from_counts(*sig, samples) for sig in signatures(classes, off)])

    def _estimate(self, model: str, quant: str, budget: int, samples: int, semantics: str,
                  method: str, level: float) -> Estimate:
        ts = self.sets[(model, quant)]
        # Every budget at or above the longest sample gives the same answer: share the cache.
        eff = min(budget, int(ts.lengths.max()))
        if eff != budget:
            return self.accuracy(model, quant, eff, samples, semantics, method=method,
                                 level=level)
        values = self.per_question(model, quant, budget, samples, semantics, method)
        lo, hi = bootstrap_mean_ci(values, level)
        notes = [f"{'majority vote' if method == 'majority' else 'pass@N'} over "
                 f"{len(ts.questions)} questions, exact over all size-{samples} subsets of "
                 f"{int(ts.samples_per_question.min())}-{int(ts.samples_per_question.max())} "
                 f"samples; {semantics}; bootstrap interval over questions"]
        if method == "majority" and not ts.has_answers and samples > 1:
            notes.append("traces have no answers: wrong samples assumed "
                         + ("all different (optimistic)" if self.missing_answers == "distinct"
                            else "all the same wrong answer (pessimistic)"))
        if ts.lengths_estimated:
            notes.append("output lengths estimated as characters/4")
        return Estimate(value=float(values.mean()), lo=lo, hi=hi, provenance=self.provenance,
                        level=level, note="; ".join(notes))

    def _distribution(self, model: str, quant: str, samples: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
        key = (model, quant, samples)
        if key not in self._dist:
            ts = self.sets[(model, quant)]
            self._need(ts, model, quant, samples)
            nq = len(ts.questions)
            vals, wts = [], []
            weights: dict[int, np.ndarray] = {}
            for i in range(nq):
                seg = np.sort(ts.lengths[ts.offsets[i]:ts.offsets[i + 1]])
                k = seg.size
                if k not in weights:
                    weights[k] = max_rank_weights(k, samples)
                vals.append(seg)
                wts.append(weights[k] / nq)
            v = np.concatenate(vals)
            w = np.concatenate(wts)
            order = np.argsort(v, kind="stable")
            self._dist[key] = (v[order].astype(float), np.cumsum(w[order]))
        return self._dist[key]

    def default_input_tokens(self, model: str | None = None) -> int | None:
        want = canonical_name(model) if model else None
        tokens = [t for (m, _), ts in self.sets.items() if want in (None, m)
                  for t in ts.input_tokens]
        return int(np.median(tokens)) if tokens else None


class TableAccuracy(AccuracyData):
    """Accuracy from a plain table; no length data (a request is assumed to use its budget)."""

    kind = "table"

    def __init__(self, rows: list[TableRow], source: str, benchmark: str | None = None) -> None:
        super().__init__(source)
        self.all_rows = rows
        if benchmark is not None:
            rows = [r for r in rows if (r.benchmark or "") == benchmark]
            if not rows:
                names = sorted({r.benchmark or "" for r in self.all_rows})
                raise UserInputError(f"No rows for benchmark {benchmark!r} in {source}; it has "
                                     f"{', '.join(names)}.")
        names = sorted({r.benchmark or "" for r in rows if r.budget is not None})
        if len(names) > 1:
            raise UserInputError(f"{source} holds several benchmarks ({', '.join(names)}); "
                                 "pick one with --benchmark.")
        self.rows: dict[tuple[str, str], list[TableRow]] = {}
        for r in rows:
            if r.budget is not None:
                self.rows.setdefault((canonical_name(r.model), r.quant), []).append(r)

    def _measured(self) -> list[tuple[str, str]]:
        return list(self.rows)

    def _budgets(self, model: str, quant: str) -> list[int] | None:
        return sorted({r.budget for r in self.rows[(model, quant)] if r.budget is not None})

    def _max_samples(self, model: str, quant: str) -> int:
        return max(r.samples for r in self.rows[(model, quant)])

    def _cells(self, model: str, quant: str) -> set[tuple[int, int]] | None:
        return {(r.budget, r.samples) for r in self.rows[(model, quant)]
                if r.budget is not None and (r.method == "majority" or r.samples == 1)}

    def _estimate(self, model: str, quant: str, budget: int, samples: int, semantics: str,
                  method: str, level: float) -> Estimate:
        rows = self.rows[(model, quant)]
        match = [r for r in rows if r.budget == budget and r.samples == samples
                 and (r.method == method or samples == 1)]
        if not match:
            have = ", ".join(sorted({f"budget {r.budget} × {r.samples} ({r.method})"
                                     for r in rows}))
            raise UserInputError(f"{model}/{quant} has no row for budget {budget} × {samples} "
                                 f"samples ({method}) in {self.source}; it has {have}.")
        row = match[0]
        if row.n_questions:
            lo, hi = wilson_interval(row.accuracy, row.n_questions, level)
            note = f"binomial (Wilson) interval over {row.n_questions} questions"
        else:
            lo = hi = row.accuracy
            note = "no interval: the table gives no n_questions"
        extra = "; ".join(x for x in (row.benchmark, row.source and f"source: {row.source}",
                                      row.verified and f"verified: {row.verified}") if x)
        return Estimate(value=row.accuracy, lo=lo, hi=hi, provenance=Provenance.IMPORTED,
                        level=level, note=f"{note}; {extra}" if extra else note)

    def _distribution(self, model: str, quant: str, samples: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
        # No lengths in a table: every request is assumed to run to its budget (worst case).
        return np.array([math.inf]), np.array([1.0])


def load_accuracy(path: str | Path, *, model: str | None = None, quant: str | None = None,
                  tokens_field: str | None = None, lm_eval_filter: str | None = None,
                  metric: str | None = None, missing_answers: str = "distinct",
                  benchmark: str | None = None) -> AccuracyData:
    """Traces JSONL, lm-eval ``samples_*.jsonl`` (file or folder), or a table CSV.

    ``model``/``quant`` are required for lm-eval samples and filter the other kinds.
    ``synthetic-traces`` and ``published-table`` name the shipped data sets.
    """
    p = builtin_path(str(path)) if str(path) in BUILTIN else Path(path).expanduser()
    if not p.exists():
        raise UserInputError(f"{path} does not exist; give a traces .jsonl, an lm-eval samples "
                             f"file or folder, a table .csv, or one of {', '.join(BUILTIN)}.")
    if p.is_file():  # one decode check at the boundary: non-UTF-8 → one Error line
        from edgeprof.files import read_text_checked

        read_text_checked(p, "accuracy data", "give a traces .jsonl, lm-eval samples or a "
                          "table .csv")
    if str(path) == "published-table":
        from edgeprof.accuracy._published import PublishedAccuracy

        rows = read_table(p)
        if model:
            rows = [r for r in rows if canonical_name(r.model) == canonical_name(model)]
        if quant:
            rows = [r for r in rows if r.quant in (quant.lower(), "bf16")]
        if not rows:
            raise UserInputError(f"{path} has no rows for the --model/--quant given.")
        return PublishedAccuracy(rows, "published-table (shipped published figures, "
                                       "edgeprof/data/accuracy/SOURCES.md)", benchmark)
    if p.suffix.lower() == ".csv":
        rows = read_table(p)
        if model:
            rows = [r for r in rows if canonical_name(r.model) == canonical_name(model)]
        if quant:
            rows = [r for r in rows if r.quant == quant.lower()]
        if not rows:
            raise UserInputError(f"{p} has no rows for the --model/--quant given.")
        return TableAccuracy(rows, f"{p} (table)", benchmark)
    first = p if p.is_file() else None
    lmeval = p.is_dir() or any(is_lmeval_record(obj) for _, obj in _head(first))
    if lmeval:
        if not model or not quant:
            raise UserInputError("lm-eval samples name neither model nor quant; pass --model "
                                 "and --quant.")
        samples, estimated = read_lmeval(p, metric=metric, filter_name=lm_eval_filter,
                                         tokens_field=tokens_field)
        key = (canonical_name(model), quant.lower())
        sets = {key: build_trace_set(samples, str(p), has_answer_field=True,
                                     lengths_estimated=estimated)}
        return TraceAccuracy(sets, f"{p} (lm-eval samples)", Provenance.IMPORTED,
                             missing_answers)
    groups, with_answers, labels = read_traces(p)
    sets = {}
    for (raw_model, q), samples in groups.items():
        key = (canonical_name(raw_model), q)
        if (model and key[0] != canonical_name(model)) or (quant and q != quant.lower()):
            continue
        if key in sets:
            raise DataFormatError(f"{p}: models {raw_model!r} and another spelling both resolve "
                                  f"to {key[0]}; use one name.")
        sets[key] = build_trace_set(samples, f"{p} {key[0]}/{q}",
                                    has_answer_field=(raw_model, q) in with_answers)
    if not sets:
        covered = sorted({f"{canonical_name(m)}/{q}" for m, q in groups})
        raise UserInputError(f"{p} has no traces for the --model/--quant given; it covers "
                             f"{', '.join(covered)}.")
    provenance = Provenance.SYNTHETIC if Provenance.SYNTHETIC in labels else Provenance.IMPORTED
    return TraceAccuracy(sets, f"{p} (traces)", provenance, missing_answers)


def _head(path: Path | None) -> list[tuple[int, dict]]:
    if path is None:
        return []
    out = []
    for item in read_jsonl(path):
        out.append(item)
        break
    return out
