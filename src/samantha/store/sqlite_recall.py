"""The reads recall makes in the SQLite store: full-text ranking of a person's turns,
records and the kinds their turns name, their vectors since a version, and turns by id or
by their place in a conversation. Every statement names the person.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from samantha.store.joined import joined_ints
from samantha.store.records import Message, Said, VectorBlock, VectorChanges
from samantha.store.sqlite_core import MESSAGE_COLUMNS, SQLiteCore
from samantha.store.sqlite_search import (
    KINDS,
    KINDS_COMMON,
    MEMORIES,
    TURNS,
    Collections,
    chunks,
    rank,
    size,
)

READY_AT_ONCE = 64  # people whose search statistics one read readies


class SQLiteRecall(SQLiteCore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collections = Collections()

    async def search_turns(
        self,
        person_id: int,
        terms: Sequence[str],
        limit: int,
        context_weight: float = 0.3,
        exclude: Sequence[int] = (),
    ) -> list[tuple[int, float]]:
        """(message id, BM25 score over the person's own turns: higher is better) for the
        person's recallable turns; the turn before or after counts ``context_weight``.
        Turns in ``exclude`` are neither found nor counted."""
        weights = (1.0, context_weight)
        return await self._read(
            lambda db: rank(db, TURNS, person_id, terms, weights, limit, self._collections, exclude)
        )

    async def search_kinds(
        self, person_id: int, terms: Sequence[str], limit: int, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        return await self._read(
            lambda db: rank(
                db, KINDS, person_id, terms, (1.0,), limit, self._collections, exclude, KINDS_COMMON
            )
        )

    async def search_memories(
        self, person_id: int, terms: Sequence[str], limit: int
    ) -> list[tuple[int, float]]:
        """(memory id, BM25 score over the person's own records) for their current records."""
        return await self._read(
            lambda db: rank(db, MEMORIES, person_id, terms, (1.0,), limit, self._collections)
        )

    async def searchable(self, person_id: int) -> tuple[int, int]:
        """As the person's last searches counted them (recall asks right after its own):
        a count of their own, a tenth of a search at 10,000 rows, is read only before any."""
        turns, records = (self._collections.counted(i, person_id) for i in (TURNS, MEMORIES))
        if turns is not None and records is not None:
            return turns, records

        def run(db: sqlite3.Connection) -> tuple[int, int]:
            return size(db, TURNS, person_id), size(db, MEMORIES, person_id)

        return await self._read(run)

    async def ready_search(self, people: Sequence[int], seconds: float) -> int:
        """Each person's average row lengths (:meth:`Collections.hold`), a few people a
        read so that no read holds a reader thread long."""
        until, done = time.monotonic() + seconds, 0
        while done < len(people) and time.monotonic() < until:
            part = people[done : done + READY_AT_ONCE]

            def run(db: sqlite3.Connection, part: Sequence[int] = part) -> None:
                db.execute("BEGIN")  # each count with the rows it counted
                try:
                    for person_id in part:
                        self._collections.hold(db, person_id)
                finally:
                    db.execute("ROLLBACK")

            await self._read(run)
            done += len(part)
        return done

    async def vectors_since(self, person_id: int, version: int) -> VectorChanges:
        def run(db: sqlite3.Connection) -> VectorChanges:
            db.execute("BEGIN")  # the version and the rows as of one moment
            try:
                found = db.execute(
                    "SELECT version, removed FROM vector_versions WHERE person_id = ?",
                    (person_id,),
                ).fetchone()
                now, removed = (int(found[0]), int(found[1])) if found else (0, 0)
                if now in (0, version):
                    return VectorChanges(now, now == 0, ())
                complete = version <= 0 or removed > version or now < version
                if complete:
                    blocks = _vectors(
                        db,
                        "SELECT item, item_id, vector FROM vectors WHERE person_id = ?",
                        (person_id,),
                    )
                else:  # only the new ones: never through the rows (and blobs) of the rest
                    blocks = _vectors(
                        db,
                        "SELECT item, item_id, vector FROM vectors INDEXED BY vectors_added"
                        " WHERE person_id = ? AND added > ?",
                        (person_id, version),
                    )
            finally:
                db.execute("ROLLBACK")
            return VectorChanges(now, complete, blocks)

        return await self._read(run)

    async def messages_by_id(self, person_id: int, ids: Sequence[int]) -> list[Message]:
        if not ids:
            return []

        def run(db: sqlite3.Connection) -> list[Message]:
            found = []
            for chunk, marks in chunks(ids):
                found += db.execute(
                    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE +person_id = ?"  # by key
                    f" AND recallable = 1 AND id IN ({marks})",
                    (person_id, *chunk),
                ).fetchall()
            return [Message(*row) for row in found]

        return await self._read(run)

    async def said_by_id(self, person_id: int, ids: Sequence[int]) -> list[Said]:
        if not ids:
            return []

        def run(db: sqlite3.Connection) -> list[Said]:
            found = []
            for chunk, marks in chunks(ids):
                found += _said(
                    db,
                    f"SELECT {', '.join(SAID)} FROM messages"
                    f" WHERE +person_id = ? AND recallable = 1 AND id IN ({marks})",
                    (person_id, *chunk),
                )
            return [Said(*row) for row in found]

        return await self._read(run)

    async def nearby(
        self, person_id: int, anchors: Sequence[tuple[int, int]], reach: int
    ) -> list[tuple[int, int, Said]]:
        # one statement for every anchor and both sides, one row back
        side = (
            "SELECT a.anchor AS anchor, {before} AS before, id, conversation_id, role, created_at"
            " FROM anchors a"
            " JOIN messages ON id IN (SELECT id FROM messages WHERE person_id = ? AND"
            " conversation_id = a.conversation AND id {way} a.anchor AND recallable = 1"
            " ORDER BY id {order} LIMIT ?)"
        )
        sql = (
            f"WITH anchors (anchor, conversation) AS (VALUES {','.join(['(?, ?)'] * len(anchors))})"
            f" {side.format(before=1, way='<', order='DESC')}"
            f" UNION ALL {side.format(before=0, way='>', order='ASC')}"
        )

        def run(db: sqlite3.Connection) -> list[tuple[int, int, Said]]:
            sides: dict[tuple[int, bool], list[Said]] = {}
            args = (*(n for pair in anchors for n in pair), person_id, reach, person_id, reach)
            for anchor, before, *row in _said(db, sql, args, ("anchor", "before", *SAID)):
                sides.setdefault((anchor, bool(before)), []).append(Said(*row))
            found = []
            for anchor, _ in anchors:  # in their order, the turns before each then after
                for before in (True, False):
                    turns = sorted(sides.get((anchor, before), ()), key=lambda t: t.id)
                    ordered = reversed(turns) if before else turns
                    found += [(anchor, d, t) for d, t in enumerate(ordered, 1)]
            return found

        return await self._read(run) if anchors and reach > 0 else []


def _vectors(db: sqlite3.Connection, sql: str, args: tuple[int, ...]) -> tuple[VectorBlock, ...]:
    """The vectors of the rows ``sql`` selects (``item, item_id, vector``), one block a kind
    of item, its vectors joined into one blob: a person's first recall reads hundreds of
    vectors, and one row each cost that many waits to win back the GIL (see sqlite_search),
    and as many Python objects to build and join again. The reader puts them in order."""
    return tuple(
        VectorBlock(str(item), tuple(joined_ints(ids)), tuple(joined_ints(sizes)), joined)
        for item, ids, joined, sizes in db.execute(
            "SELECT item, group_concat(item_id), CAST(group_concat(vector, '') AS BLOB),"
            f" group_concat(length(vector)) FROM ({sql}) GROUP BY item",
            args,
        )
    )


SAID = ("id", "conversation_id", "role", "created_at")


def _said(
    db: sqlite3.Connection, sql: str, args: tuple[object, ...], columns: Sequence[str] = SAID
) -> list[list[Any]]:
    """The ``columns`` of the rows ``sql`` selects, read as one row of JSON: each row a
    reader thread steps to is a wait to win the GIL back (see sqlite_search). The columns
    must be numbers or text; a REAL comes back with 15 significant digits."""
    (rows,) = db.execute(
        f"SELECT json_group_array(json_array({', '.join(columns)})) FROM ({sql})", args
    ).fetchone()
    return list(json.loads(rows))
