"""Keeping the full-text indexes in few segments while people talk.

FTS5 keeps an index as segments, one more for every transaction that writes to it, in
levels; it merges a level once four segments lie there, and only after every 64 pages it
writes. Learning commits often and writes little each time, so under load the segments
pile up (up to 16 a level), and a search looks each word up in every one of them. After
120 s of ``bench load`` at 8,316 people the turns', kinds' and records' indexes held 17,
11 and 20 segments; the same home with the segments written in the run merged two of a
level at a time (4, 4 and 2; 1.9 s of merging) recalled for 8-10% less CPU, the same
1,500 recalls alternated between the two homes call by call (issue 4).

So each transaction that learns also merges a little (:func:`tidy_search`), once however
many people's learning it carries (``SQLiteMemory._before_commit``): one page an index
(:data:`TIDY_PAGES`; at first up to 32, see below), two segments of a level into one of
the next (``usermerge`` 2, migration 13); the same run then ended with 7, 8 and 6
segments. It merges only where FTS5's merge begins below the level under the largest
segment (:func:`picked`), so the largest segment is never merged into this way: a bulk
import leaves one with everyone's history in it (``merge_search``), and pairing the run's
segments up into it rewrote all of it (95,000 pages) while people talked (p99 of first
words 9 s). FTS5's own merging, four of a level, goes on as before.

At first a tidy also waited while any level from the one under the largest up held two
segments. FTS5 moves a new segment up to the level of segments no larger than it, so two
of a few hundred pages came to lie under the largest and stayed: the tidy never ran again,
and 90 s at 4,000 people left 14 segments on the lowest level of the turns' index.

A tidy then wrote up to 32 pages an index, and if its merge went too far, 8, then 2. But
once FTS5 has merged the lowest level with pages left, it begins on the level holding the
most segments, and under load that was the level under the largest (it holds two or
three): undone. At 8,316 people, 95% of the records index's tidies undid all three of
its merges, most of the others' undid two, and the undone merges were 1-3 ms each: tidies
took 25 of the server's CPU seconds in 90 s and half the writer's time, which every
person's message waited behind (issue 4). With one page a merge ends with its page: in
120 s at 8,316 people none was undone, and the server spent 18% less CPU a reply (5.20
against 6.33 ms). With learning also committed in fewer transactions (``LATER_EVERY_S``
in :mod:`samantha.store.sqlite_core`), the indexes then held about as many segments as
before (16, 16 and 16 against 17, 14 and 8).
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3

from samantha.store.sqlite_search import SEARCH_TABLES

log = logging.getLogger(__name__)

# pages a tidy may write per index. FTS5 goes on merging while pages are left, into the
# next level it picks, and once the lowest levels were merged that was most often the
# level under the largest segment: a merge there is undone (see the module's note), and
# the pages were written for nothing. With one page a merge ends where its page does
TIDY_PAGES = 1
STRUCTURE_ID = 10  # FTS5's %_data row holding the index's structure


# one SQLite varint: up to eight bytes with the high bit set, then one more (whole if ninth)
_VARINT = re.compile(rb"[\x80-\xff]{0,8}[\x00-\xff]")


def _varint(found: bytes) -> int:
    if len(found) == 1:
        return found[0]
    value = 0
    for byte in found[:8]:
        value = value << 7 | byte & 0x7F
    return value << 8 | found[8] if len(found) == 9 else value


def levels(record: bytes) -> list[tuple[int, list[int]]] | None:
    """An FTS5 structure record's levels, lowest first: each level's segments being merged
    (its ``nMerge``) and its segments' sizes in pages; None for a record this does not
    read (the second format, with more per segment, or one cut short): it is then not
    merged here. Its varints are split by a regular expression (in C) and read by place:
    19 µs a record against 34 a byte at a time and by slicing what was left (the same
    records alternated), for each index, every learning transaction, all of it under the
    writer's hold on the GIL."""
    if record[4:8] == b"\xff\x00\x00\x01":  # the second format (SQLite 3.43 on)
        return None
    varints = _VARINT.findall(record, 4)  # after the cookie
    if not varints or (len(varints[-1]) < 9 and varints[-1][-1] >= 0x80):
        return None  # empty, or cut short in the middle of a varint
    values = [v[0] if len(v) == 1 else _varint(v) for v in varints]
    at, found = 3, []  # after the levels', segments' and writes' counts
    for _ in range(values[0] if len(values) >= at else 0):
        end = at + 2 + 3 * values[at + 1] if at + 2 <= len(values) else len(values) + 1
        if end > len(values):
            return None
        found.append(
            (values[at], [values[i + 2] - values[i + 1] + 1 for i in range(at + 2, end, 3)])
        )
        at = end
    return found if at == len(values) else None


def _largest(found: list[tuple[int, list[int]]]) -> int:
    """The level of the largest segment."""
    return max(range(len(found)), key=lambda i: max(found[i][1], default=0))


def picked(found: list[tuple[int, list[int]]], fewest: int = 2) -> int | None:
    """The level FTS5's next merge takes segments from (as ``fts5IndexMerge`` chooses):
    the lowest level with a merge under way, unless a level below it holds at least as
    many segments as that merge takes; else the level holding the most, the lowest of
    equals. None when it would merge nothing (no level holds ``fewest``)."""
    best, most = 0, 0
    for level, (merging, sizes) in enumerate(found):
        if merging:
            if merging > most:
                best, most = level, max(merging, fewest)
            break
        if len(sizes) > most:
            best, most = level, len(sizes)
    return best if found and most >= fewest else None


def worth_merging(found: list[tuple[int, list[int]]]) -> bool:
    """Whether FTS5's next merge (``merge``, ``usermerge`` 2) may go on: the level it
    takes (:func:`picked`) lies below ``g - 1``, ``g`` being the largest segment's level,
    so that what it makes is never paired with the largest segment. Segments may gather
    at ``g - 1`` meanwhile; they are few (a level is merged once a lower one holds as
    many) and rarely made."""
    return _under_largest(found) is not None


def _under_largest(found: list[tuple[int, list[int]]]) -> int | None:
    """The level under the largest segment's, where FTS5's next merge lies below it
    (:func:`worth_merging`); else None."""
    top = _largest(found) - 1 if found else 0
    level = picked(found)
    return top if top > 0 and level is not None and level < top else None


def _reached(
    before: list[tuple[int, list[int]]], after: list[tuple[int, list[int]]], top: int
) -> bool:
    """Whether a merge began at level ``top`` or above, or left more segments above it."""
    for level, (merging, sizes) in enumerate(after):
        if level >= top and merging:
            return True
        if level > top and len(sizes) > (len(before[level][1]) if level < len(before) else 0):
            return True
    return False


def _record(db: sqlite3.Connection, table: str) -> bytes | None:
    row = db.execute(f"SELECT block FROM {table}_data WHERE id = ?", (STRUCTURE_ID,)).fetchone()
    return bytes(row[0]) if row else None


@functools.lru_cache(maxsize=16)
def _plan(record: bytes) -> tuple[list[tuple[int, list[int]]], int] | None:
    """A structure record's levels and the level under its largest segment, when a merge
    is worth it (:func:`worth_merging`); else None. Kept by the record's bytes: an index
    the transaction did not write has the record it had last time, and is not read again
    (callers do not change what it returns)."""
    found = levels(record)
    top = None if found is None else _under_largest(found)
    return None if found is None or top is None else (found, top)


def tidy_search(db: sqlite3.Connection) -> None:
    """Merge a little of each full-text index where it is worth it, in the caller's
    transaction (see the module's note). A merge that reaches past what was worth it
    (FTS5 goes on to the next level while pages are left) is undone. A tidy that fails
    is undone alone, and logged: the transaction's own writes are kept."""
    db.execute("SAVEPOINT tidying")
    try:
        _tidy(db)
    except Exception as exc:  # the index is as it was: searches and the writes stand
        db.execute("ROLLBACK TO tidying")
        log.warning("the full-text indexes were not tidied: %s", exc)
    db.execute("RELEASE tidying")


def _tidy(db: sqlite3.Connection) -> None:
    for table in SEARCH_TABLES:
        record = _record(db, table)
        plan = _plan(record) if record is not None else None
        if plan is None:
            continue
        found, top = plan
        db.execute("SAVEPOINT tidy")
        db.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('merge', {TIDY_PAGES})")
        record = _record(db, table)
        after = levels(record) if record is not None else None
        if after is None or _reached(found, after, top):
            db.execute("ROLLBACK TO tidy")
        db.execute("RELEASE tidy")
