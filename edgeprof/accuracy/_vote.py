"""Exact majority-vote and pass@N arithmetic (no sampling anywhere).

One generating-function routine serves two questions:

* the *unbiased estimate* from K recorded samples: the exact mean over all C(K, N) subsets of
  size N (hypergeometric weights ``C(count, k)``), and
* the *closed form* for N independent draws from known answer probabilities (multinomial
  weights ``p**k / k!``, times ``N!``).

Vote rule (both): the answer with the most votes wins; abstentions (no answer, or a sample
cut off by the budget) never win; a tie among the top answers is broken uniformly at random,
so a question whose correct answer ties with t wrong answers scores 1/(t+1); N abstentions
score 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np


def _win_probability(correct: np.ndarray, others: Sequence[np.ndarray], free: np.ndarray,
                     n: int) -> float:
    """Σ_x correct[x] · Σ_{others each ≤ x, free unbounded, total n−x} Π coef / (1 + ties).

    ``correct``, each of ``others`` and ``free`` hold the weight of taking k votes (index k).
    """
    total = 0.0
    for x in range(1, min(n, len(correct) - 1) + 1):
        cx = float(correct[x])
        if cx == 0.0:
            continue
        rest = n - x
        # poly[t][s]: weight of s votes among the classes seen so far, t of them tied at x.
        poly = [np.zeros(rest + 1)]
        head = free[: rest + 1]
        poly[0][: len(head)] = head
        for coef in others:
            below = coef[: min(x, len(coef))]  # k = 0 .. x-1 votes: strictly below
            at_x = float(coef[x]) if x < len(coef) else 0.0
            new = [np.zeros(rest + 1) for _ in range(len(poly) + (1 if at_x else 0))]
            for t, arr in enumerate(poly):
                if not arr.any():
                    continue
                new[t] += np.convolve(arr, below)[: rest + 1]
                if at_x and x <= rest:
                    new[t + 1][x:] += arr[: rest + 1 - x] * at_x
            poly = new
        total += cx * sum(arr[rest] / (t + 1) for t, arr in enumerate(poly))
    return total


def _binoms(count: int) -> np.ndarray:
    return np.array([math.comb(count, k) for k in range(count + 1)], dtype=float)


@lru_cache(maxsize=200_000)
def vote_from_counts(correct: int, wrong: tuple[int, ...], abstain: int, n: int) -> float:
    """Expected majority-vote correctness over all size-``n`` subsets of one question's
    K = correct + Σwrong + abstain recorded samples (``wrong`` sorted, one count per distinct
    wrong answer). Unbiased for the N-draw vote when the K samples are i.i.d."""
    k = correct + sum(wrong) + abstain
    if n > k:
        raise ValueError(f"n={n} > K={k} samples")
    if correct == 0:
        return 0.0
    if not wrong:
        # Only correct votes and abstentions: wrong iff every vote abstains.
        return 1.0 - (math.comb(abstain, n) / math.comb(k, n))
    value = _win_probability(_binoms(correct), [_binoms(w) for w in wrong], _binoms(abstain), n)
    return min(1.0, max(0.0, value / math.comb(k, n)))


def signature(classes: np.ndarray) -> tuple[int, tuple[int, ...], int]:
    """(correct count, sorted wrong-answer counts, abstentions) from class codes:
    0 = correct, -1 = abstain, any other value = one wrong answer."""
    correct = int(np.count_nonzero(classes == 0))
    abstain = int(np.count_nonzero(classes == -1))
    wrong = classes[classes > 0]
    counts = tuple(sorted(np.unique(wrong, return_counts=True)[1].tolist())) if wrong.size else ()
    return correct, counts, abstain


def signatures(classes: np.ndarray, offsets: np.ndarray) -> list[tuple[int, tuple[int, ...],
                                                                         int]]:
    """:func:`signature` of every question (question i owns ``offsets[i]:offsets[i+1]``),
    computed with one sort instead of one ``np.unique`` per question."""
    nq = offsets.size - 1
    qidx = np.repeat(np.arange(nq), np.diff(offsets))
    order = np.lexsort((classes, qidx))
    q_sorted, c_sorted = qidx[order], classes[order]
    start = np.flatnonzero(np.r_[True, (q_sorted[1:] != q_sorted[:-1])
                                 | (c_sorted[1:] != c_sorted[:-1])])
    counts = np.diff(np.r_[start, q_sorted.size])
    correct = [0] * nq
    abstain = [0] * nq
    wrong: list[list[int]] = [[] for _ in range(nq)]
    for q, c, n in zip(q_sorted[start].tolist(), c_sorted[start].tolist(), counts.tolist(),
                       strict=True):
        if c == 0:
            correct[q] = n
        elif c == -1:
            abstain[q] = n
        else:
            wrong[q].append(n)
    return [(correct[i], tuple(sorted(wrong[i])), abstain[i]) for i in range(nq)]


def pass_at_n(k: int, c: int, n: int) -> float:
    """Unbiased pass@n from c correct of k samples: 1 − C(k−c, n)/C(k, n)."""
    if n > k:
        raise ValueError(f"n={n} > K={k} samples")
    return 1.0 - math.comb(k - c, n) / math.comb(k, n)


def vote_closed_form(p_correct: float, p_wrong: Sequence[float], n: int) -> float:
    """Majority-vote correctness of n i.i.d. draws; the rest of the mass (1 − p_correct −
    Σp_wrong) abstains. Same vote and tie rule as :func:`vote_from_counts`."""
    p_abstain = max(0.0, 1.0 - p_correct - float(sum(p_wrong)))
    ks = np.arange(n + 1)
    log_fact = np.array([math.lgamma(k + 1) for k in ks])

    def weights(p: float) -> np.ndarray:
        if p <= 0.0:
            w = np.zeros(n + 1)
            w[0] = 1.0
            return w
        return np.exp(ks * math.log(p) - log_fact)

    value = _win_probability(weights(p_correct), [weights(p) for p in p_wrong if p > 0],
                             weights(p_abstain), n)
    return min(1.0, max(0.0, value * math.exp(math.lgamma(n + 1))))


def max_rank_weights(k: int, n: int) -> np.ndarray:
    """P(the largest of a random n-subset of k sorted values is the i-th smallest), i=1..k:
    C(i−1, n−1) / C(k, n)."""
    total = math.comb(k, n)
    return np.array([math.comb(i - 1, n - 1) / total for i in range(1, k + 1)])
