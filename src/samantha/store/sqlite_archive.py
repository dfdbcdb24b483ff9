"""The archive half of the SQLite store: one person's whole record (their letters and
relationship too), read and restored.

Reading takes one snapshot (a read transaction), so the messages a memory points at are
always in the same export. Restoring writes every row in one ``BEGIN IMMEDIATE``
transaction: a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from samantha.errors import InputError, NotFound
from samantha.store.records import (
    Conversation,
    Learned,
    MemoryRecord,
    Message,
    Person,
    PersonData,
    corrected_id,
    corrected_subject,
)
from samantha.store.sqlite_core import (
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    NEXT_PERSON_ID,
    SQLiteCore,
    refuse_if_departing,
)
from samantha.store.sqlite_letters import person_letters, restore_letters
from samantha.store.sqlite_memory import (
    MEMORY_COLUMNS,
    add_vector,
    bump_vectors,
    index_memory,
    index_turns,
    memory_record,
)
from samantha.store.sqlite_relationship import person_bond, restore_bond


def _snapshot(db: sqlite3.Connection, person_id: int) -> PersonData:
    found = db.execute("SELECT id, name, created_at FROM people WHERE id = ?", (person_id,))
    row = found.fetchone()
    if row is None:
        raise NotFound(f"person {person_id} not found")
    conversations = db.execute(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE person_id = ? ORDER BY id",
        (person_id,),
    ).fetchall()
    messages = db.execute(
        f"SELECT {MESSAGE_COLUMNS}, recallable FROM messages WHERE person_id = ? ORDER BY id",
        (person_id,),
    ).fetchall()
    memories = db.execute(
        f"SELECT {MEMORY_COLUMNS} FROM memories m WHERE m.person_id = ? ORDER BY m.id",
        (person_id,),
    ).fetchall()
    sources: dict[int, list[int]] = {}
    for memory_id, message_id in db.execute(
        "SELECT s.memory_id, s.message_id FROM memory_sources s JOIN memories m"
        " ON m.id = s.memory_id WHERE m.person_id = ? ORDER BY s.message_id",
        (person_id,),
    ):
        sources.setdefault(memory_id, []).append(message_id)
    return PersonData(
        Person(*row),
        tuple(Conversation(*c) for c in conversations),
        tuple(Message(*m[:-1]) for m in messages),
        frozenset(m[0] for m in messages if not m[-1]),
        tuple(memory_record(m, sources) for m in memories),
        person_letters(db, person_id),
        *person_bond(db, person_id),
    )


def _add_person(db: sqlite3.Connection, person: Person, token_hash: str, now: float) -> int:
    refuse_if_departing(db)
    try:
        cur = db.execute(
            f"INSERT INTO people (id, name, created_at) VALUES ({NEXT_PERSON_ID}, ?, ?)",
            (person.name, person.created_at),
        )
    except sqlite3.IntegrityError:
        raise InputError(
            f"a person named {person.name!r} already exists", code="name_taken", status=409
        ) from None
    person_id = int(cur.lastrowid or 0)
    db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, person_id, now))
    return person_id


def _add_history(db: sqlite3.Connection, person_id: int, data: PersonData) -> dict[int, int]:
    """Conversations and messages, in the archive's order; returns message ids old → new."""
    conversations: dict[int, int] = {}
    for c in sorted(data.conversations, key=lambda c: c.id):
        cur = db.execute(
            "INSERT INTO conversations (person_id, title, created_at, updated_at, summary)"
            " VALUES (?, ?, ?, ?, ?)",
            (person_id, c.title, c.created_at, c.updated_at, c.summary),
        )
        conversations[c.id] = int(cur.lastrowid or 0)
    messages: dict[int, int] = {}
    for m in sorted(data.messages, key=lambda m: m.id):
        cur = db.execute(
            "INSERT INTO messages (person_id, conversation_id, role, content, status,"
            " created_at, recallable) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                person_id,
                conversations[m.conversation_id],
                m.role,
                m.content,
                m.status,
                m.created_at,
                int(m.id not in data.forgotten),
            ),
        )
        messages[m.id] = int(cur.lastrowid or 0)
    for c in data.conversations:
        if c.summary_upto:
            db.execute(
                "UPDATE conversations SET summary_upto = ? WHERE person_id = ? AND id = ?",
                (messages[c.summary_upto], person_id, conversations[c.id]),
            )
    return messages


def _add_memories(
    db: sqlite3.Connection,
    person_id: int,
    memories: Sequence[MemoryRecord],
    vectors: Sequence[bytes | None],
    messages: dict[int, int],
    version: int,
) -> None:
    """Memories as they were (superseded ones too), with sources, full text and vectors
    (added at ``version``)."""
    ids: dict[int, int] = {}
    ordered = sorted(zip(memories, vectors, strict=True), key=lambda pair: pair[0].id)
    for record, vector in ordered:
        cur = db.execute(
            "INSERT INTO memories (person_id, kind, text, subject, happened_on, happened_until,"
            " importance, origin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _memory_row(person_id, record),
        )
        memory_id = ids[record.id] = int(cur.lastrowid or 0)
        db.executemany(
            "INSERT OR IGNORE INTO memory_sources VALUES (?, ?)",
            [(memory_id, messages[s]) for s in record.source_ids],
        )
        if record.superseded_by is None:  # only current records are searched
            index_memory(db, person_id, memory_id, record.text)
        if vector is not None:
            add_vector(db, person_id, "memory", memory_id, vector, version)
    for record in memories:
        corrects = corrected_id(record.subject)
        subject = corrected_subject(ids[corrects]) if corrects in ids else record.subject
        newer = ids[record.superseded_by] if record.superseded_by is not None else None
        db.execute(
            "UPDATE memories SET superseded_by = ?, subject = ? WHERE person_id = ? AND id = ?",
            (newer, subject, person_id, ids[record.id]),
        )


def _memory_row(person_id: int, r: MemoryRecord) -> tuple[Any, ...]:
    return (
        person_id,
        r.kind,
        r.text,
        r.subject,
        r.happened_on,
        r.happened_until,
        r.importance,
        r.origin,
        r.created_at,
    )


class SQLiteArchive(SQLiteCore):
    async def person_by_id(self, person_id: int) -> Person | None:
        rows = await self._rows(
            "SELECT id, name, created_at FROM people WHERE id = ?", (person_id,)
        )
        return Person(*rows[0]) if rows else None

    async def person_data(self, person_id: int) -> PersonData:
        def run(db: sqlite3.Connection) -> PersonData:
            db.execute("BEGIN")
            try:
                return _snapshot(db, person_id)
            finally:
                db.execute("ROLLBACK")

        return await self._read(run)

    async def restore_person(
        self,
        data: PersonData,
        token_hash: str,
        turns: Sequence[Learned],
        memory_vectors: Sequence[bytes | None],
    ) -> Person:
        now = self.now()

        def run(db: sqlite3.Connection) -> Person:
            person_id = _add_person(db, data.person, token_hash, now)
            messages = _add_history(db, person_id, data)
            version = bump_vectors(db, person_id)
            _add_memories(db, person_id, data.memories, memory_vectors, messages, version)
            index_turns(db, person_id, [_renumber(t, messages) for t in turns])
            restore_letters(db, person_id, data.letters)
            restore_bond(db, person_id, data.bond, data.milestones, messages)
            # the archive brings its memories: nothing in it is to be learned again
            db.execute("UPDATE messages SET learned = 1 WHERE person_id = ?", (person_id,))
            return replace(data.person, id=person_id)

        return await self._write(run)


def _renumber(turn: Learned, messages: dict[int, int]) -> Learned:
    previous = tuple(messages[i] for i in turn.previous_ids)
    return replace(turn, message_id=messages[turn.message_id], previous_ids=previous)
