"""The memory half of the SQLite store: records, their sources, full-text and vectors.

Every statement names the person. A full-text row's rowid lies in its person's block
(``sqlite_search.key``), which each search is bounded by, and every hit is joined back to
its row with the same person.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from samantha.errors import NotFound
from samantha.store.joined import joined_ints
from samantha.store.records import (
    Learned,
    MemoryKind,
    MemoryRecord,
    Message,
    NewMemory,
    Person,
    corrected_subject,
)
from samantha.store.sqlite_core import MESSAGE_COLUMNS
from samantha.store.sqlite_recall import SQLiteRecall
from samantha.store.sqlite_search import SEARCH_TABLES, block, chunks, key, owner
from samantha.store.sqlite_tidy import tidy_search

MEMORY_COLUMNS = (
    "m.id, m.person_id, m.kind, m.text, m.subject, m.happened_on, m.happened_until, "
    "m.importance, m.origin, m.created_at, m.superseded_by"
)


def memory_record(row: tuple[Any, ...], sources: dict[int, list[int]]) -> MemoryRecord:
    memory_id, person_id, kind, text, subject, on, until, importance, origin, at, newer = row
    return MemoryRecord(
        memory_id,
        person_id,
        kind,
        text,
        subject,
        on,
        until,
        importance,
        origin,
        at,
        newer,
        tuple(sources.get(memory_id, ())),
    )


# a turn learning reads: kept, whole, with words (an empty reply row is not read)
UNLEARNED = "learned = 0 AND recallable = 1 AND status = 'complete' AND content != ''"
FEW = 50  # records of one kind read on the event loop's thread (the people in one's life)


def _by_id(
    db: sqlite3.Connection,
    columns: str,
    person_id: int,
    ids: Sequence[int],
    *,
    current: bool = False,
) -> tuple[list[Any], dict[int, list[int]]]:
    """The ``columns`` (the id first) of the person's records among ``ids`` (``current``:
    only those not superseded), and the turns each was drawn from."""
    rows = db.execute(
        f"SELECT {columns} FROM memories m"
        # "+": look the ids up by key; the person's index would scan all their rows
        f" WHERE +m.person_id = ? AND m.id IN ({','.join('?' * len(ids))})"
        + (" AND m.superseded_by IS NULL" if current else ""),
        (person_id, *ids),
    ).fetchall()
    return rows, _sources(db, [row[0] for row in rows])


def _sources(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for chunk, marks in chunks(ids):
        memories, messages = db.execute(  # one row, not one per source (see sqlite_search)
            "SELECT group_concat(memory_id), group_concat(message_id) FROM memory_sources"
            f" WHERE memory_id IN ({marks})",
            chunk,
        ).fetchone()
        for memory_id, message_id in zip(joined_ints(memories), joined_ints(messages), strict=True):
            found.setdefault(memory_id, []).append(message_id)
    for sources in found.values():
        sources.sort()
    return found


def bump_vectors(db: sqlite3.Connection, person_id: int, *, removed: bool = False) -> int:
    """Note that the person's vectors changed (``removed``: some went), so cached copies are
    brought up to date; return the new version, which the vectors added with it carry."""
    db.execute(
        "INSERT INTO vector_versions (person_id, version) VALUES (?, 1)"
        " ON CONFLICT (person_id) DO UPDATE SET version = version + 1",
        (person_id,),
    )
    version = int(
        db.execute(
            "SELECT version FROM vector_versions WHERE person_id = ?", (person_id,)
        ).fetchone()[0]
    )
    if removed:
        db.execute("UPDATE vector_versions SET removed = version WHERE person_id = ?", (person_id,))
    return version


def add_vector(
    db: sqlite3.Connection, person_id: int, item: str, item_id: int, vector: bytes, version: int
) -> None:
    """Keep one vector (replacing any the item had) as added at ``version``."""
    db.execute(
        "INSERT OR REPLACE INTO vectors (person_id, item, item_id, vector, added)"
        " VALUES (?, ?, ?, ?, ?)",
        (person_id, item, item_id, vector, version),
    )


def index_memory(db: sqlite3.Connection, person_id: int, memory_id: int, text: str) -> None:
    """Make a current record searchable by its words.

    The full-text index holds current records only: one that is corrected or moved on from
    leaves it (:func:`unindex_memories`), and comes back if the record that superseded it is
    forgotten. Search reads a word's every row in the person's block before it can drop one,
    and a long history supersedes often: at 10,000 turns, 7,317 of the 12,499 records had
    been (``bench memory --scale``)."""
    db.execute(
        "INSERT INTO memory_fts (rowid, owner, body) VALUES (?, ?, ?)",
        (key(person_id, memory_id), owner(person_id), text),
    )


def unindex_memories(db: sqlite3.Connection, person_id: int, ids: Sequence[int]) -> None:
    """Take records out of the full-text index (superseded, or gone)."""
    db.executemany("DELETE FROM memory_fts WHERE rowid = ?", [(key(person_id, i),) for i in ids])


def index_turns(db: sqlite3.Connection, person_id: int, learned: Sequence[Learned]) -> set[int]:
    """Index the person's recallable, not yet learned turns; return the ids now learned.
    A turn whose kinds are known is marked kinded in the same statement."""
    fresh = set()
    version = 0
    for item in learned:
        cur = db.execute(
            "UPDATE messages SET learned = 1, kinded = ? WHERE person_id = ? AND id = ?"
            " AND recallable = 1 AND learned = 0",
            (item.kinds is not None, person_id, item.message_id),
        )
        if cur.rowcount != 1:
            continue
        fresh.add(item.message_id)
        version = version or bump_vectors(db, person_id)
        db.execute(
            "INSERT INTO turn_fts (rowid, owner, body, context) VALUES (?, ?, ?, ?)",
            (key(person_id, item.message_id), owner(person_id), item.search_text, item.context),
        )
        for previous in item.previous_ids if item.content else ():
            db.execute(
                "UPDATE turn_fts SET context = context || ' ' || ? WHERE rowid = ?",
                (item.content, key(person_id, previous)),
            )
        if item.vector is not None:
            add_vector(db, person_id, "turn", item.message_id, item.vector, version)
        if item.kinds:
            _add_kinds_row(db, person_id, item.message_id, item.kinds)
    return fresh


def add_kinds(db: sqlite3.Connection, person_id: int, found: Sequence[tuple[int, str]]) -> None:
    """Index what the person's turns learned without them name kinds of (one that names
    none gets no row)."""
    for message_id, kinds in found:
        cur = db.execute(
            "UPDATE messages SET kinded = 1 WHERE person_id = ? AND id = ? AND learned = 1"
            " AND recallable = 1 AND kinded = 0",
            (person_id, message_id),
        )
        if cur.rowcount == 1 and kinds:
            _add_kinds_row(db, person_id, message_id, kinds)


def _add_kinds_row(db: sqlite3.Connection, person_id: int, message_id: int, kinds: str) -> None:
    db.execute(
        "INSERT INTO turn_kinds (rowid, owner, kinds) VALUES (?, ?, ?)",
        (key(person_id, message_id), owner(person_id), kinds),
    )


def _insert(
    db: sqlite3.Connection, person_id: int, memories: Sequence[NewMemory], now: float
) -> list[int]:
    ids = []
    version = 0
    for new in memories:
        wanted = set(new.source_ids)
        owned = db.execute(
            f"SELECT count(*) FROM messages WHERE person_id = ? AND id IN "
            f"({','.join('?' * len(wanted))})",
            (person_id, *wanted),
        ).fetchone()[0]
        if not wanted or owned != len(wanted):
            raise NotFound("a memory's source messages must be the person's own")
        cur = db.execute(
            "INSERT INTO memories (person_id, kind, text, subject, happened_on,"
            " happened_until, importance, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                person_id,
                new.kind,
                new.text,
                new.subject,
                new.happened_on,
                new.happened_until,
                new.importance,
                new.origin,
                now,
            ),
        )
        memory_id = int(cur.lastrowid or 0)
        if new.subject:
            moved_on = db.execute(
                "UPDATE memories SET superseded_by = ? WHERE person_id = ? AND subject = ?"
                " AND subject != '' AND superseded_by IS NULL AND id != ? RETURNING id",
                (memory_id, person_id, new.subject, memory_id),
            ).fetchall()
            unindex_memories(db, person_id, [i for (i,) in moved_on])
        db.executemany(
            "INSERT OR IGNORE INTO memory_sources VALUES (?, ?)",
            [(memory_id, m) for m in sorted(wanted)],
        )
        index_memory(db, person_id, memory_id, new.text)
        if new.vector is not None:
            version = version or bump_vectors(db, person_id)
            add_vector(db, person_id, "memory", memory_id, new.vector, version)
        ids.append(memory_id)
    return ids


def merge_search(db: sqlite3.Connection) -> None:
    """Rewrite each full-text index as one segment (FTS5's ``optimize``), in the caller's
    transaction.

    FTS5 keeps an index as segments, one more for every transaction that writes to it,
    merged in tiers as they pile up (four of a size into one of the next). A search for a
    word looks it up in every segment and, in each large one, seeks through the word's
    list, everyone's, to the person's block. A home filled person by person (a bulk
    import: one transaction each) is left with dozens of segments, several of them large:
    at 8,316 people, 26 in the turns' index, and a person's search of their turns and
    records cost three times what it costs once they are merged (0.55 against 0.18 ms,
    issue 4). Rewriting the index takes seconds at that size and holds the writer
    throughout, so it is done after a bulk import, not while people talk; what is written
    later is kept in few segments by :func:`tidy_search`.
    """
    for table in SEARCH_TABLES:
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")


def erase_memory(db: sqlite3.Connection, person_id: int) -> int:
    """Remove all a person's memory (records, sources, full-text rows, vectors) in the
    caller's transaction; return how many memory records went.

    FTS5 deletes by writing a marker into a new index segment and keeps the deleted words in
    the older segments until they are merged, so the indexes are merged into one segment
    each here (:func:`merge_search`): otherwise the words stay in the file. The cost grows
    with everyone's index, which is acceptable for something as rare as deleting a person.
    """
    for table in SEARCH_TABLES:
        db.execute(f"DELETE FROM {table} WHERE rowid BETWEEN ? AND ?", block(person_id))
    merge_search(db)
    db.execute(
        "DELETE FROM memory_sources WHERE memory_id IN (SELECT id FROM memories WHERE"
        " person_id = ?) OR message_id IN (SELECT id FROM messages WHERE person_id = ?)",
        (person_id, person_id),
    )
    db.execute("DELETE FROM vectors WHERE person_id = ?", (person_id,))
    db.execute("DELETE FROM vector_versions WHERE person_id = ?", (person_id,))
    return db.execute("DELETE FROM memories WHERE person_id = ?", (person_id,)).rowcount


class SQLiteMemory(SQLiteRecall):
    # learning wrote to the full-text indexes in the transaction under way (writer thread)
    _untidy = False

    def _before_commit(self, db: sqlite3.Connection) -> None:
        """Tidy the full-text indexes once a transaction that learned (:func:`tidy_search`),
        not once for each learning pass in it."""
        if self._untidy:
            self._untidy = False
            tidy_search(db)

    async def merge_search(self) -> None:
        await self._write(merge_search)

    async def add_memories(self, person_id: int, memories: Sequence[NewMemory]) -> list[int]:
        """Keep memories; a new one with a known subject supersedes the older one."""
        now = self.now()
        return await self._write(lambda db: _insert(db, person_id, memories, now))

    async def memories(
        self,
        person_id: int,
        *,
        kind: MemoryKind | None = None,
        include_superseded: bool = False,
        limit: int = 200,
        before_id: int | None = None,
    ) -> list[MemoryRecord]:
        def run(db: sqlite3.Connection) -> list[MemoryRecord]:
            sql = f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.person_id = ? AND m.id < ?"
            args: list[Any] = [person_id, before_id or 2**62]
            if kind:
                sql += " AND m.kind = ?"
                args.append(kind)
            if not include_superseded:
                sql += " AND m.superseded_by IS NULL"
            rows = db.execute(sql + " ORDER BY m.id DESC LIMIT ?", (*args, limit)).fetchall()
            sources = _sources(db, [r[0] for r in rows])
            return [memory_record(r, sources) for r in rows]

        if kind and limit <= FEW:  # a point read through the person's index: read right here
            return self._reading(run)
        return await self._read(run)

    async def memories_by_id(self, person_id: int, ids: Sequence[int]) -> list[MemoryRecord]:
        def run(db: sqlite3.Connection) -> list[MemoryRecord]:
            rows, sources = _by_id(db, MEMORY_COLUMNS, person_id, ids)
            return [memory_record(r, sources) for r in rows]

        return await self._read(run) if ids else []

    async def memory_links(
        self, person_id: int, ids: Sequence[int]
    ) -> dict[int, tuple[float, tuple[int, ...]]]:
        def run(db: sqlite3.Connection) -> dict[int, tuple[float, tuple[int, ...]]]:
            rows, sources = _by_id(db, "m.id, m.importance", person_id, ids, current=True)
            return {m: (importance, tuple(sources.get(m, ()))) for m, importance in rows}

        return await self._read(run) if ids else {}

    async def memory(self, person_id: int, memory_id: int) -> MemoryRecord:
        found = await self.memories_by_id(person_id, [memory_id])
        if not found:
            raise NotFound(f"memory {memory_id} not found")
        return found[0]

    async def correct_memory(
        self, person_id: int, memory_id: int, text: str, vector: bytes | None = None
    ) -> int:
        """Replace a memory's words; the old record is kept, marked superseded."""
        old = await self.memory(person_id, memory_id)
        subject = old.subject or corrected_subject(old.id)
        new = NewMemory(
            old.kind,
            text,
            old.source_ids,
            subject,
            old.happened_on,
            old.happened_until,
            max(old.importance, 0.7),
            "corrected",
        )
        if not old.subject:
            await self._write(
                lambda db: db.execute(
                    "UPDATE memories SET subject = ? WHERE person_id = ? AND id = ?",
                    (subject, person_id, old.id),
                )
            )
        return (await self.add_memories(person_id, [new]))[0]

    async def forget_memory(self, person_id: int, memory_id: int) -> int:
        """Forget a memory, its source turns and her replies to them, for recall, and the
        milestones those turns made ("the first time you told me about ...").

        Returns how many turns are no longer recallable.
        """
        record = await self.memory(person_id, memory_id)

        def run(db: sqlite3.Connection) -> int:
            turns = list(record.source_ids)
            for source in record.source_ids:  # her reply to those words often repeats them
                answer = db.execute(
                    "SELECT r.id FROM messages r JOIN messages m ON m.id = ?"
                    " AND r.conversation_id = m.conversation_id WHERE r.person_id = ?"
                    " AND m.person_id = ? AND r.id > m.id AND r.role = 'assistant'"
                    " AND m.role = 'user' ORDER BY r.id LIMIT 1",
                    (source, person_id, person_id),
                ).fetchone()
                if answer:
                    turns.append(int(answer[0]))
            turns += [  # her follow-up asked about it in its words
                int(r[0])
                for r in db.execute(
                    "SELECT message_id FROM follow_ups WHERE person_id = ? AND memory_id = ?",
                    (person_id, memory_id),
                )
            ]
            related = {memory_id}
            for chunk, marks in chunks(turns):
                related.update(
                    r[0]
                    for r in db.execute(
                        f"SELECT s.memory_id FROM memory_sources s JOIN memories m"
                        f" ON m.id = s.memory_id WHERE +m.person_id = ? AND s.message_id IN"
                        f" ({marks})",
                        (person_id, *chunk),
                    )
                )
                db.execute(
                    f"UPDATE messages SET recallable = 0 WHERE +person_id = ? AND id IN ({marks})",
                    (person_id, *chunk),
                )
                db.execute(  # "the first time you told me about your sister, Ada" goes too
                    f"DELETE FROM milestones WHERE person_id = ? AND key LIKE 'told:%'"
                    f" AND message_id IN ({marks})",
                    (person_id, *chunk),
                )
                for table in ("turn_fts", "turn_kinds"):
                    db.executemany(
                        f"DELETE FROM {table} WHERE rowid = ?",
                        [(key(person_id, t),) for t in chunk],
                    )
                db.executemany(
                    "DELETE FROM vectors WHERE person_id = ? AND item = 'turn' AND item_id = ?",
                    [(person_id, t) for t in chunk],
                )
            bump_vectors(db, person_id, removed=True)
            # what a forgotten record had superseded is current again (ON DELETE SET NULL)
            # unless it goes too: it is searched again
            revived = [
                (i, text)
                for gone in related
                for i, text in db.execute(
                    "SELECT id, text FROM memories WHERE person_id = ? AND superseded_by = ?",
                    (person_id, gone),
                )
                if i not in related
            ]
            unindex_memories(db, person_id, sorted(related))
            for gone in related:  # memories drawn from the same words go with them
                db.execute(
                    "DELETE FROM vectors WHERE person_id = ? AND item = 'memory' AND item_id = ?",
                    (person_id, gone),
                )
                db.execute("DELETE FROM memories WHERE person_id = ? AND id = ?", (person_id, gone))
            for i, text in revived:
                index_memory(db, person_id, i, text)
            return len(turns)

        return await self._write(run)

    # -- learning -------------------------------------------------------------------------------
    async def unlearned(self, person_id: int, limit: int = 64) -> list[Message]:
        rows = await self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE person_id = ? AND {UNLEARNED}"
            " ORDER BY id LIMIT ?",
            (person_id, limit),
        )
        return [Message(*row) for row in rows]

    async def people_to_learn(self) -> list[Person]:
        rows = await self._scan(
            "SELECT id, name, created_at FROM people p WHERE EXISTS (SELECT 1 FROM messages"
            f" WHERE person_id = p.id AND {UNLEARNED}) ORDER BY id"
        )
        return [Person(*row) for row in rows]

    async def unkinded(self, person_id: int, limit: int = 256) -> list[Message]:
        rows = await self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages INDEXED BY messages_unkinded"
            " WHERE person_id = ? AND learned = 1 AND kinded = 0 AND recallable = 1"
            " ORDER BY id LIMIT ?",
            (person_id, limit),
        )
        return [Message(*row) for row in rows]

    async def add_kinds(self, person_id: int, found: Sequence[tuple[int, str]]) -> None:
        def run(db: sqlite3.Connection) -> None:
            add_kinds(db, person_id, found)
            self._untidy = True

        await self._write(run, later=True)

    async def learn(
        self, person_id: int, learned: Sequence[Learned], memories: Sequence[NewMemory]
    ) -> list[int]:
        """Index learned turns and keep the memories found in them, in one transaction."""
        now = self.now()

        def run(db: sqlite3.Connection) -> list[int]:
            fresh = index_turns(db, person_id, learned)
            kept = [m for m in memories if set(m.source_ids) <= fresh]
            ids = _insert(db, person_id, kept, now)
            self._untidy = True
            return ids

        return await self._write(run, later=True)
