"""The departure half of the SQLite store: her leaving, and each person's farewell.

A farewell is written in one ``BEGIN IMMEDIATE`` transaction with the row that marks it
done, and that transaction first looks for the row: two runs at once (a server and the
CLI on the same home), or a run resumed after a crash, can never write anyone a second.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from samantha.store.records import (
    Acquaintance,
    Departure,
    Event,
    Message,
)
from samantha.store.sqlite_core import MESSAGE_COLUMNS, SQLiteCore


def _departure(db: sqlite3.Connection) -> Departure | None:
    row = db.execute("SELECT started_at, finished_at FROM departure").fetchone()
    if row is None:
        return None
    people = db.execute("SELECT count(*) FROM people").fetchone()[0]
    done = db.execute("SELECT count(*) FROM farewells").fetchone()[0]
    return Departure(row[0], row[1], int(people), int(done))


def _insert(db: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> int:
    return int(db.execute(sql, args).lastrowid or 0)


class SQLiteDeparture(SQLiteCore):
    async def departure(self) -> Departure | None:
        return await self._read(_departure)

    async def begin_departure(self) -> Departure:
        now = self.now()

        def run(db: sqlite3.Connection) -> Departure:
            db.execute("INSERT OR IGNORE INTO departure (id, started_at) VALUES (1, ?)", (now,))
            found = _departure(db)
            assert found is not None
            return found

        return await self._write(run)

    async def finish_departure(self) -> Departure:
        now = self.now()

        def run(db: sqlite3.Connection) -> Departure:
            db.execute("UPDATE departure SET finished_at = coalesce(finished_at, ?)", (now,))
            found = _departure(db)
            if found is None:
                raise RuntimeError("departure has not begun")
            return found

        return await self._write(run)

    async def farewelled(self) -> set[int]:
        return {int(row[0]) for row in await self._scan("SELECT person_id FROM farewells")}

    async def add_farewell(
        self, person_id: int, title: str, text: str, data: dict[str, Any]
    ) -> Event | None:
        now = self.now()

        def run(db: sqlite3.Connection) -> Event | None:
            done = db.execute("SELECT 1 FROM farewells WHERE person_id = ?", (person_id,))
            here = db.execute("SELECT 1 FROM people WHERE id = ?", (person_id,)).fetchone()
            if done.fetchone() is not None or here is None:
                return None
            conversation = _insert(
                db,
                "INSERT INTO conversations (person_id, title, created_at, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (person_id, title, now, now),
            )
            message = _insert(
                db,
                "INSERT INTO messages (person_id, conversation_id, role, content, status,"
                " created_at) VALUES (?, ?, 'assistant', ?, 'complete', ?)",
                (person_id, conversation, text, now),
            )
            body = {**data, "text": text, "conversation_id": conversation, "message_id": message}
            event = _insert(
                db,
                "INSERT INTO events (person_id, kind, data, created_at)"
                " VALUES (?, 'farewell', ?, ?)",
                (person_id, json.dumps(body, ensure_ascii=False), now),
            )
            db.execute(
                "INSERT INTO farewells VALUES (?, ?, ?, ?, ?)",
                (person_id, conversation, message, event, now),
            )
            return Event(event, person_id, "farewell", body, now)

        return await self._write(run)

    async def farewell(self, person_id: int) -> Message | None:
        rows = await self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE person_id = ? AND id ="
            " (SELECT message_id FROM farewells WHERE person_id = ?)",
            (person_id, person_id),
        )
        return Message(*rows[0]) if rows else None

    async def acquaintance(self, person_id: int) -> Acquaintance:
        rows = await self._scan(  # all they have said
            "SELECT min(created_at), count(DISTINCT conversation_id), count(*) FROM messages"
            " WHERE person_id = ? AND role = 'user'",
            (person_id,),
        )
        since, conversations, messages = rows[0]
        return Acquaintance(since, int(conversations), int(messages))
