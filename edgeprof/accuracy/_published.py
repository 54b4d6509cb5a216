"""Accuracy from the shipped published figures, modeled over budget, N and quant format.

``load_accuracy("published-table", benchmark=...)`` returns a :class:`PublishedAccuracy`.
Per catalog model × benchmark:

* **full-budget accuracy** A: the median of the published pass@1 figures at the largest
  budget a source states (several sources → their spread widens the interval);
* **budget curve** (:mod:`edgeprof.accuracy._curves`): fitted to published budget points, or
  the truncation model from a published mean output length (the benchmark's own, else one
  of :data:`LENGTH_PROXIES`, labeled), or — with neither — only the published budget(s);
* **N**: a Beta difficulty spread fitted to published pass@k / cons@k (N = 1 only without);
* **quant formats**: a format's own figures set its A (curve shape from the 16-bit data);
  a format without its own figures for this model takes the median ratio quantized/16-bit
  over the models the same source published (labeled ``prior``, over imported data), and
  :data:`edgeprof.accuracy._priors.QUANT_PRIORS` only where no source has the format.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np

from edgeprof.accuracy import _curves as curves
from edgeprof.accuracy._data import AccuracyData
from edgeprof.accuracy._priors import QUANT_PRIORS, QuantPrior
from edgeprof.accuracy._table import TableRow, wilson_interval
from edgeprof.catalog._architectures import canonical_name, catalog_names
from edgeprof.errors import UserInputError
from edgeprof.estimates import Estimate, Provenance

#: Formats edgeprof runs (other schemes in the table — KV-cache, 3-bit — are shown only).
FORMATS = ("bf16", "fp16", "fp8", "int8", "int4")
#: Token budgets searched where a budget curve exists (the published budgets are added).
GRID = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)
#: Where a benchmark has no published output lengths for a model, lengths published on these
#: benchmarks stand in (labeled in every note; the interval is widened by LENGTH_PROXY_BAND).
LENGTH_PROXIES = {"MATH-500": ("MATH",), "AIME 2025": ("AIME 2024",),
                  "AIME 2024": ("AIME 2025",)}
LENGTH_PROXY_BAND = (0.7, 1.4)
#: Questions assumed when a source gives no count (only for the interval's width).
DEFAULT_QUESTIONS = {"MATH-500": 500, "AIME 2024": 30, "AIME 2025": 30, "GSM8K": 1319,
                     "GPQA-Diamond": 198}
#: Benchmark picked when none is asked for: the one with the best short-budget coverage.
DEFAULT_BENCHMARK = "MATH-500"


@dataclass
class PairModel:
    """Everything the model knows about one (model, quant) on one benchmark."""

    full: float
    full_lo: float
    full_hi: float
    max_budget: int
    sources: list[str]
    curve: curves.BudgetCurve | None = None
    length_note: str = ""
    budget_points: list[tuple[int, float]] = field(default_factory=list)
    kappa: dict[float, float] = field(default_factory=dict)  # rho -> κ
    n_note: str = ""
    max_n: int = 1
    quant_note: str = ""
    provenance: str = Provenance.IMPORTED


def _cite(r: TableRow) -> str:
    return f"{r.source} <{r.url}>" if r.url else str(r.source)


class PublishedAccuracy(AccuracyData):
    """The shipped published figures as an accuracy model with intervals (see module doc)."""

    kind = "published"

    def __init__(self, rows: list[TableRow], source: str, benchmark: str | None = None
                 ) -> None:
        super().__init__(source)
        self.all_rows = rows
        self.benchmark = benchmark or DEFAULT_BENCHMARK
        names = sorted({r.benchmark or "" for r in rows})
        if self.benchmark not in names:
            raise UserInputError(f"No rows for benchmark {self.benchmark!r} in {source}; it "
                                 f"has {', '.join(n for n in names if n)}.")
        known = set(catalog_names())
        # rows whose note says "held out" are shipped for display, not modeled (SOURCES.md)
        self.rows = [r for r in rows if canonical_name(r.model) in known
                     and not (r.note or "").startswith("held out")]
        self.models: dict[tuple[str, str], PairModel] = {}
        self._build()

    # ------------------------------------------------------------------ building
    def _bench(self, name: str, quant: str | None = None) -> dict[str, list[TableRow]]:
        out: dict[str, list[TableRow]] = {}
        for r in self.rows:
            if r.benchmark == name and (quant is None or r.quant == quant):
                out.setdefault(canonical_name(r.model), []).append(r)
        return out

    def _lengths(self, model: str) -> tuple[float, str, bool] | None:
        """(mean output tokens, note, proxy?) published for the 16-bit model."""
        for bench, proxy in ((self.benchmark, False),
                             *((b, True) for b in LENGTH_PROXIES.get(self.benchmark, ()))):
            rows = [r for r in self._bench(bench, "bf16").get(model, [])
                    if r.avg_output_tokens and r.samples == 1]
            if rows:
                r = max(rows, key=lambda x: x.budget or 0)
                label = (f"mean output length {r.avg_output_tokens:.0f} tokens on {bench}"
                         f"{' (stands in for ' + self.benchmark + ')' if proxy else ''}, "
                         f"{_cite(r)}")
                return float(r.avg_output_tokens), label, proxy
        return None

    def _full(self, rows: list[TableRow]) -> tuple[float, float, float, int, list[str]] | None:
        p1 = [r for r in rows if r.samples == 1 and r.budget is not None]
        if not p1:
            return None
        top = max(r.budget for r in p1 if r.budget is not None)
        # figures at the largest stated budget (budgets within 25 % count as the same)
        at = [r for r in p1 if r.budget is not None and r.budget >= 0.75 * top]
        vals = [r.accuracy for r in at]
        n_q = next((r.n_questions for r in at if r.n_questions),
                   DEFAULT_QUESTIONS.get(self.benchmark, 100))
        med = statistics.median(vals)
        lo, hi = wilson_interval(med, n_q, 0.9)
        lo, hi = min(lo, min(vals)), max(hi, max(vals))
        return med, lo, hi, top, sorted({_cite(r) for r in at})

    def _build(self) -> None:
        bf = self._bench(self.benchmark, "bf16")
        for model, rows in bf.items():
            full = self._full(rows)
            if full is None:
                continue
            pm = PairModel(*full)
            lengths = self._lengths(model)
            low = sorted({(r.budget, r.accuracy) for r in rows if r.samples == 1
                          and r.budget is not None and r.budget < 0.75 * pm.max_budget})
            if low:
                fr = [a / pm.full for _, a in low]
                pm.curve = curves.fit_budget_curve([b for b, _ in low], fr,
                                                   lengths[0] if lengths else None)
                pm.budget_points = low
                pm.length_note = ("curve fitted to published budget points "
                                  + ", ".join(f"{b}: {a:.3f}" for b, a in low))
            elif lengths is not None:
                mean, note, proxy = lengths
                pm.curve = curves.curve_from_mean_length(mean)
                if proxy:
                    lo_f, hi_f = LENGTH_PROXY_BAND
                    pm.curve = _widen(pm.curve, mean, lo_f, hi_f)
                pm.length_note = (f"truncation model acc(∞)·P(correct length ≤ B), lognormal "
                                  f"from the {note}; dispersion assumed (σ {curves.SIGMA[1]}–"
                                  f"{curves.SIGMA[2]})")
            self._fit_n(model, pm, rows)
            self.models[(model, "bf16")] = pm
        self._quants()

    def _fit_n(self, model: str, pm: PairModel, rows: list[TableRow]) -> None:
        obs = [(r.samples, r.accuracy, r.method) for r in rows
               if r.samples > 1 and r.budget is not None and r.budget >= 0.75 * pm.max_budget]
        if not obs:
            return
        # one kind of figure per fit: majority (cons@k) where published, else pass@k
        kinds = {how for _, _, how in obs}
        obs = [o for o in obs if o[2] == ("majority" if "majority" in kinds else "pass")]
        fits = {rho: curves.fit_kappa(pm.full, obs, rho) for rho in curves.RHO}
        pm.kappa = {rho: k for rho, k in fits.items() if k is not None}
        if not pm.kappa:
            pm.n_note = "published N figures not matched by the difficulty spread; N = 1 only"
            return
        pm.max_n = max(n for n, _, _ in obs)
        pm.n_note = ("Beta difficulty spread fitted to pass@1 and "
                     + ", ".join(f"{'cons' if how == 'majority' else 'pass'}@{n} {a:.3f}"
                                 for n, a, how in obs)
                     + f"; majority vote assumes a share ρ of wrong samples agree "
                       f"({', '.join(str(r) for r in pm.kappa)})")

    def _ratios(self) -> dict[str, tuple[float, float, float, list[str]]]:
        """Per format: (median, min, max) of quantized/16-bit full-budget accuracy over the
        models one source published both for, on this benchmark."""
        out: dict[str, list[float]] = {}
        cites: dict[str, set[str]] = {}
        by_key: dict[tuple[str, str, str], list[float]] = {}
        for r in self.rows:
            if r.benchmark == self.benchmark and r.samples == 1 and r.quant in FORMATS:
                by_key.setdefault((canonical_name(r.model), r.quant, r.source or ""),
                                  []).append(r.accuracy)
        for (m, q, src), vals in by_key.items():
            base = by_key.get((m, "bf16", src))
            if q == "bf16" or not base:
                continue
            out.setdefault(q, []).append(statistics.mean(vals) / statistics.mean(base))
            cites.setdefault(q, set()).add(src)
        return {q: (statistics.median(v), min(v), max(v), sorted(cites[q]))
                for q, v in out.items()}

    def _quants(self) -> None:
        ratios = self._ratios()
        for q in FORMATS:
            if q == "bf16":
                continue
            own = self._bench(self.benchmark, q)
            for (model, _), base in list(self.models.items()):
                if _ != "bf16":
                    continue
                pm = PairModel(**{**base.__dict__, "kappa": dict(base.kappa)})
                rows = own.get(model, [])
                if rows:
                    # own figures at any stated budget (or none: a card's figure at its
                    # default) set A relative to 16-bit from the same source when possible
                    r_vals = [(r.accuracy, r.source) for r in rows if r.samples == 1]
                    rel = []
                    for acc, src in r_vals:
                        b = [x.accuracy for x in self._bench(self.benchmark, "bf16")
                             .get(model, []) if x.source == src and x.samples == 1]
                        if b:
                            rel.append(acc / statistics.mean(b))
                    if not rel:
                        continue
                    ratio = statistics.median(rel)
                    lo_r, hi_r = min(rel), max(rel)
                    pm.quant_note = (f"{q}: its own published figures, {len(rel)} × "
                                     f"quantized/16-bit from the same source, median "
                                     f"{ratio:.3f} [{lo_r:.3f}, {hi_r:.3f}] ("
                                     + "; ".join(sorted({_cite(r) for r in rows})) + ")")
                    pm.provenance = Provenance.IMPORTED
                elif q in ratios:
                    ratio, lo_r, hi_r, srcs = ratios[q]
                    pm.quant_note = (f"{q} derived (prior over imported data): median "
                                     f"quantized/16-bit ratio {ratio:.3f} [{lo_r:.3f}, "
                                     f"{hi_r:.3f}] over other models in " + "; ".join(srcs))
                    pm.provenance = Provenance.PRIOR
                elif q in QUANT_PRIORS:
                    p: QuantPrior = QUANT_PRIORS[q]
                    ratio, lo_r, hi_r = p.recovery, p.lo, p.hi
                    pm.quant_note = (f"{q} derived (prior over imported data): recovery "
                                     f"{ratio} [{lo_r}, {hi_r}], {p.summary}; {p.source}")
                    pm.provenance = Provenance.PRIOR
                else:
                    continue
                pm.full, pm.full_lo = base.full * ratio, base.full_lo * min(lo_r, 1.0)
                pm.full_hi = min(1.0, base.full_hi * max(hi_r, 1.0))
                self.models[(model, q)] = pm

    # ------------------------------------------------------------------ AccuracyData hooks
    def _measured(self) -> list[tuple[str, str]]:
        return list(self.models)

    def _derived(self) -> dict:
        return {}  # formats are resolved in _quants (data-derived ratios first)

    def _budgets(self, model: str, quant: str) -> list[int] | None:
        pm = self.models[(model, quant)]
        pts = {pm.max_budget} | {b for b, _ in pm.budget_points}
        if pm.curve is not None:
            pts |= {b for b in GRID if b < pm.max_budget}
        return sorted(pts)

    def _max_samples(self, model: str, quant: str) -> int:
        return self.models[(model, quant)].max_n

    def _cells(self, model: str, quant: str) -> set[tuple[int, int]] | None:
        return None

    def _estimate(self, model: str, quant: str, budget: int, samples: int, semantics: str,
                  method: str, level: float) -> Estimate:
        pm = self.models[(model, quant)]
        if budget > pm.max_budget:
            raise UserInputError(
                f"{model}/{quant} on {self.benchmark}: budget {budget} is beyond the largest "
                f"published budget ({pm.max_budget}); edgeprof does not extrapolate there.")
        if samples > pm.max_n:
            raise UserInputError(
                f"{model}/{quant} on {self.benchmark}: no published figures for N > "
                f"{pm.max_n}; use --max-samples {pm.max_n}.")
        notes = [f"{self.benchmark}; full-budget pass@1 {pm.full:.3f} (budget "
                 f"{pm.max_budget}) from " + "; ".join(pm.sources)]
        if pm.quant_note:
            notes.append(pm.quant_note)
        if budget >= 0.75 * pm.max_budget:
            frac, f_lo, f_hi = 1.0, 1.0, 1.0
            notes.append("at the published budget")
        elif pm.curve is None:
            raise UserInputError(
                f"{model}/{quant} on {self.benchmark} is published only at budget "
                f"{pm.max_budget} with no output lengths; no budget curve below it.")
        else:
            frac = pm.curve.fraction(budget)
            f_lo, f_hi = pm.curve.fraction_range(budget)
            pts = [b for b, _ in pm.budget_points]
            if pts and min(pts) <= budget:
                notes.append(f"interpolated between published budgets ({pm.length_note})")
            else:
                where = ("extrapolated below the shortest published budget" if pts
                         else "modeled")
                notes.append(f"{where}: {pm.length_note}")
        mean, lo, hi = pm.full * frac, pm.full_lo * f_lo, min(1.0, pm.full_hi * f_hi)
        if samples > 1:
            rho0 = next(iter(pm.kappa))
            vals = []
            for rho, k in pm.kappa.items():
                for m_ in (mean, lo, hi):
                    vals.append(curves.pass_at(m_, k, samples) if method == "pass"
                                else curves.majority_at(m_, k, samples, rho))
            k0 = pm.kappa[rho0]
            point = (curves.pass_at(mean, k0, samples) if method == "pass"
                     else curves.majority_at(mean, k0, samples, rho0))
            mean, lo, hi = point, min([*vals, point]), max([*vals, point])
            notes.append(pm.n_note)
        lo, hi = min(lo, mean), max(hi, mean)
        return Estimate(value=float(mean), lo=float(max(0.0, lo)), hi=float(min(1.0, hi)),
                        provenance=pm.provenance, level=level, note="; ".join(notes))

    def _distribution(self, model: str, quant: str, samples: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
        pm = self.models[(model, quant)]
        if pm.curve is None:
            return np.array([math.inf]), np.array([1.0])
        qs = (np.arange(200) + 0.5) / 200
        vals = np.array([pm.curve.length_quantile(float(q), samples) for q in qs])
        return vals, qs + 0.5 / 200

    def length_quantile(self, model: str, quant: str, budget: int, samples: int,
                        q: float) -> float:
        m, qq, _ = self._resolve(model, quant)
        pm = self.models[(m, qq)]
        if pm.curve is None:
            return float(budget)  # no lengths: a request is assumed to run to its budget
        return float(min(budget, pm.curve.length_quantile(q, int(samples))))

    def describe(self) -> list[dict]:
        """One record per (model, quant): what the model rests on (for docs and --table)."""
        return [{"model": m, "quant": q, "benchmark": self.benchmark, "full": pm.full,
                 "max_budget": pm.max_budget, "curve": pm.length_note or None,
                 "max_samples": pm.max_n, "provenance": str(pm.provenance),
                 "sources": pm.sources} for (m, q), pm in sorted(self.models.items())]


def _widen(curve: curves.BudgetCurve, mean: float, lo_f: float,
           hi_f: float) -> curves.BudgetCurve:
    extra = tuple((math.log(mean * f) - s * s / 2.0, s) for f in (lo_f, hi_f)
                  for s in (curves.SIGMA[1], curves.SIGMA[2]))
    return curves.BudgetCurve(mu=curve.mu, sigma=curve.sigma, band=curve.band + extra,
                              fitted=False)
