"""Exact vote / pass@N / length arithmetic against brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.accuracy._vote import (
    max_rank_weights,
    pass_at_n,
    signature,
    signatures,
    vote_closed_form,
    vote_from_counts,
)


def brute_vote(classes: list[int], n: int) -> float:
    """Mean over all size-n subsets; ties split uniformly; abstentions (-1) never win."""
    total, count = 0.0, 0
    for sub in itertools.combinations(classes, n):
        votes: dict[int, int] = {}
        for c in sub:
            if c != -1:
                votes[c] = votes.get(c, 0) + 1
        count += 1
        if votes:
            top = max(votes.values())
            winners = [c for c, v in votes.items() if v == top]
            total += (0 in winners) / len(winners)
    return total / count


classes_st = st.lists(st.sampled_from([0, 0, 1, 2, 3, -1]), min_size=1, max_size=9)


@given(classes_st, st.data())
@settings(max_examples=150, deadline=None)
def test_vote_matches_subset_enumeration(classes, data):
    n = data.draw(st.integers(1, len(classes)))
    assert math.isclose(vote_from_counts(*signature(np.array(classes)), n),
                        brute_vote(classes, n), abs_tol=1e-12)


@given(st.integers(1, 12), st.data())
@settings(max_examples=80, deadline=None)
def test_pass_at_n_matches_enumeration(k, data):
    c = data.draw(st.integers(0, k))
    n = data.draw(st.integers(1, k))
    samples = [1] * c + [0] * (k - c)
    brute = np.mean([any(s) for s in itertools.combinations(samples, n)])
    assert math.isclose(pass_at_n(k, c, n), brute, abs_tol=1e-12)


def test_ties_are_split_and_abstentions_never_win():
    assert vote_from_counts(1, (1,), 0, 2) == 0.5  # one correct vs one wrong
    assert vote_from_counts(2, (2,), 0, 4) == 0.5
    assert math.isclose(vote_from_counts(1, (1, 1), 0, 3), 1 / 3)  # three-way tie
    assert vote_from_counts(0, (), 3, 2) == 0.0  # all abstain
    assert vote_from_counts(1, (), 3, 1) == 0.25  # correct only when the correct one is drawn
    # One correct vs three abstentions, N=4: the lone vote always wins.
    assert vote_from_counts(1, (), 3, 4) == 1.0


def brute_closed_form(p_correct: float, p_wrong: list[float], n: int) -> float:
    probs = [p_correct, *p_wrong, 1 - p_correct - sum(p_wrong)]
    codes = [0, *range(1, len(p_wrong) + 1), -1]
    total = 0.0
    for draw in itertools.product(range(len(probs)), repeat=n):
        weight = math.prod(probs[i] for i in draw)
        total += weight * brute_vote([codes[i] for i in draw], n)
    return total


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(1, 5))
@settings(max_examples=60, deadline=None)
def test_closed_form_matches_enumeration(a, b, c, n):
    total = a + b + c + 1e-9
    p = [a / total * 0.95, b / total * 0.95]
    q = c / total * 0.95 * 0.5
    assert math.isclose(vote_closed_form(p[0], [p[1], q], n),
                        brute_closed_form(p[0], [p[1], q], n), abs_tol=1e-9)


def test_estimator_is_exactly_unbiased():
    """E over all K-sample outcomes of the subset estimator = the N-draw closed form."""
    probs, codes, k, n = [0.45, 0.3, 0.15, 0.1], [0, 1, 2, -1], 5, 3
    expected = 0.0
    for draw in itertools.product(range(4), repeat=k):
        weight = math.prod(probs[i] for i in draw)
        expected += weight * vote_from_counts(*signature(np.array([codes[i] for i in draw])), n)
    assert math.isclose(expected, vote_closed_form(0.45, [0.3, 0.15], n), rel_tol=1e-10)


def test_signatures_match_per_question():
    rng = np.random.default_rng(3)
    classes = rng.choice([-1, 0, 1, 2, 7, 1 << 33], size=60)
    offsets = np.array([0, 5, 5 + 17, 30, 31, 60])
    assert signatures(classes, offsets) == [signature(classes[a:b]) for a, b in
                                            itertools.pairwise(offsets)]


@given(st.lists(st.integers(1, 50), min_size=1, max_size=8), st.data())
@settings(max_examples=60, deadline=None)
def test_max_rank_weights_match_enumeration(lengths, data):
    n = data.draw(st.integers(1, len(lengths)))
    srt = sorted(lengths)
    w = max_rank_weights(len(srt), n)
    assert math.isclose(w.sum(), 1.0)
    brute = np.mean([max(s) for s in itertools.combinations(srt, n)])
    assert math.isclose(float(np.dot(w, srt)), float(brute), rel_tol=1e-12)
