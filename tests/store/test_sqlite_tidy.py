"""The full-text indexes kept in few segments while people talk, the largest never rewritten."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from samantha.store import Learned, NewMemory, SQLiteStore, sqlite_memory, sqlite_tidy
from samantha.store.sqlite_search import SEARCH_TABLES
from samantha.store.sqlite_tidy import STRUCTURE_ID, levels, picked, worth_merging

Levels = list[tuple[int, list[int]]]


def structure(path: Path, table: str = "turn_fts") -> Levels:
    db = sqlite3.connect(path)
    try:
        (record,) = db.execute(
            f"SELECT block FROM {table}_data WHERE id = ?", (STRUCTURE_ID,)
        ).fetchone()
        found = levels(record)
        assert found is not None
        return found
    finally:
        db.close()


def count(found: Levels) -> int:
    return sum(len(sizes) for _, sizes in found)


def largest(found: Levels) -> tuple[int, int]:
    """The largest segment's level and size."""
    return max(((i, max(s)) for i, (_, s) in enumerate(found) if s), key=lambda x: x[1])


def test_a_structure_is_read_as_fts5_wrote_it(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
    for i in range(12):  # a segment a transaction
        db.execute("INSERT INTO t (a) VALUES (?)", (f"word{i} " * (i * 40 + 1),))
        db.commit()
    (record,) = db.execute("SELECT block FROM t_data WHERE id = ?", (STRUCTURE_ID,)).fetchone()
    found = levels(record)
    assert found is not None
    (segments,) = db.execute("SELECT count(DISTINCT segid) FROM t_idx").fetchone()
    assert count(found) == segments > 1
    db.execute("INSERT INTO t (t) VALUES ('optimize')")
    db.commit()
    (record,) = db.execute("SELECT block FROM t_data WHERE id = ?", (STRUCTURE_ID,)).fetchone()
    found = levels(record)
    assert found is not None and count(found) == 1


@pytest.mark.parametrize(
    "record",
    [
        b"",
        b"\x00\x00",
        b"\x00\x00\x00\x01\x05",
        b"\x00\x00\x00\x01\x01\x01\x00\x00\x03",
        b"\x00\x00\x00\x01\xff\x00\x00\x01\x01\x01\x00\x00\x01\x01\x01\x01",
    ],
)
def test_a_record_it_cannot_read_is_none_and_nothing_is_merged(record: bytes) -> None:
    assert levels(record) is None


def test_a_merge_is_worth_it_where_fts5_would_begin_two_levels_below_the_largest() -> None:
    big = [1000]
    assert not worth_merging([])
    assert not worth_merging([(0, [1, 1]), (0, big)])  # the pair would make the largest's pair
    assert worth_merging([(0, [1, 1]), (0, []), (0, big)])
    assert worth_merging([(0, [1, 1]), (0, [5, 5]), (0, big)])  # the lowest of equals first
    assert not worth_merging([(0, [1]), (0, [5, 5]), (0, big)])  # FTS5 would take level 1
    assert not worth_merging([(0, [1]), (2, [5, 5]), (0, big)])  # one under way there
    assert worth_merging([(2, [1, 1]), (0, [5]), (0, big)])
    assert not worth_merging([(0, [1]), (0, [5]), (0, big)])  # nothing to merge
    # as a run at 4,000 people left the turns' index: two segments a few hundred pages
    # long under the largest no longer keep the lowest level from being merged
    run = [(0, [1] * 14), (0, [2, 2]), (0, [4]), (0, []), (0, []), (0, [231, 230])]
    run += [(0, [])] * 4 + [(0, [343, 399]), (0, [93951])]
    assert picked(run) == 0 and worth_merging(run)
    assert picked([(0, [1]), (0, [5, 5]), (2, [5, 5])]) == 1  # as many as under way there
    assert picked([(0, [1]), (0, [5, 5]), (3, [5, 5, 5])]) == 2
    assert picked([(0, [1, 1, 1]), (2, [5, 5])]) == 0  # more than the merge under way
    assert picked([(0, [1]), (2, [5, 5]), (0, [1, 1, 1])]) == 1  # none past one under way


class Recorded:
    """A connection that records what a tidy asks of it (the structures it reads are made
    up by ``levels``, below)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def execute(self, sql: str, args: tuple[object, ...] = ()) -> Recorded:
        self.asked.append(sql)
        return self

    def fetchone(self) -> tuple[bytes]:
        return (b"",)


def test_a_merge_of_one_page_is_kept_unless_it_went_too_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each index gets one merge of one page (more, and FTS5 went on into the level under
    the largest, to be undone); one that still went too far is undone."""
    big = [1000]
    before = [(0, [1, 1]), (0, [5]), (0, []), (0, big)]
    too_far = [(0, []), (0, []), (2, [6, 5]), (0, big)]  # on into the level under the largest
    enough = [(0, []), (0, [5, 2]), (0, []), (0, big)]
    monkeypatch.setattr(sqlite_tidy, "SEARCH_TABLES", ("turn_fts",))
    for after, undone in ((too_far, True), (enough, False)):
        db = Recorded()
        shown = iter([before, after])
        monkeypatch.setattr(sqlite_tidy, "levels", lambda record, shown=shown: next(shown))
        sqlite_tidy._plan.cache_clear()  # the record (b"") is shown as ``before`` only now
        sqlite_tidy.tidy_search(db)  # type: ignore[arg-type]
        merges = [sql for sql in db.asked if "'merge'" in sql]
        assert merges == ["INSERT INTO turn_fts (turn_fts, rank) VALUES ('merge', 1)"]
        assert [sql for sql in db.asked if "tidy" in sql] == [
            "SAVEPOINT tidying",
            "SAVEPOINT tidy", *(["ROLLBACK TO tidy"] if undone else []), "RELEASE tidy",
            "RELEASE tidying",
        ]  # fmt: skip


def test_an_index_not_written_since_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(a)")
    for i in range(3):
        db.execute("INSERT INTO t (a) VALUES (?)", (f"word{i}",))
        db.commit()
    read: list[bytes] = []

    def counted(record: bytes) -> list[tuple[int, list[int]]] | None:
        read.append(record)
        return levels(record)

    monkeypatch.setattr(sqlite_tidy, "SEARCH_TABLES", ("t",))
    monkeypatch.setattr(sqlite_tidy, "levels", counted)
    sqlite_tidy._plan.cache_clear()
    sqlite_tidy.tidy_search(db)
    sqlite_tidy.tidy_search(db)  # the same record: its plan is kept
    assert len(read) == 1
    db.execute("INSERT INTO t (a) VALUES ('word3')")
    db.commit()  # a new segment: a new record
    sqlite_tidy.tidy_search(db)
    assert len(read) == 2 and read[0] != read[1]


async def learn_one_at_a_time(store: SQLiteStore, person_id: int, n: int, start: int) -> None:
    conv = await store.create_conversation(person_id)
    for i in range(start, start + n):
        text = f"kite number {i} by the beach, word{i}"
        m = await store.add_message(person_id, conv.id, "user", text)
        await store.learn(
            person_id,
            [Learned(m.id, text, None, "", content=text)],
            [NewMemory("fact", text, (m.id,))],
        )


async def grown(
    path: Path, tidy: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[list[tuple[int, float]]], list[int]]:
    """A history learned one turn at a time around a bulk import's merge; what searches
    find in it, and its indexes' structures."""
    with monkeypatch.context() as patch:
        if not tidy:
            patch.setattr(sqlite_memory, "tidy_search", lambda db: None)
        store = SQLiteStore(path)
        await store.open()
        theo = await store.create_person("Theo", "h1")
        await learn_one_at_a_time(store, theo.id, 300, 0)
        await store.merge_search()  # as after a bulk import: one large segment
        merged = largest(structure(path))
        await learn_one_at_a_time(store, theo.id, 200, 300)
        found = [
            await store.search_turns(theo.id, ["kite", "word7", "word400"], 20),
            await store.search_memories(theo.id, ["beach", "word499"], 20),
        ]
        await store.close()
    assert largest(structure(path)) == merged  # never merged into, with or without
    return found, [count(structure(path, table)) for table in SEARCH_TABLES]


async def test_learning_keeps_the_indexes_in_few_segments_finding_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found, tidied = await grown(tmp_path / "tidy.db", True, monkeypatch)
    found_untidied, untidied = await grown(tmp_path / "as.db", False, monkeypatch)
    assert found == found_untidied
    turns, _, memories = tidied
    assert turns <= 6 and memories <= 6
    assert untidied[0] > 2 * turns and untidied[2] > 2 * memories


async def test_a_transaction_of_several_peoples_learning_tidies_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Learning queued together is written in one transaction, and the indexes are tidied
    once for it, not once a person; a tidy that fails is undone alone, and what was
    learned is kept."""
    tidies: list[int] = []

    def failing(db: sqlite3.Connection) -> None:
        tidies.append(1)
        db.execute("INSERT INTO turn_fts (turn_fts, rank) VALUES ('merge', 32)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(sqlite_tidy, "_tidy", failing)
    store = SQLiteStore(tmp_path / "once.db")
    await store.open()
    people = [await store.create_person(f"P{i}", f"h{i}") for i in range(3)]
    said = []
    for person in people:
        conv = await store.create_conversation(person.id)
        said.append(await store.add_message(person.id, conv.id, "user", f"kite {person.id}"))
    running, release = threading.Event(), threading.Event()

    def hold(db: sqlite3.Connection) -> None:
        running.set()
        release.wait(10)

    first = asyncio.create_task(store._write(hold))  # the writer is busy meanwhile
    await asyncio.to_thread(running.wait, 10)
    learning = [
        asyncio.create_task(
            store.learn(p.id, [Learned(m.id, m.content, None, "", content=m.content)], [])
        )
        for p, m in zip(people, said, strict=True)
    ]
    await asyncio.sleep(0.05)  # all three queued behind it
    release.set()
    await first
    await asyncio.gather(*learning)
    assert tidies == [1]
    for person in people:
        assert len(await store.search_turns(person.id, ["kite"], 5)) == 1
    await store.close()
