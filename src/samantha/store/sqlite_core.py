"""SQLite plumbing: WAL, one writer thread, readers on their own connections.

Every write runs on the single writer thread inside ``BEGIN IMMEDIATE`` and is committed
(and so durable under WAL with ``synchronous=FULL``) before its coroutine returns; that is
what lets a person's message be safe on disk before the reply to it starts.

The writer runs with ``secure_delete`` on, so deleted rows are overwritten with zeros rather
than left in free space, and ``_checkpoint`` moves the write-ahead log back into the
database and empties it, so old copies of pages do not linger in ``-wal`` either.

The log is otherwise copied into the database by a thread of its own (:class:`Checkpointer`),
beside the writer rather than in its way.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import sqlite3
import threading
import time
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
GROUP = 64  # the most writes one commit carries
# how long a batch of later writes keeps the writer once a write someone waits on has come:
# giving way after one learning pass made a transaction of each, with a segment of every
# full-text index and a tidy of each (issue 4: at 8,316 people learning fell behind by
# three turns in four); a message waits for this, and one pass, at most
LATER_HOLD_S = 0.01
# how often a batch of later writes may begin while they keep coming (more had come by
# the time the last batch ended), unless a group of them waits: each batch makes a segment
# of every full-text index it writes, and a tidy; begun as soon as the last gave way
# (with tidies of one page), 8,316 people's learning made 90 transactions a second and
# the indexes more segments than the tidies merged (issue 4). Learning that comes now and
# then goes at once
LATER_EVERY_S = 0.1
CHECKPOINT_S = 1.0  # the write-ahead log is copied into the database at most this often
BUSY_MS = 30000  # how long a statement waits for a lock another connection holds
WAL_BOUND = 16384  # pages (128 MiB of 8 KiB pages) in the log before it is emptied
READERS_S = 1.0  # how long emptying the log waits for readers to be done with it
CATCH_UP = 3  # copies run back to back before the log is emptied, each of what came since
# a new database's page: with 4 KiB pages a row of a WITHOUT ROWID table keeps at most
# about 1,000 bytes in place, so every vector (1 KiB or 1.5 KiB) went to an overflow page
# of its own: 4 KiB each on disk, and one more random read each. With 8 KiB pages a row
# keeps up to about 2,000 bytes in place, and a person's vectors lie together.
PAGE_SIZE = 8192
Outcome = tuple[bool, Any]  # (succeeded, its value or its exception)
Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
CONVERSATION_COLUMNS = "id, person_id, title, created_at, updated_at, summary, summary_upto"


def refuse_if_departing(db: sqlite3.Connection) -> None:
    """Checked inside the write that would start something new, so no new person,
    conversation or message gets in once departure has begun, from any process."""
    if db.execute("SELECT 1 FROM departure").fetchone() is not None:
        raise Departing()


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = FULL")
    if readonly:
        db.execute("PRAGMA query_only = ON")
    return db


class Checkpointer:
    """Copies the write-ahead log into the database at most every ``every`` seconds while
    writes go on, on a thread and a connection of its own.

    SQLite's own checkpoint runs inside the commit that takes the log past 1,000 pages: that
    commit, and every write queued behind it, waits while the log is copied and the
    database synced, and a person's message waits for its commit before her reply starts.
    A passive checkpoint takes no lock a writer needs; the log starts again from its
    beginning at the first commit after one that copied all of it. Measured under load
    (issue 4), the slowest commits were a little faster with it (99th percentile 68 ms, at
    most 296 ms, against 74 and 405 ms), less than the disk varied between runs.

    But a log that is written to without pause is never all copied: each pass copies what
    was there when it began, and commits go on adding to it meanwhile; nor can a reader in
    another process (a recall worker) always be done with it. The log then never starts
    again from its beginning, and grew by 30 MB a second at 8,316 people, to 10 GB in
    300 s (the page cache full, 17 GB left on the disk): an hour would fill most disks.
    So once a copy finds
    the log holding ``bound`` pages, a few more copies run back to back (each copies what
    came during the last, less each time), and the writer then starts the log again from
    its beginning (``RESTART``) after its next commit, on its own connection, between
    batches: it copies the little left and waits, at most ``READERS_S``, for readers to be
    done with the log. The file keeps its size and is written over, not grown again. Done
    from this thread, it waited for the writer's lock and seldom won it from a writer that
    commits without pause.
    """

    def __init__(self, path: Path, every: float = CHECKPOINT_S, bound: int = WAL_BOUND) -> None:
        self.path, self.every, self.bound = path, every, bound
        self._wrote, self._stop = threading.Event(), threading.Event()
        self._long = False  # the last copy found the log holding ``bound`` pages or more
        self._thread = threading.Thread(target=self._run, name="store-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self, db: sqlite3.Connection) -> None:
        """A commit added to the log; ``db`` is the writer's connection, on its thread,
        between commits: the log is emptied there when the last copy found it long."""
        self._wrote.set()
        if not self._long:
            return
        self._long = False
        db.execute(f"PRAGMA busy_timeout = {READERS_S * 1000:.0f}")
        try:
            with contextlib.suppress(sqlite3.Error):  # a reader held on: a later commit
                db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        finally:
            db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def _run(self) -> None:
        db = connect(self.path)
        try:
            while not self._stop.is_set():
                self._wrote.wait()
                self._wrote.clear()
                with contextlib.suppress(sqlite3.Error):  # tried again after the next commit
                    _, pages, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if pages >= self.bound:
                        for _ in range(CATCH_UP):  # what came meanwhile: less each time
                            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        self._long = True
                self._stop.wait(self.every)
        finally:
            db.close()

    def close(self) -> None:
        self._stop.set()
        self._wrote.set()
        self._thread.join()


def _settle(future: asyncio.Future[Any], outcome: Outcome) -> None:
    if future.cancelled():
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class SQLiteCore(Store):
    """The SQLite store's plumbing: one writer thread that commits in groups; reads of a
    statement's few rows (:meth:`_rows`) on the caller's own thread; longer reads
    (:meth:`_read`, :meth:`_scan`) on reader threads.

    A point read (one person's rows, through an index) takes tens of microseconds. Handed
    to a reader thread, its hop there and back (a wake-up each way, the GIL handed over
    twice) costs more than the read: under load, futex waits and wake-ups were 13% of the
    server's CPU (perf, issue 4). WAL never makes a reader wait for the writer. With
    ``inline``, every read runs on the caller's thread and nothing is written: for a
    process that only reads and does nothing else meanwhile (a recall worker)."""

    def __init__(self, path: Path, clock: Clock | None = None, *, inline: bool = False) -> None:
        super().__init__(clock)
        self.path = path
        self.inline = inline
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._readers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-reader")
        self._local = threading.local()
        self._write_db: sqlite3.Connection | None = None
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._pending: list[Job] = []  # writes someone is waiting on, first
        self._later: list[Job] = []  # then these: bookkeeping nobody waits on (learning)
        self._pending_lock = threading.Lock()
        self._draining = False
        self._arrived = threading.Event()  # a write someone waits on came (see _drain)
        self._later_at = -math.inf  # when the last batch of later writes began
        self._behind = False  # more later writes had come by the time it ended
        self._owed = False  # the later writes' turn is next
        self._checkpointer: Checkpointer | None = None

    # -- plumbing ---------------------------------------------------------------------------
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

        def setup() -> None:
            db = connect(self.path)
            if db.execute("PRAGMA page_count").fetchone()[0] == 0:  # a new database
                db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA secure_delete = ON")  # some builds have it on; not all
            migrate(db)
            db.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's work
            self._write_db = db

        await self._on(self._writer, setup)
        self._checkpointer = Checkpointer(self.path)

    async def close(self) -> None:
        def shut() -> None:
            with self._all_lock:
                for db in self._all:
                    db.close()
                self._all.clear()

        await self._on(self._readers, lambda: None)
        self._readers.shutdown(wait=True)
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.close)
            self._checkpointer = None
        if self._write_db is not None:
            await self._on(self._writer, self._write_db.close)
            self._write_db = None
        self._writer.shutdown(wait=True)
        shut()

    def reader(self) -> Callable[[], Store] | None:
        # another process reads the same file: WAL lets readers in while one writes, and
        # reads need no ``open`` (they connect on first use, read-only)
        return functools.partial(type(self), self.path, inline=True)

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T], *, later: bool = False) -> T:
        """Run ``fn`` in a write transaction; return once that transaction is committed.

        Writes that arrive while the writer is busy are committed together (group commit):
        each runs inside its own savepoint, so one that fails rolls back alone, and all of
        them share one COMMIT, one fsync. Under load that is what keeps the single writer
        ahead; alone, a write is its own transaction as before.

        A write made ``later`` (learning from a turn, the relationship's bookkeeping:
        nobody is waiting on it) goes after the other writes waiting, in batches of its
        own, begun at most every :data:`LATER_EVERY_S` while they keep coming, and a
        batch of them gives way once another write has arrived and the batch has held the
        writer :data:`LATER_HOLD_S`; while both kinds wait, they take turns.
        A person's message then waits for that and one more of them at most, not for a
        queue of them: under load, a
        learning pass was the slowest write (its full-text segments merged as they were
        written), and the message's commit is on the way to her first word. A later
        write whose caller gave up before it began (a stopping server's learning,
        ``Memory.drain``) is not made: 8,316 people's queued learning kept a stopping
        server writing for 20 s.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._pending_lock:
            (self._later if later else self._pending).append((fn, loop, future))
            start, self._draining = not self._draining, True
            if not later or len(self._later) >= GROUP:  # the writer may be waiting for
                self._arrived.set()  # the later writes' turn: this one need not
        if start:
            self._writer.submit(self._drain)
        result: T = await future
        return result

    def _drain(self) -> None:
        """Writer thread: commit what is waiting, in batches, until nothing is."""
        while True:
            with self._pending_lock:
                # later writes get every other turn while both wait, so they are never
                # starved by writes that keep coming; their turn comes every so often
                now = time.monotonic()
                due = (
                    not self._behind
                    or len(self._later) >= GROUP
                    or now - self._later_at >= LATER_EVERY_S
                )
                ready = bool(self._later) and due
                if ready and (self._owed or not self._pending):
                    queue = self._later
                    self._later_at = now
                else:
                    queue = self._pending
                self._owed = queue is self._pending and ready
                batch = queue[:GROUP]
                del queue[:GROUP]
                if queue is self._later:  # nobody waits on these: one given up is not made
                    # (read from this thread: a write cancelled a moment later is made)
                    batch = [job for job in batch if not job[2].cancelled()]
                    if not batch and (self._later or self._pending):
                        continue
                if not batch and not self._later:
                    self._draining = False
                    return
                self._arrived.clear()
            if not batch:  # later writes wait for their turn, or a write someone waits on
                self._arrived.wait(self._later_at + LATER_EVERY_S - now)
                continue
            # a batch of later writes gives way to the first write that someone waits on
            give_way = self._pending if queue is self._later else None
            try:
                outcomes = self._commit([fn for fn, _, _ in batch], give_way)
            except BaseException as exc:  # never leave a caller waiting forever
                log.exception("a write batch failed")
                with contextlib.suppress(sqlite3.Error):
                    if self._write_db is not None and self._write_db.in_transaction:
                        self._write_db.execute("ROLLBACK")
                outcomes = [(False, exc)] * len(batch)
            if queue is self._later:
                with self._pending_lock:
                    self._later[:0] = batch[len(outcomes) :]  # the rest go first
                    self._behind = bool(self._later)  # later writes came meanwhile
                batch = batch[: len(outcomes)]
            for (_, loop, future), outcome in zip(batch, outcomes, strict=True):
                with contextlib.suppress(RuntimeError):  # that loop has closed
                    loop.call_soon_threadsafe(_settle, future, outcome)
            if self._checkpointer is not None and self._write_db is not None:
                self._checkpointer.wrote(self._write_db)  # after: nobody waits on it

    def _commit(
        self, jobs: list[Callable[[sqlite3.Connection], Any]], give_way: list[Job] | None = None
    ) -> list[Outcome]:
        """Run ``jobs`` in one transaction, each in a savepoint, then :meth:`_before_commit`;
        their outcomes. With ``give_way``, stop after the first job to end once that list
        is not empty and the transaction has run :data:`LATER_HOLD_S`: the outcomes are
        then fewer than the jobs, and the rest were not run."""
        db = self._write_db
        if db is None:
            return [(False, RuntimeError("store is not open"))] * len(jobs)
        outcomes: list[Outcome] = []
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return [(False, exc)] * len(jobs)
        began = time.monotonic()
        for job in jobs:
            db.execute("SAVEPOINT job")
            try:
                outcomes.append((True, job(db)))
            except BaseException as exc:  # handed to its caller, not lost
                db.execute("ROLLBACK TO job")
                outcomes.append((False, exc))
            db.execute("RELEASE job")
            # read without the lock: a write arriving a moment late waits one job more
            if give_way and time.monotonic() - began >= LATER_HOLD_S:
                break
        self._before_commit(db)
        try:
            db.execute("COMMIT")
        except sqlite3.Error as exc:  # the disk is full, say: each caller gets that error
            if db.in_transaction:  # SQLite rolls some failures back itself
                db.execute("ROLLBACK")
            return [(False, exc)] * len(outcomes)
        return outcomes

    def _before_commit(self, db: sqlite3.Connection) -> None:
        """Writer thread: what a transaction does last, after its jobs (nothing here)."""

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

    def _reading(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn`` run here, with this thread's own read-only connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path, readonly=True)
            with self._all_lock:
                self._all.append(db)
        return fn(db)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self.inline:
            return self._reading(fn)
        return await self._on(self._readers, functools.partial(self._reading, fn))

    async def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A point read's rows (one person's few, through an index), read right here."""
        return self._reading(lambda db: db.execute(sql, args).fetchall())

    async def _scan(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of a statement that reads many (everyone's), on a reader thread."""
        return await self._read(lambda db: db.execute(sql, args).fetchall())
