"""Schema migrations: ordered, named steps, each applied once inside the writer's transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[], str]


def m001_people_conversations_messages() -> str:
    return """
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at REAL NOT NULL
        );
        CREATE TABLE tokens (
            hash TEXT PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            created_at REAL NOT NULL
        );
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            title TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            summary_upto INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX conversations_by_person ON conversations(person_id, updated_at);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('complete', 'streaming', 'interrupted', 'failed')),
            created_at REAL NOT NULL
        );
        CREATE INDEX messages_by_conversation ON messages(person_id, conversation_id, id);
        CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
    """


MIGRATIONS: list[Migration] = [m001_people_conversations_messages]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply the steps not yet applied, in order, each in its own transaction."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for step in MIGRATIONS:
        if step.__name__ in done:
            continue
        record = f"INSERT INTO _migrations VALUES ('{step.__name__}', {time.time()})"
        try:
            db.executescript(f"BEGIN IMMEDIATE; {step()}; {record}; COMMIT;")
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        applied.append(step.__name__)
    return applied
