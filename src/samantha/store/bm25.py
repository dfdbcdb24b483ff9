"""BM25 over one person's rows, from what full-text search found: worked out by hand for
a few hundred rows, on arrays for more.

What a search found comes as text, as SQLite's ``group_concat`` joined it: for each word
left in the search, the rows holding it in each column (ascending), with the column's
weight. The two ways give the same scores, summed in the same order (a row's frequency
column by column, its score word by word), and rank the same rows: which one runs is a
matter of cost alone. At 10,000 turns a common word finds some 3,000 rows. A dictionary
entry for each, built, looked up and summed in Python, cost more than the reads that found
them: on arrays, three searches took 6.9-8.5 ms instead of 9.2-11.8. At 200 records a
person, as in ``bench load``, the few dozen NumPy calls a search makes cost more than the
dictionaries (2.5 against 2.8 ms with arrays for every search). From :data:`ARRAYS_FROM`
rows the arrays cost less.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from samantha.store.joined import Ints, ints, joined_ints

K1 = 1.2
B = 0.75
ROW_BITS = 48  # a row's item id lies below (sqlite_search.ID_BITS); the word's place above
ARRAYS_FROM = 300  # rows found, all words and columns together, worked out on arrays

Floats = npt.NDArray[np.float64]
# for each word left in a search, the rows holding it in each column where there are any
# (their item ids joined with commas, ascending), with that column's weight
Lists = Sequence[Sequence[tuple[str, float]]]
Lengths = tuple[Ints, Ints]  # the rows proved the person's own (ascending), their lengths


def entries(lists: Lists) -> int:
    """How many rows the words found, a row counted once for each word and column."""
    return sum(rows.count(",") + 1 for columns in lists for rows, _ in columns)


def idf(df: int, total: int) -> float:
    """FTS5's own: a word in over half the person's rows (their own name, say) tells nothing
    about which one is meant; the +1 variant kept it, and lost on LoCoMo."""
    return max(1e-6, math.log((total - min(df, total) + 0.5) / (min(df, total) + 0.5)))


def by_hand(lists: Lists, fewer_than: float) -> list[dict[int, float]]:
    """Each word's rows with its column-weighted frequency, for the words found in fewer
    than ``fewer_than`` rows."""
    found = []
    for columns in lists:
        freq: dict[int, float] = {}
        for rows, weight in columns:
            for item in joined_ints(rows):
                freq[item] = freq.get(item, 0.0) + weight
        if len(freq) < fewer_than:
            found.append(freq)
    return found


def best_by_hand(
    found: Sequence[dict[int, float]], lengths: Lengths, total: int, average: float, limit: int
) -> list[tuple[int, float]]:
    """The ``limit`` best rows (item id, score), best first, of equal scores the oldest;
    rows without a length are neither scored nor counted in a word's idf."""
    norms = {
        item: K1 * (1 - B + B * n / average)
        for item, n in zip(lengths[0].tolist(), lengths[1].tolist(), strict=True)
    }
    scores = dict.fromkeys(norms, 0.0)
    for freq in found:
        mine = [(item, f, norms[item]) for item, f in freq.items() if item in norms]
        weight = idf(len(mine), total)
        for item, f, norm in mine:
            scores[item] += weight * f * (K1 + 1) / (f + norm)
    return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))


@dataclass(frozen=True)
class Found:
    """What a search's words found, on arrays: an entry for each word and row holding it,
    ordered by the word (its place among the words left) and then the row."""

    word: Ints
    rows: Ints
    freq: Floats  # the word's column-weighted frequency in the row
    words: int


def in_arrays(lists: Lists, fewer_than: float) -> Found:
    """:func:`by_hand` on arrays."""
    joined, of, weights, count = [], [], [], []
    for n, columns in enumerate(lists):
        for rows, weight in columns:
            joined.append(rows)
            of.append(n)
            weights.append(weight)
            count.append(rows.count(",") + 1)
    keys = ints(",".join(joined)) | np.repeat(np.array(of, np.int64) << ROW_BITS, count)
    freq = np.repeat(np.array(weights, np.float64), count)
    if len(set(of)) < len(of):  # a word in several columns: its rows merged, in order
        order = np.argsort(keys, kind="stable")  # of a row's columns, the first first
        keys = keys[order]
        first = firsts(keys)
        freq = np.bincount(np.cumsum(first) - 1, freq[order]).astype(np.float64)
        keys = keys[first]
    word = keys >> ROW_BITS
    kept = (np.bincount(word, minlength=len(lists)) < fewer_than)[word]
    return Found(word[kept], keys[kept] & ((1 << ROW_BITS) - 1), freq[kept], len(lists))


def best_in_arrays(
    found: Found, lengths: Lengths, total: int, average: float, limit: int
) -> list[tuple[int, float]]:
    """:func:`best_by_hand` on arrays."""
    items, length = lengths
    norms = K1 * (1 - B + B * length / average)
    word, at, freq = found.word, np.searchsorted(items, found.rows), found.freq
    mine = at < len(items)
    mine[mine] = items[at[mine]] == found.rows[mine]
    word, at, freq = word[mine], at[mine], freq[mine]
    weight = np.array([idf(df, total) for df in np.bincount(word, minlength=found.words).tolist()])
    # each row's score summed word by word, from nothing, in the words' order
    scores = np.bincount(at, weight[word] * freq * (K1 + 1) / (freq + norms[at]), len(items))
    if 0 < limit < len(items):  # those scoring at least the ``limit``-th best, in linear time
        best = scores >= np.partition(scores, len(items) - limit)[len(items) - limit]
        items, scores = items[best], scores[best]
    order = np.lexsort((items, -scores))[: max(0, limit)]  # best first; of equals, the oldest
    return list(zip(items[order].tolist(), scores[order].tolist(), strict=True))


def distinct(rows: Ints) -> Ints:
    """The values of ``rows``, once each, ascending."""
    ordered = np.sort(rows)
    return ordered[firsts(ordered)]


def firsts(ordered: Ints) -> npt.NDArray[np.bool_]:
    """Where each value of ``ordered`` (sorted) is first found."""
    first = np.empty(len(ordered), np.bool_)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return first
