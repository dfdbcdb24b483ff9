"""SQLite store: WAL, one writer thread fed in order, readers on their own connections.

Every write runs on the single writer thread inside ``BEGIN IMMEDIATE`` and is committed
(and so durable under WAL with ``synchronous=FULL``) before its coroutine returns; that is
what lets a person's message be safe on disk before the reply to it starts.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from samantha.errors import InputError, NotFound
from samantha.store.base import Clock, Conversation, Message, MessageStatus, Person, Store
from samantha.store.migrations import migrate

T = TypeVar("T")
_CONVERSATION = "id, person_id, title, created_at, updated_at, summary, summary_upto"
_MESSAGE = "id, person_id, conversation_id, role, content, status, created_at"


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    if readonly:
        db.execute("PRAGMA query_only = ON")
    return db


class SQLiteStore(Store):
    def __init__(self, path: Path, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.path = path
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._write_db: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def setup() -> None:
            db = _connect(self.path)
            db.execute("PRAGMA journal_mode = WAL")
            migrate(db)
            self._write_db = db

        await self._on(self._writer, setup)

    async def close(self) -> None:
        def shut() -> None:
            with self._all_lock:
                for db in self._all:
                    db.close()
                self._all.clear()

        await self._on(self._readers, lambda: None)
        self._readers.shutdown(wait=True)
        if self._write_db is not None:
            await self._on(self._writer, self._write_db.close)
            self._write_db = None
        self._writer.shutdown(wait=True)
        shut()

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            db = self._write_db
            if db is None:
                raise RuntimeError("store is not open")
            db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result

        return await self._on(self._writer, run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            db = getattr(self._local, "db", None)
            if db is None:
                db = self._local.db = _connect(self.path, readonly=True)
                with self._all_lock:
                    self._all.append(db)
            return fn(db)

        return await self._on(self._readers, run)

    async def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await self._read(lambda db: db.execute(sql, args).fetchall())

    # -- people and tokens ------------------------------------------------------------------
    async def create_person(self, name: str, token_hash: str) -> Person:
        now = self.now()

        def run(db: sqlite3.Connection) -> Person:
            try:
                cur = db.execute("INSERT INTO people (name, created_at) VALUES (?, ?)", (name, now))
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

    async def list_people(self) -> list[Person]:
        rows = await self._rows("SELECT id, name, created_at FROM people ORDER BY id")
        return [Person(*row) for row in rows]

    async def counts(self) -> dict[str, int]:
        def run(db: sqlite3.Connection) -> dict[str, int]:
            return {
                table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("people", "conversations", "messages")
            }

        return await self._read(run)

    # -- conversations --------------------------------------------------------------------
    async def create_conversation(self, person_id: int, title: str = "") -> Conversation:
        now = self.now()

        def run(db: sqlite3.Connection) -> Conversation:
            cur = db.execute(
                "INSERT INTO conversations (person_id, title, created_at, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (person_id, title, now, now),
            )
            return Conversation(int(cur.lastrowid or 0), person_id, title, now, now, "", 0)

        return await self._write(run)

    async def conversation(self, person_id: int, conversation_id: int) -> Conversation:
        rows = await self._rows(
            f"SELECT {_CONVERSATION} FROM conversations WHERE person_id = ? AND id = ?",
            (person_id, conversation_id),
        )
        if not rows:
            raise NotFound(f"conversation {conversation_id} not found")
        return Conversation(*rows[0])

    async def conversations(self, person_id: int, limit: int = 50) -> list[Conversation]:
        rows = await self._rows(
            f"SELECT {_CONVERSATION} FROM conversations WHERE person_id = ?"
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
            f"SELECT {_MESSAGE} FROM messages WHERE person_id = ? AND conversation_id = ?"
            " AND id > ? AND id < ? ORDER BY id DESC LIMIT ?",
            (person_id, conversation_id, after_id, before_id or 2**62, limit),
        )
        return [Message(*row) for row in reversed(rows)]

    async def recover(self) -> int:
        def run(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
            return cur.rowcount

        return await self._write(run)
