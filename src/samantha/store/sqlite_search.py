"""Full-text ranking of one person's turns and memory records: BM25 with that person's own
statistics.

FTS5's ``bm25()`` weighs each query word by how many rows hold it in the whole index, and
counts them by reading that word's entire posting list: everyone's rows. Its cost therefore
grew with the number of people (25 ms a message at 8,316 people, issue 4), and a word's
weight depended on what strangers talk about. Here the person's own history is the
collection: each query word is matched on its own, inside the person's block of rowids
(below), by match-only queries (FTS5 walks the word's list there and never scores), and BM25
is computed from what those queries return. A word that fills this person's life ("Lisbon"
for someone who lives there) tells less about which of their turns is meant, so it weighs
less for them, whatever anyone else says.

A full-text rowid is the person's id above the item's own (:func:`key`), so each person's
rows lie together, in their own block, in every posting list. A search seeks straight to the
block and reads only the person's entries: at 1,000 people a word's match cost a fifth of
what it cost, in an index as freshly written, when rowids were the items' ids and the
person's entries were strewn through everyone's (issue 4); it no longer grows with the
number of people.

The score follows FTS5's own form, so the ranking it replaces changes only in its
statistics: per word, the frequency is the column-weighted sum over the row's columns (a
word counts once per column it is in); the row's length is all its columns together, in
tokens, read from FTS5's ``%_docsize`` table by rowid, as ``bm25()`` reads it; the average
length comes from the person's newest :data:`SAMPLE` rows, which keeps a long history's
cost bounded, and is held between searches (:class:`Collections`). Every hit is checked
against the row it indexes, the person's own, before it is scored. The arithmetic is
``bm25``'s.

The lists a search reads (a word's rows, the rows' lengths) come back joined into one row by
``group_concat``: Python's sqlite3 lets go of the GIL for every row it steps to and must win
it back after, and under load, with the event loop and the other readers holding it, that
wait, not SQLite, was most of a read's time (a reader's wall time was four to seven times its
CPU time at 1,000 people, issue 4).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from samantha.errors import StoreError
from samantha.store import bm25
from samantha.store.joined import Ints, ints

SAMPLE = 512  # rows the average length is taken over: plenty for an average
ID_BITS = 40  # a full-text rowid's low bits: the item's own id (the person's id is above)
ID_MASK = (1 << ID_BITS) - 1
NONE: Ints = np.zeros(0, np.int64)  # no rows (shared: never written to)
NONE.flags.writeable = False


def owner(person_id: int) -> str:
    """The token that marks a person's full-text rows as theirs."""
    return f"p{person_id}"


def key(person_id: int, item_id: int) -> int:
    """The full-text rowid of the person's turn or record ``item_id``: in their block."""
    if not 0 < item_id <= ID_MASK or not 0 < person_id < 1 << (63 - ID_BITS):
        raise StoreError(f"person {person_id}, item {item_id}: past the full-text index's ids")
    return person_id << ID_BITS | item_id


def block(person_id: int) -> tuple[int, int]:
    """The first and the last full-text rowid the person's rows can have."""
    return person_id << ID_BITS, person_id << ID_BITS | ID_MASK


def phrases(terms: Sequence[str]) -> list[str]:
    """The query words as FTS5 strings: quoted (so nothing the person typed is an operator or
    a column name), double quotes dropped, repeats and empty words left out."""
    found: dict[str, None] = {}
    for term in terms:
        word = term.replace('"', "").strip()
        if word:
            found.setdefault(f'"{word}"', None)
    return list(found)


@dataclass(frozen=True)
class Index:
    """One full-text table, and the table of the rows it indexes (aliased ``m``), which
    proves each hit the person's own: ``m.person_id`` and the condition ``keep``."""

    table: str
    columns: tuple[str, ...]  # the searched columns, after ``owner``
    rows: str
    keep: str


TURNS = Index("turn_fts", ("body", "context"), "messages", "m.recallable = 1")
KINDS = Index("turn_kinds", ("kinds",), "messages", "m.recallable = 1")
# a kind named in over a fifth of the person's turns ("person", "activity" for someone who
# talks of little else) is not read: it picks out little, and reading it costs the most
# (LoCoMo multi-hop 0.482 at a half, 0.486 at a fifth, 0.479 at a tenth)
KINDS_COMMON = 0.2
# the index holds current records only (``sqlite_memory.index_memory``); ``keep`` checks it
MEMORIES = Index("memory_fts", ("body",), "memories", "m.superseded_by IS NULL")
SEARCH_TABLES = tuple(index.table for index in (TURNS, KINDS, MEMORIES))
CHUNK = 500  # ids in one IN (...)
COMMON = 64  # rows a weightless word may be in and still be read


def chunks(ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """``ids`` in parts of at most :data:`CHUNK`, each with its marks for ``IN (...)``."""
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def tokens(size: bytes) -> int:
    """A row's length in tokens, all columns together, from FTS5's ``%_docsize`` record (one
    varint per column), as FTS5's own ``bm25()`` measures it; of several records joined,
    their rows' lengths together."""
    if size.isascii():  # every column under 128 tokens: one byte each
        return sum(size)
    total = value = 0
    for byte in size:  # SQLite's varint: seven bits a byte, the most significant first
        value = value << 7 | byte & 0x7F
        if byte < 0x80:
            total, value = total + value, 0
    return total


def rank(
    db: sqlite3.Connection,
    index: Index,
    person_id: int,
    terms: Sequence[str],
    weights: Sequence[float],
    limit: int,
    collections: Collections,
    exclude: Collection[int] = (),
    common: float = 0.5,
) -> list[tuple[int, float]]:
    """The person's ``limit`` best rows for ``terms`` as (item id, score), best first.

    ``weights`` gives each of ``index.columns`` its weight (a column weighted 0 is not
    searched). A word in more than ``common`` of the person's rows is not read (at a
    half, the default, it would weigh nothing anyway). Rows in ``exclude`` (the
    conversation on screen) are left out of the collection, its statistics included: the
    words being answered, once indexed, would otherwise make their own words look common,
    and whether they were indexed yet is a race with learning. A word counts once per
    column it is in: turns are short, and counting its repeats needs FTS5's
    ``highlight()``, which re-reads each matching row's text (ten times the cost of
    matching, measured).
    """
    words = phrases(terms)
    if not words:
        return []
    db.execute("BEGIN")  # the counts and the rows as of one moment (learning goes on meanwhile)
    try:
        hidden = NONE
        if exclude:
            hidden = _lengths(db, index, person_id, bm25.distinct(np.array(list(exclude))))[0]
        total = size(db, index, person_id) - len(hidden)
        average = collections.average(db, index, person_id, total)
        # a word in over half the person's rows weighs nothing (idf): when it is in more
        # than ``common`` of them, counted in C, it is left out before its rows are read
        # here (a short history keeps all its words: the rows they find still rank above
        # the rest)
        few = max(COMMON, total * common)
        lists = _frequencies(db, index, person_id, words, weights, few)
        if bm25.entries(lists) < bm25.ARRAYS_FROM:
            found = bm25.by_hand(lists, few)
            hits = np.array(sorted(set().union(*found).difference(hidden.tolist())), np.int64)
            lengths = _lengths(db, index, person_id, hits)
            return bm25.best_by_hand(found, lengths, total, average, limit)
        arrays = bm25.in_arrays(lists, few)
        hits = bm25.distinct(arrays.rows)
        hits = hits[~np.isin(hits, hidden)] if len(hidden) else hits
        lengths = _lengths(db, index, person_id, hits)
        return bm25.best_in_arrays(arrays, lengths, total, average, limit)
    finally:
        db.execute("ROLLBACK")


def _frequencies(
    db: sqlite3.Connection,
    index: Index,
    person_id: int,
    words: Sequence[str],
    weights: Sequence[float],
    fewer_than: float,
) -> bm25.Lists:
    """For each of ``words`` in fewer than ``fewer_than`` of the person's rows, in their
    order, the rows holding it in each searched column (``bm25.Lists``). One statement
    for all the words: per word and column, FTS5 walks the word's list within the
    person's block only, and gives back the rows it found unless there were
    ``fewer_than`` or more (NULL: the word is left out before Python reads a row of it).
    Each search is a subquery of its own, its word and the block bound to it: drawn from
    a table of the words joined to the block instead, the same reads cost a tenth more."""
    fts = index.table
    columns = [(c, w) for c, w in zip(index.columns, weights, strict=True) if w > 0]
    if not columns or not words:
        return []
    first, last = block(person_id)
    read = (
        f"(SELECT CASE WHEN count(*) < ? THEN coalesce(group_concat(rowid - ?), '') END"
        f" FROM {fts} WHERE {fts} MATCH ? AND rowid BETWEEN ? AND ?)"
    )
    args: list[object] = []
    for word in words:
        for column, _ in columns:
            args += [fewer_than, first, f"{column} : {word}", first, last]
    reads = ", ".join([read] * (len(words) * len(columns)))
    (row,) = db.execute(f"SELECT {reads}", args).fetchall()
    lists = [row[n : n + len(columns)] for n in range(0, len(row), len(columns))]
    return [
        [(rows, w) for rows, (_, w) in zip(found, columns, strict=True) if rows]
        for found in lists
        if None not in found
    ]


# a statement's ``%_docsize`` records (``d.sz``) as one blob, and each one's size in bytes
JOINED_SIZES = "CAST(group_concat(d.sz, '') AS BLOB), group_concat(length(d.sz))"


def _lengths_of(joined: bytes | None, sizes: str | None) -> Ints:
    """Row lengths in tokens from ``%_docsize`` records joined into one blob, each record
    ``sizes`` bytes long (:data:`JOINED_SIZES`). Where no column of any row reaches 128
    tokens, each is one byte, and a row's length the sum of its bytes, summed in C: a
    search at 10,000 turns reads the lengths of some 1,500 rows."""
    widths = ints(sizes)
    if not joined or not len(widths):
        return np.zeros(0, np.int64)
    if joined.isascii() and widths.min() > 0:
        starts = np.cumsum(widths) - widths
        return np.add.reduceat(np.frombuffer(joined, np.uint8), starts, dtype=np.int64)
    found, at = [], 0
    for width in widths.tolist():
        found.append(tokens(joined[at : at + width]))
        at += width
    return np.array(found, np.int64)


def _lengths(
    db: sqlite3.Connection, index: Index, person_id: int, items: Ints
) -> tuple[Ints, Ints]:
    """The hits (ascending) proved the person's own by the row they index (its
    ``person_id``, and ``index.keep``), and each one's length in tokens; others are dropped
    here."""
    first = block(person_id)[0]
    found: list[Ints] = []
    lengths: list[Ints] = []
    for chunk, marks in chunks(items.tolist()):
        ids, joined, sizes = db.execute(  # CROSS JOIN: ten times faster than the planner's
            f"SELECT group_concat(m.id), {JOINED_SIZES} FROM {index.table}_docsize d"
            f" CROSS JOIN {index.rows} m ON m.id = d.id - ? WHERE m.person_id = ?"
            f" AND {index.keep} AND d.id IN ({marks})",
            (first, person_id, *(first + item for item in chunk)),
        ).fetchone()
        found.append(ints(ids))
        lengths.append(_lengths_of(joined, sizes))
        if len(found[-1]) != len(lengths[-1]):
            raise StoreError(f"{index.table}: {len(found[-1])} rows, {len(lengths[-1])} lengths")
    if not found:
        return NONE, NONE
    items, length = found[0], lengths[0]
    if len(found) > 1:  # read in chunks
        items, length = np.concatenate(found), np.concatenate(lengths)
    if len(items) > 1 and not (items[1:] > items[:-1]).all():  # SQLite reads them so, unsaid
        order = np.argsort(items)
        items, length = items[order], length[order]
    return items, length


def size(db: sqlite3.Connection, index: Index, person_id: int) -> int:
    """How many of the person's rows ``index`` holds."""
    (count,) = db.execute(
        f"SELECT count(*) FROM {index.table}_docsize WHERE id BETWEEN ? AND ?", block(person_id)
    ).fetchone()
    return int(count)


class Collections:
    """Each person's collection per index, held between searches: its row count as last
    counted, and its average row length.

    The average is read over their newest :data:`SAMPLE` rows and read again only once
    their row count has moved by more than a sixteenth since: an average over so many rows
    barely moves in the meantime, and a short history, where it does, is read again at
    every change. A process that starts can read it ahead (:meth:`hold`) for the people
    it expects, whose first searches would each read it: 0.36 ms a person for the three
    indexes, where a recall worker's whole recall takes about 5 ms at 200 records
    (issue 4).
    """

    def __init__(self) -> None:
        self._held: dict[tuple[str, int], tuple[int, float]] = {}  # count then, average
        self._counted: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()  # searches run on several reader threads

    def counted(self, index: Index, person_id: int) -> int | None:
        """The person's row count as the last search counted it (None before any)."""
        with self._lock:
            return self._counted.get((index.table, person_id))

    def average(self, db: sqlite3.Connection, index: Index, person_id: int, total: int) -> float:
        """The average row length, for a person who has ``total`` rows now."""
        key = (index.table, person_id)
        with self._lock:
            self._counted[key] = total
            held = self._held.get(key)
        if held is not None and abs(total - held[0]) * 16 <= held[0]:
            return held[1]
        average = _average(db, index, person_id)
        with self._lock:
            self._held[key] = (total, average)
        return average

    def hold(self, db: sqlite3.Connection, person_id: int) -> None:
        """Read the person's average row length in every index ahead of their first
        search (their counts, as a search reports them, are left to that search)."""
        for index in (TURNS, KINDS, MEMORIES):
            total = size(db, index, person_id)
            if total:
                held = (total, _average(db, index, person_id))
                with self._lock:
                    self._held[(index.table, person_id)] = held

    def forget(self, person_id: int) -> None:
        with self._lock:
            for held in (self._held, self._counted):
                for key in [k for k in held if k[1] == person_id]:
                    del held[key]


def _average(db: sqlite3.Connection, index: Index, person_id: int) -> float:
    """The average length in tokens of the person's newest :data:`SAMPLE` rows. Their
    ``%_docsize`` records come back as one blob: a varint each column, so the sum of every
    varint in it is the rows' tokens together, and no row's own length is needed."""
    count, joined = db.execute(  # one row, not SAMPLE
        f"SELECT count(*), CAST(group_concat(sz, '') AS BLOB) FROM (SELECT sz FROM"
        f" {index.table}_docsize WHERE id BETWEEN ? AND ? ORDER BY id DESC LIMIT {SAMPLE})",
        block(person_id),
    ).fetchone()
    return max(1.0, tokens(joined or b"") / max(1, int(count)))
