"""Exact solves on the grid: the whole space (enumeration) and one group (the inner solve).

A *group* is (pair, samples). Inside a group the power mode does not change accuracy, and
latency, memory and energy all grow with the budget, so the group's best configuration is
its most accurate feasible budget (ties: the smaller budget, hence lower latency) run in the
fastest feasible power mode. Order between configurations: higher accuracy, then lower
checked latency at the SLO percentile (its upper ``--confidence`` bound; the point at 0), then
the first in (pair, mode, budget, samples) order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeprof.search._grid import Grid

TIE = 1e-12
ACC_DECIMALS = 12  # accuracies equal to 12 decimals tie; latency then decides


@dataclass(frozen=True, order=True)
class Pick:
    """Indices of one configuration in the grid."""

    k: int
    p: int
    b: int
    n: int

    @property
    def group(self) -> tuple[int, int]:
        return self.k, self.n


def rank_key(grid: Grid, pick: Pick) -> tuple[float, float, Pick]:
    """The one ordering rule of the search (smaller is better): higher accuracy (rounded to
    ``ACC_DECIMALS``), then lower checked latency at the SLO percentile (``Grid.lat_check``: the
    upper ``--confidence`` bound), then the first configuration
    in the space's order. ``enumerate_optimum`` is its vectorized form; the study, the
    enumeration and the runner-up list all rank by it."""
    acc = grid.acc_at(pick.k, pick.b, pick.n)
    return (-round(acc, ACC_DECIMALS), float(grid.lat_check[pick.k, pick.p, pick.b, pick.n]),
            pick)


def enumerate_optimum(grid: Grid, feasible: np.ndarray | None = None) -> Pick | None:
    """The best feasible configuration of the whole space by ``rank_key`` (vectorized;
    accuracy computed where feasible)."""
    feas = grid.feasible() if feasible is None else feasible
    if not feas.any():
        return None
    grid.fill_accuracy(feas.any(axis=1))
    acc = np.where(feas, np.round(grid.acc[:, None], ACC_DECIMALS), -np.inf)
    top = acc.max()
    lat = np.where(acc >= top - TIE, grid.lat_check, np.inf)
    k, p, b, n = np.unravel_index(int(np.argmin(lat)), lat.shape)  # first minimum in C order
    return Pick(int(k), int(p), int(b), int(n))


def group_best(grid: Grid, feas: np.ndarray, k: int, n: int) -> Pick | None:
    """The best feasible configuration of group (k, n), or None when none is feasible."""
    fb = feas[k, :, :, n]  # (P, B)
    budgets = np.nonzero(fb.any(axis=0))[0]
    if budgets.size == 0:
        return None
    best: tuple[float, int] | None = None
    for b in budgets:  # accuracy only at feasible budgets
        a = round(grid.acc_at(k, int(b), n), ACC_DECIMALS)
        if best is None or a > best[0] + TIE:
            best = (a, int(b))
    assert best is not None
    b = best[1]
    lat = np.where(fb[:, b], grid.lat_check[k, :, b, n], np.inf)
    return Pick(k, int(np.argmin(lat)), b, n)


def group_closest(grid: Grid, k: int, n: int) -> Pick | None:
    """The valid configuration of group (k, n) that violates its constraints least."""
    if not grid.space.valid[k, :, n].any():
        return None
    worst = np.max(np.stack([v[k, :, :, n] for v in grid.constraints().values()]), axis=0)
    worst = np.where(grid.space.valid[k, None, :, n], worst, np.inf)
    p, b = np.unravel_index(int(np.argmin(worst)), worst.shape)
    return Pick(k, int(p), int(b), n)


def fastest(grid: Grid) -> Pick | None:
    """The configuration with the lowest checked latency at the percentile (checked memory
    limit respected when anything fits)."""
    valid = grid.valid5()
    fits = valid & (grid.mem_check <= grid.problem.memory_limit_bytes)
    pool = fits if fits.any() else valid
    if not pool.any():
        return None
    lat = np.where(pool, grid.lat_check, np.inf)
    k, p, b, n = np.unravel_index(int(np.argmin(lat)), lat.shape)
    return Pick(int(k), int(p), int(b), int(n))
