"""Turn grid indices into the report: detailed predictions, verdicts and Pareto fronts."""

from __future__ import annotations

import math

import numpy as np

from edgeprof.estimates import Estimate
from edgeprof.search._grid import Grid
from edgeprof.search._protocols import LatencyModel
from edgeprof.search._result import Candidate, ConfigOut
from edgeprof.search._solve import TIE, Pick, group_best, group_closest, rank_key
from edgeprof.units import format_bytes


def config_out(grid: Grid, profile: LatencyModel, pick: Pick) -> ConfigOut:
    """Scalar predictions (with intervals and provenance) for one configuration."""
    s, pr = grid.space, grid.problem
    m, q = s.pairs[pick.k]
    budget, n, mode = s.budgets[pick.b], s.samples[pick.n], s.power_modes[pick.p]
    l_pct = float(grid.len_pct[pick.k, pick.b, pick.n])
    l_mean = float(grid.len_mean[pick.k, pick.b, pick.n])
    at_pct = profile.predict(m, q, pr.input_tokens, max(1, round(l_pct)), batch=n,
                             power_mode=mode)
    at_mean = profile.predict(m, q, pr.input_tokens, max(1, round(l_mean)), batch=n,
                              power_mode=mode)
    at_budget = profile.predict(m, q, pr.input_tokens, budget, batch=n, power_mode=mode)
    cons = {k: float(v[pick.k, pick.p, pick.b, pick.n]) for k, v in grid.constraints().items()}
    acc = grid.accuracy.accuracy(m, q, budget, n, pr.semantics)
    return ConfigOut(
        model=m, quant=q, budget=budget, samples=n, power_mode=mode,
        accuracy=acc, synthetic="-scaled-" in m.lower() or acc.provenance == "synthetic",
        latency_pct=_note(at_pct.e2e_s, f"output {l_pct:.0f} tokens ({pr.pct_label} of the "
                                        f"longest of {n}), batch {n}"),
        latency_mean=_note(at_mean.e2e_s, f"output {l_mean:.0f} tokens (mean), batch {n}"),
        ttft=at_pct.ttft_s, energy_j=at_mean.energy_j,
        memory_bytes=_note(at_budget.peak_mem_bytes, f"weights + KV for {n} × "
                                                     f"({pr.input_tokens} + {budget}) tokens"),
        output_tokens_pct=l_pct, output_tokens_mean=l_mean,
        constraints={k: round(v, 6) for k, v in cons.items()},
        feasible=all(v <= 0 for v in cons.values()),
        checked={"confidence": pr.confidence,
                 "latency_s": float(grid.lat_check[pick.k, pick.p, pick.b, pick.n]),
                 "memory_bytes": float(grid.mem_check[pick.k, pick.p, pick.b, pick.n])})


def _note(est: Estimate, note: str) -> Estimate:
    joined = f"{est.note}; {note}" if est.note else note
    return est.model_copy(update={"note": joined})


def candidate(grid: Grid, pick: Pick, verdict: str = "") -> Candidate:
    s = grid.space
    m, q = s.pairs[pick.k]
    idx = (pick.k, pick.p, pick.b, pick.n)
    e = float(grid.energy[idx])
    return Candidate(model=m, quant=q, budget=s.budgets[pick.b], samples=s.samples[pick.n],
                     power_mode=s.power_modes[pick.p],
                     accuracy=float(grid.acc[pick.k, pick.b, pick.n]),
                     latency_s=float(grid.lat_pct[idx]),
                     latency_bound_s=float(grid.lat_check[idx]),
                     energy_j=None if math.isnan(e) else e,
                     memory_bytes=float(grid.mem[idx]),
                     memory_bound_bytes=float(grid.mem_check[idx]),
                     feasible=bool(grid.feasible()[idx]), verdict=verdict)


def violations(grid: Grid, pick: Pick) -> str:
    """Which constraints rule a configuration out, in words."""
    pr, idx = grid.problem, (pick.k, pick.p, pick.b, pick.n)
    out = []
    bounded = pr.bound_exponent > 0
    lat, lat_b = float(grid.lat_pct[idx]), float(grid.lat_check[idx])
    if lat_b > pr.slo_s:
        if bounded and lat <= pr.slo_s:
            out.append(f"{pr.pct_label} latency {pr.bound_label} {lat_b:.2f} s > SLO "
                       f"{pr.slo_s:g} s (point {lat:.2f} s meets it)")
        elif bounded:
            out.append(f"{pr.pct_label} latency {lat:.2f} s ({pr.bound_label} {lat_b:.2f} s) "
                       f"> SLO {pr.slo_s:g} s")
        else:
            out.append(f"{pr.pct_label} latency {lat:.2f} s > SLO {pr.slo_s:g} s")
    mem, mem_b = float(grid.mem[idx]), float(grid.mem_check[idx])
    if mem_b > pr.memory_limit_bytes:
        what = (f"memory {pr.bound_label} {format_bytes(mem_b)} (point {format_bytes(mem)})"
                if bounded else f"memory {format_bytes(mem)}")
        out.append(f"{what} > limit {format_bytes(pr.memory_limit_bytes)}")
    if pr.energy_budget_j is not None and not grid.energy[idx] <= pr.energy_budget_j:
        out.append(f"energy {grid.energy[idx]:.1f} J > budget {pr.energy_budget_j:g} J")
    return "; ".join(out)


def runner_ups(grid: Grid, winner: Pick | None, groups: list[tuple[int, int]],
               count: int = 5) -> list[Candidate]:
    """The best configuration of each other evaluated group (pair × samples) — its most
    accurate feasible one, or the one closest to feasible — with why it lost."""
    feas = grid.feasible()
    picks = []
    for k, n in groups:
        if winner is not None and (k, n) == winner.group:
            continue
        pick = group_best(grid, feas, k, n) or group_closest(grid, k, n)
        if pick is not None:
            grid.acc_at(pick.k, pick.b, pick.n)
            picks.append(pick)
    ranked = sorted(picks, key=lambda p: rank_key(grid, p))[:count]
    win_acc = None if winner is None else float(grid.acc[winner.k, winner.b, winner.n])
    win_lat = None if winner is None else float(grid.lat_check[winner.k, winner.p, winner.b,
                                                               winner.n])
    out = []
    for pick in ranked:
        why = violations(grid, pick)
        acc = float(grid.acc[pick.k, pick.b, pick.n])
        if why:
            why = f"ruled out even at its closest budget/mode: {why}"
        elif win_acc is not None and win_lat is not None:
            if acc < win_acc - TIE:
                why = f"accuracy {acc:.3f} is {win_acc - acc:.3f} below the winner's"
            else:
                why = (f"same accuracy, {grid.problem.pct_label} latency "
                       f"({grid.problem.bound_label}) "
                       f"{grid.lat_check[pick.k, pick.p, pick.b, pick.n]:.2f} s ≥ winner's "
                       f"{win_lat:.2f} s")
        out.append(candidate(grid, pick, why))
    return out


def pareto(grid: Grid, metric: str) -> tuple[list[Candidate], list[Candidate]]:
    """(front, all points) of accuracy against ``latency`` or ``energy``, over configurations
    within the memory limit whose accuracy is known; one power mode per (pair, budget, N):
    the one minimizing the metric."""
    values = grid.lat_check if metric == "latency" else grid.energy
    ok = grid.valid5() & (grid.mem_check <= grid.problem.memory_limit_bytes) & ~np.isnan(values)
    ok &= ~np.isnan(grid.acc)[:, None]
    v = np.where(ok, values, np.inf)
    p_best = np.argmin(v, axis=1)  # (K, B, N)
    points: list[Pick] = []
    for k, b, n in zip(*np.nonzero(np.isfinite(v.min(axis=1))), strict=True):
        points.append(Pick(int(k), int(p_best[k, b, n]), int(b), int(n)))
    points.sort(key=lambda p: (float(values[p.k, p.p, p.b, p.n]),
                               -float(grid.acc[p.k, p.b, p.n])))
    front, best = [], -np.inf
    for p in points:
        a = float(grid.acc[p.k, p.b, p.n])
        if a > best + TIE:
            front.append(candidate(grid, p))
            best = a
    return front, [candidate(grid, p) for p in points]
