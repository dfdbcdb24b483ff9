"""The SQLite store: people, tokens, conversations, messages; memory, letters and archives
mixed in."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any, Literal

from samantha.errors import InputError, NotFound
from samantha.store.records import (
    Conversation,
    Event,
    Message,
    MessageStatus,
    Person,
)
from samantha.store.sqlite_archive import SQLiteArchive
from samantha.store.sqlite_backup import backup_database
from samantha.store.sqlite_core import (
    CONVERSATION_COLUMNS,
    MESSAGE_COLUMNS,
    NEXT_PERSON_ID,
    refuse_if_departing,
)
from samantha.store.sqlite_departure import SQLiteDeparture
from samantha.store.sqlite_follow_ups import SQLiteFollowUps
from samantha.store.sqlite_letters import SQLiteLetters
from samantha.store.sqlite_memory import SQLiteMemory, erase_memory
from samantha.store.sqlite_relationship import SQLiteRelationship
from samantha.store.sqlite_vectors import SQLiteVectors


class SQLiteStore(
    SQLiteArchive,
    SQLiteMemory,
    SQLiteLetters,
    SQLiteDeparture,
    SQLiteFollowUps,
    SQLiteRelationship,
    SQLiteVectors,
):
    # -- people and tokens ------------------------------------------------------------------
    async def create_person(self, name: str, token_hash: str) -> Person:
        now = self.now()

        def run(db: sqlite3.Connection) -> Person:
            refuse_if_departing(db)
            try:
                cur = db.execute(
                    f"INSERT INTO people (id, name, created_at) VALUES ({NEXT_PERSON_ID}, ?, ?)",
                    (name, now),
                )
            except sqlite3.IntegrityError:
                raise InputError(
                    f"a person named {name!r} already exists", code="name_taken", status=409
                ) from None
            person_id = int(cur.lastrowid or 0)
            db.execute("INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, person_id, now))
            return Person(person_id, name, now)

        return await self._write(run)

    async def person_by_name(self, name: str) -> Person | None:
        rows = await self._rows("SELECT id, name, created_at FROM people WHERE name = ?", (name,))
        return Person(*rows[0]) if rows else None

    async def person_by_token(self, token_hash: str) -> Person | None:
        rows = await self._rows(
            "SELECT p.id, p.name, p.created_at FROM tokens t JOIN people p ON p.id = t.person_id"
            " WHERE t.hash = ?",
            (token_hash,),
        )
        return Person(*rows[0]) if rows else None

    async def add_token(self, person_id: int, token_hash: str) -> None:
        now = self.now()
        await self._write(
            lambda db: db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?)", (token_hash, person_id, now)
            )
        )

    async def delete_person(self, person_id: int) -> dict[str, int]:
        """Remove the person and everything kept about them in one transaction, then empty
        the write-ahead log so no copy of the deleted pages is left beside the database."""

        def run(db: sqlite3.Connection) -> dict[str, int]:
            if db.execute("SELECT 1 FROM people WHERE id = ?", (person_id,)).fetchone() is None:
                raise NotFound(f"person {person_id} not found")
            removed = {"memories": erase_memory(db, person_id)}
            for table in ("events", "farewells", "relationships", "milestones"):
                db.execute(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
            for table in ("letters", "messages", "conversations", "tokens"):
                cur = db.execute(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
                removed[table] = cur.rowcount
            db.execute("DELETE FROM people WHERE id = ?", (person_id,))
            db.execute(
                "INSERT INTO retired_ids VALUES ('people', ?)"
                " ON CONFLICT (name) DO UPDATE SET highest = max(highest, excluded.highest)",
                (person_id,),
            )
            return removed

        removed = await self._write(run)
        self._collections.forget(person_id)
        await self._checkpoint()
        return removed

    async def list_people(self) -> list[Person]:
        rows = await self._scan("SELECT id, name, created_at FROM people ORDER BY id")
        return [Person(*row) for row in rows]

    async def people_by_recency(self) -> list[int]:
        rows = await self._scan(  # newest conversation first: their index holds both
            "SELECT person_id FROM conversations GROUP BY person_id ORDER BY max(updated_at) DESC"
        )
        return [int(row[0]) for row in rows]

    async def counts(self) -> dict[str, int]:
        def run(db: sqlite3.Connection) -> dict[str, int]:
            return {
                table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("people", "conversations", "messages")
            }

        return await self._read(run)

    async def count_people(self) -> int:
        return int((await self._scan("SELECT count(*) FROM people"))[0][0])

    async def backup(self, target: Path, *, replace: bool = False) -> None:
        # its own thread and connection: a long copy must not hold up readers or the writer
        await asyncio.to_thread(backup_database, self.path, target, replace=replace)

    # -- conversations --------------------------------------------------------------------
    async def create_conversation(self, person_id: int, title: str = "") -> Conversation:
        now = self.now()

        def run(db: sqlite3.Connection) -> Conversation:
            refuse_if_departing(db)
            try:
                cur = db.execute(
                    "INSERT INTO conversations (person_id, title, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?)",
                    (person_id, title, now, now),
                )
            except sqlite3.IntegrityError:  # deleted while the request was on its way
                raise NotFound(f"person {person_id} not found") from None
            return Conversation(int(cur.lastrowid or 0), person_id, title, now, now, "", 0)

        return await self._write(run)

    async def conversation(self, person_id: int, conversation_id: int) -> Conversation:
        rows = await self._rows(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE person_id = ? AND id = ?",
            (person_id, conversation_id),
        )
        if not rows:
            raise NotFound(f"conversation {conversation_id} not found")
        return Conversation(*rows[0])

    async def conversations(self, person_id: int, limit: int = 50) -> list[Conversation]:
        rows = await self._rows(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE person_id = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (person_id, limit),
        )
        return [Conversation(*row) for row in rows]

    async def latest_conversation(self, person_id: int) -> Conversation | None:
        found = await self.conversations(person_id, limit=1)
        return found[0] if found else None

    async def set_summary(
        self, person_id: int, conversation_id: int, summary: str, upto_id: int
    ) -> None:
        await self._write(
            lambda db: db.execute(
                "UPDATE conversations SET summary = ?, summary_upto = ?"
                " WHERE person_id = ? AND id = ? AND summary_upto < ?",
                (summary, upto_id, person_id, conversation_id, upto_id),
            )
        )

    # -- messages -------------------------------------------------------------------------
    async def add_message(
        self,
        person_id: int,
        conversation_id: int,
        role: Literal["user", "assistant"],
        content: str,
        status: MessageStatus = "complete",
    ) -> Message:
        now = self.now()

        def run(db: sqlite3.Connection) -> Message:
            if role == "user":  # her replies to what was said before she left still finish
                refuse_if_departing(db)
            touched = db.execute(
                "UPDATE conversations SET updated_at = ? WHERE person_id = ? AND id = ?",
                (now, person_id, conversation_id),
            )
            if touched.rowcount != 1:
                raise NotFound(f"conversation {conversation_id} not found")
            cur = db.execute(
                "INSERT INTO messages (person_id, conversation_id, role, content, status,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, conversation_id, role, content, status, now),
            )
            return Message(
                int(cur.lastrowid or 0), person_id, conversation_id, role, content, status, now
            )

        return await self._write(run)

    async def finish_message(
        self, person_id: int, message_id: int, content: str, status: MessageStatus
    ) -> None:
        await self._write(
            lambda db: db.execute(
                "UPDATE messages SET content = ?, status = ? WHERE person_id = ? AND id = ?",
                (content, status, person_id, message_id),
            )
        )

    async def messages(
        self,
        person_id: int,
        conversation_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int = 200,
    ) -> list[Message]:
        rows = await self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE person_id = ? AND conversation_id = ?"
            " AND id > ? AND id < ? ORDER BY id DESC LIMIT ?",
            (person_id, conversation_id, after_id, before_id or 2**62, limit),
        )
        return [Message(*row) for row in reversed(rows)]

    # -- events -----------------------------------------------------------------------------
    async def add_event(self, person_id: int, kind: str, data: dict[str, Any]) -> Event:
        now, body = self.now(), json.dumps(data, ensure_ascii=False)

        def run(db: sqlite3.Connection) -> Event:
            try:
                cur = db.execute(
                    "INSERT INTO events (person_id, kind, data, created_at) VALUES (?, ?, ?, ?)",
                    (person_id, kind, body, now),
                )
            except sqlite3.IntegrityError:
                raise NotFound(f"person {person_id} not found") from None
            return Event(int(cur.lastrowid or 0), person_id, kind, data, now)

        return await self._write(run)

    async def events_after(self, person_id: int, after_id: int, limit: int = 100) -> list[Event]:
        rows = await self._rows(
            "SELECT id, person_id, kind, data, created_at FROM events"
            " WHERE person_id = ? AND id > ? ORDER BY id LIMIT ?",
            (person_id, after_id, limit),
        )
        return [Event(i, p, kind, json.loads(data), at) for i, p, kind, data, at in rows]

    async def last_event_id(self, person_id: int) -> int:
        rows = await self._rows(
            "SELECT coalesce(max(id), 0) FROM events WHERE person_id = ?", (person_id,)
        )
        return int(rows[0][0])

    async def newest_events(self, after_id: int | None) -> tuple[int, dict[int, int]]:
        ((newest,),) = await self._rows("SELECT coalesce(max(id), 0) FROM events")
        if after_id is None or newest <= after_id:
            return int(newest), {}
        rows = await self._rows(  # through the key: only the events kept since
            "SELECT person_id, max(id) FROM events WHERE id > ? AND id <= ? GROUP BY person_id",
            (after_id, newest),
        )
        return int(newest), {int(p): int(last) for p, last in rows}

    async def recover(self) -> int:
        def run(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
            return cur.rowcount

        return await self._write(run)
