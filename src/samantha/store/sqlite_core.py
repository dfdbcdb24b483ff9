"""SQLite plumbing: WAL, one writer thread fed in order, readers on their own connections.

Every write runs on the single writer thread inside ``BEGIN IMMEDIATE`` and is committed
(and so durable under WAL with ``synchronous=FULL``) before its coroutine returns; that is
what lets a person's message be safe on disk before the reply to it starts.

The writer runs with ``secure_delete`` on, so deleted rows are overwritten with zeros rather
than left in free space, and ``_checkpoint`` moves the write-ahead log back into the
database and empties it, so old copies of pages do not linger in ``-wal`` either.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from samantha.errors import Departing
from samantha.store.base import Clock, Store
from samantha.store.migrations import migrate

log = logging.getLogger(__name__)
T = TypeVar("T")
MESSAGE_COLUMNS = "id, person_id, conversation_id, role, content, status, created_at"
# one past the highest id ever given, so a deleted person's id is never handed out again
NEXT_PERSON_ID = (
    "max(coalesce((SELECT max(id) FROM people), 0),"
    " coalesce((SELECT highest FROM retired_ids WHERE name = 'people'), 0)) + 1"
)
CONVERSATION_COLUMNS = "id, person_id, title, created_at, updated_at, summary, summary_upto"


def refuse_if_departing(db: sqlite3.Connection) -> None:
    """Checked inside the write that would start something new, so no new person,
    conversation or message gets in once departure has begun, from any process."""
    if db.execute("SELECT 1 FROM departure").fetchone() is not None:
        raise Departing()


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA busy_timeout = 30000")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    if readonly:
        db.execute("PRAGMA query_only = ON")
    return db


class SQLiteCore(Store):
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
            db = connect(self.path)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA secure_delete = ON")  # some builds have it on; not all
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

    async def _checkpoint(self) -> bool:
        """Copy the write-ahead log into the database and truncate it; False if readers
        kept part of it in use (it is then emptied by a later checkpoint)."""

        def run() -> bool:
            db = self._write_db
            if db is None:
                raise RuntimeError("store is not open")
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if busy:
                log.warning("the write-ahead log is in use; it will be emptied later")
            return not busy

        return await self._on(self._writer, run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            db = getattr(self._local, "db", None)
            if db is None:
                db = self._local.db = connect(self.path, readonly=True)
                with self._all_lock:
                    self._all.append(db)
            return fn(db)

        return await self._on(self._readers, run)

    async def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return await self._read(lambda db: db.execute(sql, args).fetchall())
