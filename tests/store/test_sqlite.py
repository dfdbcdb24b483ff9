from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from samantha.errors import InputError, NotFound
from samantha.store import Learned, NewMemory, SQLiteStore, sqlite_core
from samantha.store.migrations import MIGRATIONS
from samantha.store.sqlite_core import Checkpointer, connect


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


async def test_migrations_are_named_applied_once_and_wal(tmp_path: Path) -> None:
    for _ in range(2):
        s = SQLiteStore(tmp_path / "m.db")
        await s.open()
        await s.close()
    db = raw(tmp_path / "m.db")
    names = [r[0] for r in db.execute("SELECT name FROM _migrations")]
    assert names == [m.__name__ for m in MIGRATIONS]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_message_is_on_disk_when_add_returns(store: SQLiteStore) -> None:
    person = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(person.id)
    msg = await store.add_message(person.id, conv.id, "user", "I wrote a letter today")
    row = raw(store.path).execute("SELECT content FROM messages WHERE id = ?", (msg.id,)).fetchone()
    assert row == ("I wrote a letter today",)


async def test_the_log_is_copied_into_the_database_beside_the_writer(store: SQLiteStore) -> None:
    """No commit copies the write-ahead log into the database (it would wait for it, and
    every write behind it); the checkpointer's thread does, while writes go on."""
    person = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(person.id)
    before = store.path.stat().st_size
    for n in range(60):  # some 1.2 MB: past the 1,000 pages a commit would copy at
        await store.add_message(person.id, conv.id, "user", f"{n} " + "words " * 3000)
    for _ in range(200):  # ten seconds at most
        if store.path.stat().st_size >= before + 1_000_000:
            break
        await asyncio.sleep(0.05)
    assert store.path.stat().st_size >= before + 1_000_000
    assert len(await store.messages(person.id, conv.id, limit=100)) == 60


def written_without_pause(path: Path, checkpointer: Checkpointer) -> int:
    """Commit for a while without pause, with a reader in another connection reading all
    along, as a recall worker does; the largest the log grew, in bytes."""
    wal, done, largest = Path(f"{path}-wal"), threading.Event(), 0

    def read() -> None:
        reader = connect(path, readonly=True)
        while not done.is_set():
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM t").fetchone()
            reader.execute("ROLLBACK")
        reader.close()

    reading = threading.Thread(target=read)
    reading.start()
    db = connect(path)
    try:
        for n in range(1500):
            db.execute("INSERT INTO t (body) VALUES (?)", (f"{n} " + "words " * 200,))
            checkpointer.wrote(db)
            largest = max(largest, wal.stat().st_size)
    finally:
        done.set()
        reading.join()
        checkpointer.close()
        db.close()
    return largest


def test_a_log_written_without_pause_is_emptied_once_it_is_long(tmp_path: Path) -> None:
    """A copy alone never empties a log that commits keep adding to (issue 4: 10 GB in
    300 s); once it holds ``bound`` pages the checkpointer empties it."""
    sizes = []
    for bound in (10**9, 64):  # never emptied, as before; emptied past 64 pages
        path = tmp_path / f"{bound}.db"
        db = connect(path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        db.close()
        sizes.append(written_without_pause(path, Checkpointer(path, every=0.005, bound=bound)))
    unbounded, bounded = sizes
    assert unbounded > 1_000_000  # the 1,500 commits' 1.8 MB, most of it still in the log
    assert bounded < 64 * 4096 * 4  # a few times the bound, at most


async def test_other_people_cannot_reach_a_conversation(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    conv = await store.create_conversation(theo.id)
    await store.add_message(theo.id, conv.id, "user", "my secret is marmalade-47")
    with pytest.raises(NotFound):
        await store.conversation(amy.id, conv.id)
    assert await store.messages(amy.id, conv.id) == []
    assert await store.conversations(amy.id) == []
    with pytest.raises(NotFound):
        await store.add_message(amy.id, conv.id, "user", "sneaking in")
    await store.finish_message(amy.id, 1, "overwritten", "complete")
    assert (await store.messages(theo.id, conv.id))[0].content == "my secret is marmalade-47"


async def test_names_are_unique_ignoring_case(store: SQLiteStore) -> None:
    await store.create_person("Theo", "h1")
    with pytest.raises(InputError) as caught:
        await store.create_person("theo", "h2")
    assert caught.value.status == 409
    assert len(await store.list_people()) == 1
    assert await store.person_by_token("h2") is None


async def test_paging_and_recovery(store: SQLiteStore) -> None:
    person = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(person.id)
    ids = [(await store.add_message(person.id, conv.id, "user", f"m{i}")).id for i in range(10)]
    page = await store.messages(person.id, conv.id, limit=3)
    assert [m.content for m in page] == ["m7", "m8", "m9"]
    older = await store.messages(person.id, conv.id, before_id=page[0].id, limit=3)
    assert [m.content for m in older] == ["m4", "m5", "m6"]
    assert ids == sorted(ids)
    streaming = await store.add_message(person.id, conv.id, "assistant", "", status="streaming")
    assert await store.recover() == 1
    last = (await store.messages(person.id, conv.id, limit=1))[0]
    assert (last.id, last.status) == (streaming.id, "interrupted")


async def test_summary_only_moves_forward(store: SQLiteStore) -> None:
    person = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(person.id)
    await store.set_summary(person.id, conv.id, "newer", 10)
    await store.set_summary(person.id, conv.id, "stale", 5)
    got = await store.conversation(person.id, conv.id)
    assert (got.summary, got.summary_upto) == ("newer", 10)


async def said(store: SQLiteStore, person_id: int, lines: list[str]) -> list[int]:
    """Messages kept, learned and indexed, with a memory drawn from each."""
    conv = await store.create_conversation(person_id)
    ids = [(await store.add_message(person_id, conv.id, "user", line)).id for line in lines]
    vector = bytes(16)
    await store.learn(
        person_id,
        [Learned(i, line, vector, content=line) for i, line in zip(ids, lines, strict=True)],
        [
            NewMemory("fact", f"They said: {line}", (i,), vector=vector)
            for i, line in zip(ids, lines, strict=True)
        ],
    )
    return ids


def rows_of(path: Path, person_id: int) -> dict[str, int]:
    db = raw(path)
    owned = f'owner : "p{person_id}"'
    found = {
        table: db.execute(
            f"SELECT count(*) FROM {table} WHERE person_id = ?", (person_id,)
        ).fetchone()[0]
        for table in ("tokens", "conversations", "messages", "memories", "vectors", "letters")
    }
    found["people"] = db.execute(
        "SELECT count(*) FROM people WHERE id = ?", (person_id,)
    ).fetchone()[0]
    found["vector_versions"] = db.execute(
        "SELECT count(*) FROM vector_versions WHERE person_id = ?", (person_id,)
    ).fetchone()[0]
    for fts in ("turn_fts", "memory_fts"):
        found[fts] = db.execute(
            f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", (owned,)
        ).fetchone()[0]
    found["memory_sources"] = db.execute("SELECT count(*) FROM memory_sources").fetchone()[0]
    db.close()
    return found


async def test_delete_person_removes_their_rows_and_only_theirs(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h-theo")
    amy = await store.create_person("Amy", "h-amy")
    await store.add_token(theo.id, "h-theo-2")
    await said(store, theo.id, ["my locker code is heron-4471", "I keep bees in Zagreb"])
    await said(store, amy.id, ["my cat is called Pixel"])
    await store.add_letter(theo.id, "Ada", "bees", "Dear Ada, the bees are well.")
    await store.add_letter(amy.id, "Bob", "Pixel", "Dear Bob, Pixel says hello.")
    removed = await store.delete_person(theo.id)
    assert removed == {
        "memories": 2,
        "letters": 1,
        "messages": 2,
        "conversations": 1,
        "tokens": 2,
    }
    left = rows_of(store.path, theo.id)
    assert left.pop("memory_sources") == 1  # Amy's one memory source
    assert set(left.values()) == {0}, left
    assert await store.person_by_token("h-theo") is None
    assert await store.search_turns(theo.id, ["heron", "bees"], 10) == []
    assert [p.name for p in await store.list_people()] == ["Amy"]
    assert len(await store.search_turns(amy.id, ["pixel"], 10)) == 1
    assert len(await store.search_memories(amy.id, ["pixel"], 10)) == 1
    assert sum(len(b.ids) for b in (await store.vectors_since(amy.id, 0)).blocks) == 2
    assert (await store.person_by_token("h-amy")) == amy


async def test_deleted_words_are_gone_from_the_full_text_indexes(store: SQLiteStore) -> None:
    """FTS5 keeps deleted words in old index segments until they are merged."""
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    for n in range(5):  # several transactions: several index segments
        await said(store, theo.id, [f"the zorblatt number {n}"])
        await said(store, amy.id, [f"the quokka number {n}"])
    await store.delete_person(theo.id)
    db = raw(store.path)
    for fts in ("turn_fts", "memory_fts"):
        db.execute(f"CREATE VIRTUAL TABLE temp.{fts}_words USING fts5vocab(main, {fts}, 'row')")
        words = {r[0] for r in db.execute(f"SELECT term FROM temp.{fts}_words")}
        assert "quokka" in words and "zorblatt" not in words, fts
        index = b"".join(r[0] for r in db.execute(f"SELECT block FROM {fts}_data"))
        assert b"zorblatt" not in index and b"quokka" in index, fts


async def test_merging_the_search_indexes_leaves_one_segment_and_the_same_results(
    store: SQLiteStore,
) -> None:
    """After a bulk import (a transaction a person) each index is in many segments."""
    people = [await store.create_person(f"P{n}", f"h{n}") for n in range(6)]
    for n, person in enumerate(people):
        await said(store, person.id, [f"a kite over the dunes {n}", f"sailing at dawn {n}"])

    def segments() -> dict[str, int]:
        db = raw(store.path)
        return {
            fts: db.execute(f"SELECT count(DISTINCT segid) FROM {fts}_idx").fetchone()[0]
            for fts in ("turn_fts", "turn_kinds", "memory_fts")
        }

    async def found() -> list[object]:
        return [
            (
                await store.search_turns(p.id, ["kite", "dawn"], 10),
                await store.search_memories(p.id, ["sailing"], 10),
            )
            for p in people
        ]

    before = await found()
    assert segments()["turn_fts"] > 1
    await store.merge_search()
    assert set(segments().values()) <= {0, 1}
    assert await found() == before
    await said(store, people[0].id, ["a new kite"])  # writing goes on as before
    assert len(await store.search_turns(people[0].id, ["kite"], 10)) == 2


async def test_deleting_an_unknown_person_or_twice_is_not_found(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    await said(store, theo.id, ["hello there"])
    with pytest.raises(NotFound):
        await store.delete_person(theo.id + 1)
    assert rows_of(store.path, theo.id)["messages"] == 1
    await store.delete_person(theo.id)
    with pytest.raises(NotFound):
        await store.delete_person(theo.id)
    with pytest.raises(NotFound):  # a request that was already on its way
        await store.create_conversation(theo.id)


async def test_a_deleted_persons_id_is_never_given_again(store: SQLiteStore) -> None:
    await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await store.delete_person(amy.id)
    ada = await store.create_person("Ada", "h3")
    assert ada.id == amy.id + 1
    await store.delete_person(ada.id)
    await store.delete_person(1)
    assert (await store.create_person("Bo", "h4")).id == ada.id + 1


async def test_the_writer_overwrites_deleted_rows(store: SQLiteStore) -> None:
    # some SQLite builds have secure_delete on by default; the store must not rely on it
    on = await store._write(lambda db: db.execute("PRAGMA secure_delete").fetchone()[0])
    assert on == 1


async def test_a_reply_forgotten_before_it_was_learned_is_never_to_learn(
    store: SQLiteStore,
) -> None:
    person = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(person.id)
    said = await store.add_message(person.id, conv.id, "user", "My sister Ada lives in Porto.")
    memory = NewMemory("relation", "Ada is their sister", (said.id,))
    (kept,) = await store.learn(person.id, [Learned(said.id, said.content, None)], [memory])
    await store.add_message(person.id, conv.id, "assistant", "Porto is lovely.")
    await store.forget_memory(person.id, kept)
    assert await store.unlearned(person.id) == []  # else learning would ask for it forever


async def test_writes_that_arrive_together_commit_together_and_fail_alone(
    store: SQLiteStore,
) -> None:
    """Group commit: one failing write in a batch rolls back alone; the rest are durable."""
    import asyncio

    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    conv = await store.create_conversation(theo.id)
    writes = [store.add_message(theo.id, conv.id, "user", f"line {i}") for i in range(60)]
    writes.insert(30, store.add_message(amy.id, conv.id, "user", "not Amy's conversation"))
    results = await asyncio.gather(*writes, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], NotFound)
    with sqlite3.connect(store.path) as db:  # another connection: committed, on disk
        rows = db.execute("SELECT person_id, content FROM messages ORDER BY id").fetchall()
    assert rows == [(theo.id, f"line {i}") for i in range(60)]


def holding(
    order: list[str], name: str, running: threading.Event, release: threading.Event
) -> Callable[[sqlite3.Connection], str]:
    """A write that holds the writer until ``release``: what comes meanwhile waits."""

    def write(db: sqlite3.Connection) -> str:
        running.set()
        release.wait(10)
        order.append(name)
        return name

    return write


def noting(order: list[str], name: str) -> Callable[[sqlite3.Connection], str]:
    """A write that only notes that it ran, in ``order``."""

    def write(db: sqlite3.Connection) -> str:
        order.append(name)
        return name

    return write


async def test_a_write_someone_waits_on_goes_before_the_bookkeeping_queued_ahead(
    store: SQLiteStore,
) -> None:
    """Learning's writes (``later``) give way: a batch of them ends after the job that is
    running when another write arrives, which is committed next; the rest follow, in
    order, and every one is committed."""

    order: list[str] = []
    running, release = threading.Event(), threading.Event()
    slow = holding(order, "later 0", running, release)

    def note(name: str) -> Callable[[sqlite3.Connection], str]:
        def write(db: sqlite3.Connection) -> str:
            db.execute(
                "INSERT INTO inner_life (created_at, state, material) VALUES (0, ?, '')", (name,)
            )
            order.append(name)
            return name

        return write

    writes = [slow] + [note(f"later {i}") for i in (1, 2, 3)]
    queued = [asyncio.create_task(store._write(write, later=True)) for write in writes]
    await asyncio.to_thread(running.wait, 10)
    urgent = asyncio.create_task(store._write(note("now")))
    await asyncio.sleep(0.05)  # it is waiting behind the running job
    release.set()
    assert await urgent == "now"
    assert await asyncio.gather(*queued) == ["later 0", "later 1", "later 2", "later 3"]
    assert order == ["later 0", "now", "later 1", "later 2", "later 3"]
    with sqlite3.connect(store.path) as db:
        kept = [r[0] for r in db.execute("SELECT state FROM inner_life ORDER BY version")]
    assert kept == ["now", "later 1", "later 2", "later 3"]


@pytest.mark.parametrize(("hold", "after"), [(0.0, 1), (60.0, 4)])
async def test_a_batch_of_later_writes_holds_the_writer_a_moment_before_giving_way(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, hold: float, after: int
) -> None:
    """Once a write someone waits on has come, a batch of later writes gives way after
    the job that ends past ``LATER_HOLD_S`` into its transaction: at once with none, after
    all four within a long one."""
    monkeypatch.setattr(sqlite_core, "LATER_HOLD_S", hold)
    order: list[str] = []
    running, release = threading.Event(), threading.Event()
    later_running, later_release = threading.Event(), threading.Event()

    first = asyncio.create_task(store._write(holding(order, "first", running, release)))
    await asyncio.to_thread(running.wait, 10)
    writes = [holding(order, "later 0", later_running, later_release)]
    writes += [noting(order, f"later {i}") for i in (1, 2, 3)]
    queued = [asyncio.create_task(store._write(w, later=True)) for w in writes]
    await asyncio.sleep(0.05)  # queued together behind the first
    release.set()
    await asyncio.to_thread(later_running.wait, 10)
    urgent = asyncio.create_task(store._write(noting(order, "now")))
    await asyncio.sleep(0.05)  # waiting behind the later batch
    later_release.set()
    assert [await first, await urgent] == ["first", "now"]
    assert await asyncio.gather(*queued) == [f"later {i}" for i in range(4)]
    laters = [f"later {i}" for i in range(4)]
    assert order == ["first", *laters[:after], "now", *laters[after:]]


async def test_later_writes_that_keep_coming_wait_for_their_turn_and_nobody_waits(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While later writes keep coming (more came during the last batch of them), a batch
    of them begins at most every ``LATER_EVERY_S`` (each makes a segment of every
    full-text index it writes), unless a whole group waits; a write someone waits on is
    written meanwhile, as it comes; and a later write that comes once they have all been
    written goes at once."""
    monkeypatch.setattr(sqlite_core, "LATER_EVERY_S", 3600.0)
    monkeypatch.setattr(sqlite_core, "GROUP", 4)
    order: list[str] = []
    running, release = threading.Event(), threading.Event()
    first = asyncio.create_task(
        store._write(holding(order, "later 0", running, release), later=True)
    )
    await asyncio.to_thread(running.wait, 10)
    waiting = [
        asyncio.create_task(store._write(noting(order, f"later {i}"), later=True)) for i in (1, 2)
    ]
    await asyncio.sleep(0.05)  # they came while the first was written
    release.set()
    assert await first == "later 0"
    assert await store._write(noting(order, "now")) == "now"
    await asyncio.sleep(0.05)
    assert order == ["later 0", "now"] and not any(task.done() for task in waiting)
    waiting += [
        asyncio.create_task(store._write(noting(order, f"later {i}"), later=True)) for i in (3, 4)
    ]  # a group: written together, without waiting for their turn
    assert await asyncio.gather(*waiting) == [f"later {i}" for i in (1, 2, 3, 4)]
    assert await store._write(noting(order, "later 5"), later=True) == "later 5"
    assert order == ["later 0", "now", *[f"later {i}" for i in (1, 2, 3, 4, 5)]]


async def test_a_later_write_given_up_before_it_began_is_not_made(store: SQLiteStore) -> None:
    """A stopping server gives up its queued learning (``Memory.drain``): it is not
    written; a write someone waits on still is, and so is a later one still wanted."""
    order: list[str] = []
    running, release = threading.Event(), threading.Event()

    first = asyncio.create_task(store._write(holding(order, "slow", running, release)))
    await asyncio.to_thread(running.wait, 10)
    given_up = asyncio.create_task(store._write(noting(order, "given up"), later=True))
    wanted = asyncio.create_task(store._write(noting(order, "wanted"), later=True))
    urgent = asyncio.create_task(store._write(noting(order, "urgent")))
    await asyncio.sleep(0.05)  # all three queued behind the running one
    given_up.cancel()
    release.set()
    assert [await first, await urgent, await wanted] == ["slow", "urgent", "wanted"]
    assert (await asyncio.gather(given_up, return_exceptions=True))[0].__class__ is (
        asyncio.CancelledError
    )
    assert order == ["slow", "urgent", "wanted"]


async def test_bookkeeping_is_not_starved_by_writes_that_keep_coming(store: SQLiteStore) -> None:
    """Each write someone waits on brings the next one in while it runs: the later write
    still gets its turn after the first of them, not after the last."""
    loop = asyncio.get_running_loop()
    order: list[str] = []
    chain: list[asyncio.Future[str]] = []
    last = asyncio.Event()

    def write(name: str, then: int = 0) -> Callable[[sqlite3.Connection], str]:
        def run(db: sqlite3.Connection) -> str:
            order.append(name)
            if name == "now 5":
                loop.call_soon_threadsafe(last.set)
            if then:  # the next arrives while this one is being written
                follow = write(f"now {then}", then + 1 if then < 5 else 0)
                loop.call_soon_threadsafe(
                    lambda: chain.append(loop.create_task(store._write(follow)))
                )
                deadline = time.monotonic() + 10
                while not store._pending and time.monotonic() < deadline:
                    time.sleep(0.001)
            return name

        return run

    first = asyncio.create_task(store._write(write("now 1", 2)))
    later = asyncio.create_task(store._write(write("later"), later=True))
    assert await later == "later" and await first == "now 1"
    await asyncio.wait_for(last.wait(), 10)
    assert await asyncio.gather(*chain) == ["now 2", "now 3", "now 4", "now 5"]
    assert order == ["now 1", "later", "now 2", "now 3", "now 4", "now 5"]


class FullDisk:
    """The writer's connection on a disk that fills at the next COMMIT: SQLite rolls the
    transaction back itself and says so."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db, self.full = db, True

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.full:
            self.full = False
            self.db.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    @property
    def in_transaction(self) -> bool:
        return self.db.in_transaction


async def test_a_full_disk_at_commit_is_the_error_the_writers_get_and_the_next_write_works(
    store: SQLiteStore,
) -> None:
    theo = await store.create_person("Theo", "h-theo")
    conv = await store.create_conversation(theo.id)
    real = store._write_db
    assert real is not None
    store._write_db = FullDisk(real)  # type: ignore[assignment]
    try:
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            await store.add_message(theo.id, conv.id, "user", "hello")
    finally:
        store._write_db = real
    assert await store.messages(theo.id, conv.id) == []  # nothing half-written
    await store.add_message(theo.id, conv.id, "user", "hello again")
    assert [m.content for m in await store.messages(theo.id, conv.id)] == ["hello again"]
