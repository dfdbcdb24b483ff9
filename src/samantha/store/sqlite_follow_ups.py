"""The follow-up half of the SQLite store: events worth asking about, delivery, settings.

A delivery is one ``BEGIN IMMEDIATE`` transaction: her message, the person's event and the
record that the memory was followed up are committed together or not at all, and the
record's key (person, topic) makes a second delivery of the same memory impossible, even
from two processes (the server's scheduler and a cron job) at the same moment.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from samantha.errors import InputError, NotFound
from samantha.store.records import (
    CORRECTED,
    EventToFollow,
    FollowUp,
    Message,
    PersonSettings,
    corrected_subject,
    follow_up_event,
)
from samantha.store.sqlite_core import SQLiteCore
from samantha.store.sqlite_memory import MEMORY_COLUMNS, _sources, memory_record

ENDS = "coalesce(m.happened_until, m.happened_on)"  # the expression memories_events_by_end holds
CANDIDATES = (
    f"SELECT {MEMORY_COLUMNS},"
    " (SELECT min(x.created_at) FROM memory_sources s JOIN messages x ON x.id = s.message_id"
    "  WHERE s.memory_id = m.id),"
    " ps.proactive, ps.quiet_start, ps.quiet_end, ps.session_reminder_min"
    " FROM memories m LEFT JOIN person_settings ps ON ps.person_id = m.person_id"
    " WHERE m.kind = 'event' AND m.superseded_by IS NULL AND m.happened_on IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.person_id = m.person_id AND f.topic ="
    f"  CASE WHEN m.subject != '' THEN m.subject ELSE '{CORRECTED}' || m.id END)"
)
SETTINGS_COLUMNS = "proactive, quiet_start, quiet_end, session_reminder_min"


def _settings(
    proactive: int | None, start: str | None, end: str | None, reminder_min: int | None
) -> PersonSettings:
    return PersonSettings(None if proactive is None else bool(proactive), start, end, reminder_min)


def _candidates(db: sqlite3.Connection, sql: str, args: Sequence[Any]) -> list[EventToFollow]:
    rows = db.execute(sql, args).fetchall()
    sources = _sources(db, [r[0] for r in rows])
    return [
        EventToFollow(memory_record(r[:11], sources), float(r[11] or 0.0), _settings(*r[12:]))
        for r in rows
    ]


def _topic(db: sqlite3.Connection, person_id: int, memory_id: int) -> str | None:
    """The memory's topic if it is the person's current event and was not followed up."""
    row = db.execute(
        "SELECT subject FROM memories WHERE person_id = ? AND id = ? AND kind = 'event'"
        " AND superseded_by IS NULL",
        (person_id, memory_id),
    ).fetchone()
    if row is None:
        return None
    topic = str(row[0]) or corrected_subject(memory_id)
    done = db.execute(
        "SELECT 1 FROM follow_ups WHERE person_id = ? AND topic = ?", (person_id, topic)
    ).fetchone()
    return None if done else topic


def _conversation(db: sqlite3.Connection, person_id: int, busy_after: float) -> int | None:
    """Where the follow-up goes: the latest conversation, 0 for a new one, None to wait."""
    latest = db.execute(
        "SELECT id FROM conversations WHERE person_id = ? ORDER BY updated_at DESC, id DESC"
        " LIMIT 1",
        (person_id,),
    ).fetchone()
    if latest is None:
        return 0
    last = db.execute(
        "SELECT role, status, created_at FROM messages WHERE person_id = ?"
        " AND conversation_id = ? ORDER BY id DESC LIMIT 1",
        (person_id, latest[0]),
    ).fetchone()
    if last is None:
        return int(latest[0])
    role, status, at = last
    if status == "streaming" or (role == "user" and at > busy_after):
        return None  # mid-turn: the next pass comes soon
    if role == "user" or status != "complete":
        return 0  # it waits for a reply that can still be asked for
    return int(latest[0])


class SQLiteFollowUps(SQLiteCore):
    async def person_settings(self, person_id: int) -> PersonSettings:
        rows = await self._rows(
            f"SELECT {SETTINGS_COLUMNS} FROM person_settings WHERE person_id = ?", (person_id,)
        )
        return _settings(*rows[0]) if rows else PersonSettings()

    async def change_person_settings(
        self, person_id: int, changes: PersonSettings
    ) -> PersonSettings:
        now = self.now()
        proactive = None if changes.proactive is None else int(changes.proactive)
        quiet = (changes.quiet_start, changes.quiet_end)

        def run(db: sqlite3.Connection) -> PersonSettings:
            try:
                db.execute(
                    "INSERT INTO person_settings (person_id, proactive, quiet_start, quiet_end,"
                    " session_reminder_min, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (person_id) DO UPDATE SET"
                    " proactive = coalesce(excluded.proactive, proactive),"
                    " quiet_start = coalesce(excluded.quiet_start, quiet_start),"
                    " quiet_end = coalesce(excluded.quiet_end, quiet_end),"
                    " session_reminder_min ="
                    "  coalesce(excluded.session_reminder_min, session_reminder_min),"
                    " updated_at = excluded.updated_at",
                    (person_id, proactive, *quiet, changes.session_reminder_min, now),
                )
            except sqlite3.IntegrityError as exc:
                if "CHECK" in str(exc):  # a caller skipped the checks; nothing is written
                    raise InputError(f"a setting out of range was refused ({exc})") from None
                raise NotFound(f"person {person_id} not found") from None
            row = db.execute(
                f"SELECT {SETTINGS_COLUMNS} FROM person_settings WHERE person_id = ?",
                (person_id,),
            ).fetchone()
            return _settings(*row)

        return await self._write(run)

    async def due_follow_ups(
        self,
        first_day: str,
        last_day: str,
        *,
        default_on: bool,
        day_start: float,
        per_day: int,
        limit: int = 500,
    ) -> list[EventToFollow]:
        def run(db: sqlite3.Connection) -> list[EventToFollow]:
            found: list[EventToFollow] = []
            after = (0, 0)
            while True:  # in pages, so people who wait do not hide the rest
                page = _candidates(
                    db,
                    f"{CANDIDATES} AND {ENDS} BETWEEN ? AND ? AND coalesce(ps.proactive, ?) = 1"
                    " AND (SELECT count(DISTINCT f.message_id) FROM follow_ups f"
                    "  WHERE f.person_id = m.person_id AND f.sent_at >= ?) < ?"
                    " AND (m.person_id, m.id) > (?, ?) ORDER BY m.person_id, m.id LIMIT ?",
                    (first_day, last_day, int(default_on), day_start, per_day, *after, limit),
                )
                found += page
                if len(page) < limit:
                    return found
                after = (page[-1].memory.person_id, page[-1].memory.id)

        return await self._read(run)

    async def follow_up_candidates(self, person_id: int, first_day: str) -> list[EventToFollow]:
        return await self._read(
            lambda db: _candidates(
                db,
                f"{CANDIDATES} AND m.person_id = ? AND {ENDS} >= ? ORDER BY {ENDS}, m.id LIMIT 200",
                (person_id, first_day),
            )
        )

    async def send_follow_up(
        self,
        person_id: int,
        memory_ids: Sequence[int],
        text: str,
        *,
        day_start: float,
        per_day: int,
        busy_after: float,
    ) -> Message | None:
        now = self.now()

        def run(db: sqlite3.Connection) -> Message | None:
            if db.execute("SELECT 1 FROM departure").fetchone() is not None:
                return None  # she is leaving: her farewell is the last thing she sends
            topics = {m: t for m in dict.fromkeys(memory_ids) if (t := _topic(db, person_id, m))}
            if not memory_ids or memory_ids[0] not in topics:
                return None
            (sent,) = db.execute(
                "SELECT count(DISTINCT message_id) FROM follow_ups WHERE person_id = ?"
                " AND sent_at >= ?",
                (person_id, day_start),
            ).fetchone()
            conversation = _conversation(db, person_id, busy_after)
            if sent >= per_day or conversation is None:
                return None
            if conversation == 0:
                cur = db.execute(
                    "INSERT INTO conversations (person_id, title, created_at, updated_at)"
                    " VALUES (?, '', ?, ?)",
                    (person_id, now, now),
                )
                conversation = int(cur.lastrowid or 0)
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE person_id = ? AND id = ?",
                (now, person_id, conversation),
            )
            cur = db.execute(
                "INSERT INTO messages (person_id, conversation_id, role, content, status,"
                " created_at) VALUES (?, ?, 'assistant', ?, 'complete', ?)",
                (person_id, conversation, text, now),
            )
            message = Message(
                int(cur.lastrowid or 0), person_id, conversation, "assistant", text, "complete", now
            )
            data = json.dumps(follow_up_event(message, list(topics)), ensure_ascii=False)
            event = db.execute(
                "INSERT INTO events (person_id, kind, data, created_at)"
                " VALUES (?, 'message', ?, ?)",
                (person_id, data, now),
            ).lastrowid
            db.executemany(
                "INSERT INTO follow_ups VALUES (?, ?, ?, ?, ?, ?)",
                [(person_id, t, m, message.id, event, now) for m, t in topics.items()],
            )
            return message

        return await self._write(run)

    async def follow_ups(self, person_id: int, limit: int = 100) -> list[FollowUp]:
        rows = await self._rows(
            "SELECT f.memory_id, f.person_id, x.conversation_id, f.message_id, x.content,"
            " f.sent_at FROM follow_ups f JOIN messages x ON x.id = f.message_id"
            " AND x.person_id = f.person_id WHERE f.person_id = ?"
            " ORDER BY f.sent_at DESC, f.message_id DESC, f.memory_id LIMIT ?",
            (person_id, limit),
        )
        return [FollowUp(*row) for row in rows]
