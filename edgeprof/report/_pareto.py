"""The recommendation: the Pareto front with the SLO and the winner, the winner's
predictions with intervals and provenance, and why the runner-ups lost."""

from __future__ import annotations

from typing import Any

from edgeprof.report._figures import to_data_uri
from edgeprof.report._html import Section, badge, definition_list, esc, image, note, table
from edgeprof.search._present import Row, winner_rows
from edgeprof.search._result import ConfigOut, RecProblem
from edgeprof.units import format_bytes


def _value(row: Row) -> str:
    """A winner row as HTML: text escaped, or ``value [lo, hi] unit`` and a provenance
    badge."""
    if row.is_text:
        return esc(row.text)
    e = row.estimate
    if e is None:
        return esc("n/a (no model)")
    v, _, rest = row.numbers().partition(" [")
    extra = (' <span class="iv">(extrapolated beyond the fitted range)</span>'
             if "extrapolated" in (e.note or "") else "")
    return f'{esc(v)} <span class="iv">[{esc(rest)}</span> {badge(str(e.provenance))}{extra}'


def _winner(c: ConfigOut, problem: RecProblem) -> str:
    return definition_list([(row.label, _value(row)) for row in winner_rows(c, problem)])


def pareto_section(inp: Any) -> Section:
    key, title = "recommendation", "Pareto front, SLO and winner"
    rec = inp.rec
    if rec is None:
        return Section(key, title, note(inp.missing.get("rec", "no recommendation")),
                       {"present": False})
    from edgeprof.report._pareto_figure import pareto_figure

    pr = rec.problem
    pct = pr.pct_label
    body = f"<p><strong>Problem:</strong> {esc(pr.describe())}.</p>"
    if rec.winner is not None:
        body += "<h3>Winner</h3>" + _winner(rec.winner, pr)
    else:
        body += note("No configuration meets the constraints.", "warn")
        if rec.fastest is not None:
            body += "<h3>Fastest (infeasible)</h3>" + _winner(rec.fastest, pr)
    body += image(to_data_uri(pareto_figure(rec, stacked=True)), "Pareto front",
                  "Every point is predicted: latency and energy from the profile "
                  "(predicted:measured-fit where a fit exists, else predicted:spec-derived), "
                  "accuracy from the accuracy data (its provenance is in the winner's row). "
                  "Grey: evaluated configurations; blue: the Pareto front; red dashed: the "
                  "SLO; star: the winner. Log x axis.")
    if rec.runner_ups:
        rows = [[c.model, c.quant, c.budget, c.samples, c.power_mode or "-",
                 f"{c.accuracy:.3f}", f"{c.latency_s:.2f}",
                 "n/a" if c.energy_j is None else f"{c.energy_j:.1f}",
                 format_bytes(c.memory_bytes), c.verdict] for c in rec.runner_ups]
        body += "<h3>Runner-ups and why they lost</h3>" + table(
            ["model", "quant", "budget", "N", "mode", "accuracy", f"{pct} s", "energy J",
             "memory", "verdict"], rows,
            numeric=[False, False, True, True, False, True, True, True, True, False],
            caption="all values predicted (see the winner's provenance)")
    cc = rec.cross_check
    check = (f"enumerated all {cc.space_size} configurations; the study "
             f"{'agrees' if cc.agrees else 'DISAGREES'} with the enumerated optimum "
             f"(winner from {cc.winner_source})" if cc.enumerated else
             f"space of {cc.space_size} too large to enumerate; winner from {cc.winner_source}")
    facts = [("cross-check", esc(check)),
             ("search", esc(f"{rec.search.sampler} sampler, {rec.search.distinct_groups}/"
                            f"{rec.search.groups_total} groups, {rec.search.trials_asked} "
                            f"trials, {rec.search.wall_s:.1f} s"))]
    facts += [(k, esc(v)) for k, v in rec.provenance.model_dump(exclude={"sources"}).items()]
    body += "<h3>What it rests on</h3>" + definition_list(facts)
    if inp.profile is not None and rec.provenance.profile_hash != inp.profile.hash():
        body += note(f"The recommendation was made from another profile (hash "
                     f"{rec.provenance.profile_hash[:12]}) than {inp.profile_path} "
                     f"({inp.profile.hash()[:12]}); rerun edgeprof recommend.", "warn")
    if rec.notes:
        items = "".join(f"<li>{esc(n)}</li>" for n in rec.notes)
        body += (f"<details><summary>{len(rec.notes)} note{'s' * (len(rec.notes) != 1)} from "
                 f"the search (configurations left out and why)</summary><ul>{items}</ul>"
                 "</details>")
    summary = {"present": True, "feasible": rec.feasible,
               "winner": None if rec.winner is None else {
                   "model": rec.winner.model, "quant": rec.winner.quant,
                   "budget": rec.winner.budget, "samples": rec.winner.samples},
               "pareto_latency": len(rec.pareto_latency), "pareto_energy": len(rec.pareto_energy),
               "runner_ups": len(rec.runner_ups)}
    return Section(key, title, body, summary)
