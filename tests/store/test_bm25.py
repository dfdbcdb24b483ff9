"""BM25 worked out by hand and on arrays: the same scores, summed in the same order, and
the same rows ranked, whichever runs."""

from __future__ import annotations

import random

import numpy as np
import pytest

from samantha.store import bm25


def lists(rng: random.Random, words: int, rows: int) -> list[list[tuple[str, float]]]:
    """What a search of ``words`` words over two weighted columns might find."""
    found = []
    for _ in range(words):
        columns = []
        for weight in (1.0, 0.3):
            hits = sorted(rng.sample(range(1, rows + 1), rng.randint(0, rows // 2)))
            if hits:
                columns.append((",".join(map(str, hits)), weight))
        found.append(columns)
    return found


@pytest.mark.parametrize("seed", range(40))
def test_both_ways_rank_the_same_rows_with_the_same_scores(seed: int) -> None:
    rng = random.Random(seed)
    rows = rng.choice([5, 40, 400])
    found = lists(rng, rng.randint(1, 6), rows)
    few = rng.choice([rows, rows // 3, 3])  # some words are in too many rows to be read
    hits: set[int] = set().union(*bm25.by_hand(found, few))
    arrays = bm25.in_arrays(found, few)
    assert set(arrays.rows.tolist()) == hits
    # lengths are read for the hits, and a few have none (not the person's own): those are
    # neither scored nor counted
    measured = np.array(sorted(hits - set(rng.sample(sorted(hits), len(hits) // 10))))
    lengths = (measured, np.array([rng.randint(1, 40) for _ in measured], np.int64))
    total, average, limit = rows + 3, rng.uniform(3.0, 20.0), rng.choice([1, 5, 60])
    by_hand = bm25.best_by_hand(bm25.by_hand(found, few), lengths, total, average, limit)
    assert bm25.best_in_arrays(arrays, lengths, total, average, limit) == by_hand
    assert len(by_hand) == min(limit, len(measured))
    assert all(score > 0 for _, score in by_hand)
    assert [s for _, s in by_hand] == sorted((s for _, s in by_hand), reverse=True)


def test_equal_scores_rank_the_oldest_first() -> None:
    lengths = (np.array([1, 2, 3]), np.array([4, 4, 4]))
    found = [[("1,2,3", 1.0)]]
    for way in (
        bm25.best_by_hand(bm25.by_hand(found, 10), lengths, 10, 4.0, 2),
        bm25.best_in_arrays(bm25.in_arrays(found, 10), lengths, 10, 4.0, 2),
    ):
        assert [item for item, _ in way] == [1, 2]


def test_nothing_found_ranks_nothing() -> None:
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert bm25.best_by_hand(bm25.by_hand([], 10), none, 10, 4.0, 5) == []
    assert bm25.best_in_arrays(bm25.in_arrays([[("1,2", 1.0)]], 1), none, 10, 4.0, 5) == []
    assert bm25.entries([]) == 0 and bm25.entries([[("1,2", 1.0), ("7", 0.3)]]) == 3
