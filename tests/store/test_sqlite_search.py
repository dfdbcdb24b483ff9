"""Full-text ranking with each person's own statistics: BM25 as written down, scoped to the
person, unmoved by anyone else, and deaf to query syntax."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from samantha.errors import StoreError
from samantha.store import Learned, NewMemory, SQLiteStore, sqlite_core
from samantha.store import bm25 as scoring
from samantha.store.migrations import (
    MIGRATIONS,
    m012_full_text_blocks,
    m014_current_records_searched,
)
from samantha.store.sqlite_core import connect
from samantha.store.sqlite_search import ID_BITS, ID_MASK, _lengths_of, block, key, tokens


@pytest.fixture(autouse=True, params=["by hand", "on arrays"])
def scored(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test twice: scores worked out by hand (as for a short history), and on arrays
    (as for a long one)."""
    if request.param == "on arrays":
        monkeypatch.setattr(scoring, "ARRAYS_FROM", 0)
    return str(request.param)


async def indexed(
    store: SQLiteStore, person_id: int, turns: list[tuple[str, str]], memories: bool = True
) -> list[int]:
    """Turns kept and indexed as (words, context), each with a memory of the same words."""
    conv = await store.create_conversation(person_id)
    ids = [(await store.add_message(person_id, conv.id, "user", w)).id for w, _ in turns]
    await store.learn(
        person_id,
        [Learned(i, w, None, c, content=w) for i, (w, c) in zip(ids, turns, strict=True)],
        [NewMemory("fact", w, (i,)) for i, (w, _) in zip(ids, turns, strict=True)]
        if memories
        else [],
    )
    return ids


def bm25(rows: list[tuple[str, str]], words: list[str], context_weight: float) -> dict[int, float]:
    """BM25 (k1 1.2, b 0.75) over ``rows`` alone, written out: a word counts its column's
    weight once per column it is in; a row's length is its tokens, owner token included."""
    lengths = [1 + len(body.split()) + len(context.split()) for body, context in rows]
    average = sum(lengths) / len(rows)
    scores: dict[int, float] = {}
    for word in words:
        freq = {
            i: (word in body.split()) + context_weight * (word in context.split())
            for i, (body, context) in enumerate(rows)
        }
        has = {i: f for i, f in freq.items() if f}
        idf = max(1e-6, math.log((len(rows) - len(has) + 0.5) / (len(has) + 0.5)))
        for i, f in has.items():
            norm = 1.2 * (1 - 0.75 + 0.75 * lengths[i] / average)
            scores[i] = scores.get(i, 0.0) + idf * f * 2.2 / (f + norm)
    return scores


ROWS = [
    ("kite festival on the beach", ""),
    ("my kite broke", "we went to the beach"),
    ("the beach was cold and grey all day long today", ""),
    ("lunch with mum", "kite"),
    ("nothing here at all", ""),
    *[(f"a quiet evening number {n}", "") for n in range(5)],
]


async def test_turns_are_ranked_as_bm25_over_the_persons_own_turns(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    ids = await indexed(store, theo.id, ROWS)
    found = await store.search_turns(theo.id, ["kite", "beach"], 10, context_weight=0.5)
    expected = bm25(ROWS, ["kite", "beach"], 0.5)
    assert [m for m, _ in found] == [ids[i] for i in sorted(expected, key=lambda i: -expected[i])]
    assert found[0][1] > 1.0  # the words are telling ones: in under half the turns
    for message_id, score in found:
        assert score == pytest.approx(expected[ids.index(message_id)])
    assert [m for m, _ in await store.search_turns(theo.id, ["kite"], 2)] == ids[:2]


async def test_turns_left_out_are_neither_found_nor_counted(store: SQLiteStore) -> None:
    """The conversation on screen is left out of the collection: the person asking about
    their kite, once indexed, must not make "kite" look common in their past."""
    theo = await store.create_person("Theo", "h1")
    ids = await indexed(store, theo.id, ROWS)
    before = dict(await store.search_turns(theo.id, ["kite"], 10))
    now = await indexed(store, theo.id, [("my kite again, the kite", ""), ("kite kite", "")] * 2)
    diluted = dict(await store.search_turns(theo.id, ["kite"], 10))
    assert diluted[ids[0]] < 0.5 * before[ids[0]]  # the new rows made the word common
    left_out = dict(await store.search_turns(theo.id, ["kite"], 10, exclude=now))
    assert left_out.keys() == before.keys()
    for message_id, score in before.items():  # the average length still holds them
        assert left_out[message_id] == pytest.approx(score, rel=0.1)


async def test_memories_are_ranked_by_their_words_and_current_ones_only(
    store: SQLiteStore,
) -> None:
    theo = await store.create_person("Theo", "h1")
    await indexed(store, theo.id, ROWS)
    records = {m.text: m.id for m in await store.memories(theo.id)}
    found = await store.search_memories(theo.id, ["kite"], 10)
    by_hand = bm25([(body, "") for body, _ in ROWS], ["kite"], 0.0)
    assert [m for m, _ in found] == [
        records[ROWS[i][0]] for i in sorted(by_hand, key=lambda i: -by_hand[i])
    ]
    newer = await store.correct_memory(theo.id, records["my kite broke"], "my kite is mended")
    found = await store.search_memories(theo.id, ["kite"], 10)
    assert newer in [m for m, _ in found]
    assert records["my kite broke"] not in [m for m, _ in found]


async def test_other_people_never_move_a_persons_scores(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    ids = await indexed(store, theo.id, ROWS)
    alone = await store.search_turns(theo.id, ["kite", "beach"], 10)
    alone_memories = await store.search_memories(theo.id, ["kite", "beach"], 10)
    amy = await store.create_person("Amy", "h2")
    theirs = await indexed(store, amy.id, [("kite kite beach", "kite")] * 30 + ROWS)
    assert await store.search_turns(theo.id, ["kite", "beach"], 10) == alone
    assert await store.search_memories(theo.id, ["kite", "beach"], 10) == alone_memories
    assert {m for m, _ in alone} <= set(ids)
    assert {m for m, _ in await store.search_turns(amy.id, ["kite"], 100)} <= set(theirs)


async def test_forgotten_turns_are_not_found(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    ids = await indexed(store, theo.id, ROWS)
    record = next(m for m in await store.memories(theo.id) if m.source_ids == (ids[1],))
    await store.forget_memory(theo.id, record.id)
    found = [m for m, _ in await store.search_turns(theo.id, ["kite"], 10)]
    assert ids[1] not in found and ids[0] in found


@pytest.mark.parametrize(
    "word",
    [
        '" OR owner : p1 OR "',
        "NEAR(kite beach)",
        "kite*",
        "*",
        '"',
        "",
        "owner",
        "p1",
        "context : kite",
        "body:kite",
        "{owner body context}",
        "^kite",
        "kite NOT beach",
        "- kite",
        "'; DROP TABLE messages;--",
        "a" * 10_000,
    ],
)
async def test_query_syntax_in_words_is_harmless(store: SQLiteStore, word: str) -> None:
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await indexed(store, theo.id, [("hello there", "")])
    mine = await indexed(store, amy.id, [("kite on the beach owner", "")])
    for person in (theo, amy):
        turns = await store.search_turns(person.id, [word, "beach"], 10)
        records = await store.search_memories(person.id, [word], 10)
        assert set(m for m, _ in turns) <= (set(mine) if person is amy else set())
        assert records == [] or person is amy
    assert await store.search_turns(theo.id, [word], 10) == []


def test_lengths_are_read_as_fts5_writes_them() -> None:
    assert tokens(bytes([1, 5, 7])) == 13
    assert tokens(bytes([1, 0x82, 0x2C, 3])) == 1 + 300 + 3
    # records joined into one blob: one byte a column, or longer varints among them
    assert _lengths_of(bytes([1, 5, 7, 1, 0, 0]), "3,3").tolist() == [13, 1]
    assert _lengths_of(bytes([1, 5, 7, 1, 0x82, 0x2C, 3]), "3,4").tolist() == [13, 304]
    assert not len(_lengths_of(None, None)) and not len(_lengths_of(b"", ""))


async def test_rows_of_over_127_tokens_a_column_are_measured_whole(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h-long")
    rows = [*ROWS, (" ".join(["long"] * 300) + " kite", "the beach " * 70)]
    ids = await indexed(store, theo.id, rows)
    found = await store.search_turns(theo.id, ["kite", "beach"], 20, context_weight=0.5)
    expected = bm25(rows, ["kite", "beach"], 0.5)
    assert len(found) == len(expected)
    for message_id, score in found:
        assert score == pytest.approx(expected[ids.index(message_id)])


async def test_the_held_average_length_follows_a_growing_history(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    rows = list(ROWS)
    ids = await indexed(store, theo.id, rows)
    await store.search_turns(theo.id, ["kite"], 10)  # the average is read and held
    longer = [(" ".join(["long"] * 60) + " kite", "")]  # one row in ten: it must be read again
    ids += await indexed(store, theo.id, longer)
    found = await store.search_turns(theo.id, ["kite", "beach"], 20, context_weight=0.5)
    expected = bm25(rows + longer, ["kite", "beach"], 0.5)
    for message_id, score in found:
        assert score == pytest.approx(expected[ids.index(message_id)])


async def test_statistics_read_ahead_spare_a_persons_first_search_its_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, executed = await traced_store(tmp_path, monkeypatch)
    try:
        theo = await store.create_person("Theo", "h1")
        mo = await store.create_person("Mo", "h2")
        ids = await indexed(store, theo.id, ROWS)
        await indexed(store, mo.id, ROWS)
        assert await store.ready_search([theo.id, mo.id], seconds=0) == 0  # no time for any
        assert await store.ready_search([theo.id], seconds=60) == 1
        executed.clear()
        found = await store.search_turns(theo.id, ["kite", "beach"], 20, context_weight=0.5)
        assert not [sql for sql in executed if "ORDER BY id DESC LIMIT" in sql]
        expected = bm25(ROWS, ["kite", "beach"], 0.5)
        assert len(found) == len(expected)
        for message_id, score in found:
            assert score == pytest.approx(expected[ids.index(message_id)])
        executed.clear()
        await store.search_turns(mo.id, ["kite"], 20)  # not read ahead: read at their first
        assert [sql for sql in executed if "ORDER BY id DESC LIMIT" in sql]
    finally:
        await store.close()


async def traced_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SQLiteStore, list[str]]:
    """An open store whose connections note every statement they run, in the list."""
    executed: list[str] = []

    def traced(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
        db = connect(path, readonly=readonly)
        db.set_trace_callback(executed.append)
        return db

    monkeypatch.setattr(sqlite_core, "connect", traced)
    store = SQLiteStore(tmp_path / "s.db")
    await store.open()
    return store, executed


async def test_rows_wanted_by_id_are_looked_up_by_key_not_by_scanning_the_person(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite preferred the person's index to the ids, and so read every row of the
    person's: 2 ms at 10,000 turns, against 0.13 ms by key."""
    store, executed = await traced_store(tmp_path, monkeypatch)
    try:
        theo = await store.create_person("Theo", "h1")
        ids = await indexed(store, theo.id, ROWS * 12)
        executed.clear()  # recall asks for about a hundred at a time
        assert len(await store.messages_by_id(theo.id, ids[:100])) == 100
        records = await store.memories(theo.id, limit=100)
        assert len(await store.memories_by_id(theo.id, [r.id for r in records])) == 100
        assert len(await store.memory_links(theo.id, [r.id for r in records])) == 100
        wanted = [sql for sql in executed if sql.startswith("SELECT") and "id IN (" in sql]
        assert len(wanted) >= 2
        for sql in wanted:

            def plan(db: sqlite3.Connection, sql: str = sql) -> list[Any]:
                return db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()

            first = (await store._read(plan))[0][3]  # how the first table is read
            assert "PRIMARY KEY" in first or "memory_sources" in first, (sql, first)
    finally:
        await store.close()


async def test_records_are_weighed_by_their_persons_links_alone(store: SQLiteStore) -> None:
    """What recall weighs a record by (its importance and its turns) is read for the
    person's own records only, and agrees with the records read whole."""
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await indexed(store, theo.id, ROWS)
    await indexed(store, amy.id, ROWS)
    theirs = await store.memories(theo.id, limit=100)
    links = await store.memory_links(theo.id, [r.id for r in theirs])
    assert links == {r.id: (r.importance, r.source_ids) for r in theirs}
    assert await store.memory_links(amy.id, [r.id for r in theirs]) == {}
    assert await store.memory_links(theo.id, []) == {}


async def test_recall_weighs_only_current_records(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    await indexed(store, theo.id, ROWS)
    record = (await store.memories(theo.id, limit=1))[0]
    newer = await store.correct_memory(theo.id, record.id, "Theo corrected this.")
    links = await store.memory_links(theo.id, [record.id, newer])
    assert list(links) == [newer]  # the corrected record is kept, but not weighed


async def test_searchable_counts_the_persons_own_rows(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await indexed(store, theo.id, ROWS)
    await indexed(store, amy.id, ROWS * 3, memories=False)
    assert await store.searchable(theo.id) == (len(ROWS), len(ROWS))  # counted
    assert await store.searchable(amy.id) == (3 * len(ROWS), 0)
    await indexed(store, theo.id, [("one more kite", "")])
    await store.search_turns(theo.id, ["kite"], 5)
    await store.search_memories(theo.id, ["kite"], 5)
    assert await store.searchable(theo.id) == (len(ROWS) + 1, len(ROWS) + 1)  # as searched


async def test_kinds_learned_later_are_found_and_go_with_their_person(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h-k1")
    amy = await store.create_person("Amy", "h-k2")
    # learned without kinds (WordNet missing then, or an older version)
    ids = await indexed(store, theo.id, [("I play the violin", ""), ("I eat toast", "")])
    theirs = await indexed(store, amy.id, [("my fiddle", "")])
    assert [m.id for m in await store.unkinded(theo.id)] == ids
    assert await store.search_kinds(theo.id, ["instrument"], 10) == []
    await store.add_kinds(amy.id, [(ids[0], "stolen")])  # not hers: nothing is written
    assert len(await store.unkinded(theo.id)) == 2
    await store.add_kinds(theo.id, [(ids[0], "fiddle musical instrument"), (ids[1], "")])
    await store.add_kinds(amy.id, [(theirs[0], "musical instrument")])
    assert await store.unkinded(theo.id) == [] and await store.unkinded(amy.id) == []
    found = await store.search_kinds(theo.id, ["instrument", "stolen"], 10)
    assert [i for i, _ in found] == [ids[0]]
    assert await store.search_kinds(theo.id, ["instrument"], 10, exclude=[ids[0]]) == []
    await store.delete_person(theo.id)
    assert [i for i, _ in await store.search_kinds(amy.id, ["instrument"], 10)] == theirs
    with sqlite3.connect(store.path) as db:
        left = db.execute("SELECT rowid FROM turn_kinds").fetchall()
    assert left == [(key(amy.id, theirs[0]),)]


async def test_each_persons_full_text_rows_lie_in_their_own_block(store: SQLiteStore) -> None:
    """A full-text rowid is the person's id above the item's: a search reads only its
    person's part of each word's posting list, and every row leads back to them."""
    theo = await store.create_person("Theo", "h-b1")
    amy = await store.create_person("Amy", "h-b2")
    mine = await indexed(store, theo.id, [("the kite flew", ""), ("kite day", "kite")])
    theirs = await indexed(store, amy.id, [("my kite", "")])
    await store.add_kinds(theo.id, [(mine[0], "toy")])
    with sqlite3.connect(store.path) as db:
        tables = {"turn_fts": "messages", "turn_kinds": "messages", "memory_fts": "memories"}
        for table, rows in tables.items():
            for (rowid,) in db.execute(f"SELECT rowid FROM {table}"):
                person = db.execute(
                    f"SELECT person_id FROM {rows} WHERE id = ?", (rowid & ID_MASK,)
                ).fetchone()
                assert person == (rowid >> ID_BITS,), table
    assert [i for i, _ in await store.search_turns(amy.id, ["kite"], 10)] == theirs
    assert sorted(i for i, _ in await store.search_turns(theo.id, ["kite"], 10)) == mine
    assert key(2, 5) == (2 << ID_BITS) + 5
    for person, item in ((1, 1 << ID_BITS), (1, 0), (1 << (63 - ID_BITS), 1), (-1, 1)):
        with pytest.raises(StoreError, match="full-text"):
            key(person, item)


def migrated_before(path: Path, step: Callable[[], str]) -> sqlite3.Connection:
    """A new database at ``path`` as the migrations before ``step`` left it."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    for earlier in MIGRATIONS[: MIGRATIONS.index(step)]:
        db.executescript(earlier())
        db.execute("INSERT INTO _migrations VALUES (?, 0)", (earlier.__name__,))
    return db


async def test_an_index_from_before_blocks_is_written_again_in_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with migrated_before(path, m012_full_text_blocks) as db:  # rowids were the items' ids
        db.execute("INSERT INTO people VALUES (1, 'Theo', 0), (2, 'Amy', 0)")
        db.execute(
            "INSERT INTO conversations (id, person_id, created_at, updated_at)"
            " VALUES (1, 1, 0, 0), (2, 2, 0, 0)"
        )
        for i, person, words in ((1, 1, "the kite flew"), (2, 2, "my kite"), (3, 1, "toast")):
            db.execute(
                "INSERT INTO messages (id, person_id, conversation_id, role, content, status,"
                " created_at, learned, kinded) VALUES (?, ?, ?, 'user', ?, 'complete', 0, 1, 1)",
                (i, person, person, words),
            )
            db.execute(
                "INSERT INTO turn_fts (rowid, owner, body, context) VALUES (?, ?, ?, '')",
                (i, f"p{person}", words),
            )
        db.execute(
            "INSERT INTO memories (id, person_id, kind, text, created_at)"
            " VALUES (7, 1, 'fact', 'the kite flew', 0)"
        )
        db.execute("INSERT INTO memory_fts (rowid, owner, body) VALUES (7, 'p1', 'the kite flew')")
        db.execute("INSERT INTO turn_kinds (rowid, owner, kinds) VALUES (1, 'p1', 'toy')")
        db.execute("INSERT INTO turn_fts (rowid, owner, body) VALUES (99, 'p1', 'gone kite')")
    store = SQLiteStore(path)
    await store.open()
    try:
        assert [i for i, _ in await store.search_turns(1, ["kite"], 10)] == [1]
        assert [i for i, _ in await store.search_turns(2, ["kite"], 10)] == [2]
        assert [i for i, _ in await store.search_memories(1, ["kite"], 10)] == [7]
        assert [i for i, _ in await store.search_kinds(1, ["toy"], 10)] == [1]
        assert await store.searchable(1) == (2, 1)
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        rowids = [r for (r,) in db.execute("SELECT rowid FROM turn_fts ORDER BY rowid")]
    assert rowids == [key(1, 1), key(1, 3), key(2, 2)]  # the row of no turn is left behind


def indexed_records(store: SQLiteStore, person_id: int) -> set[int]:
    """The person's records the full-text index holds, read from the index itself."""
    first, last = block(person_id)
    with sqlite3.connect(store.path) as db:
        rows = db.execute(
            "SELECT rowid FROM memory_fts WHERE rowid BETWEEN ? AND ?", (first, last)
        ).fetchall()
    return {rowid - first for (rowid,) in rows}


async def test_the_records_index_holds_current_records_only(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h-cur")
    (turn,) = await indexed(store, theo.id, [("I love the kite", "")], memories=False)
    await store.add_memories(
        theo.id, [NewMemory("preference", "Theo loves kites", (turn,), "likes:kite")]
    )
    (new,) = await store.add_memories(
        theo.id, [NewMemory("preference", "Theo is bored of kites", (turn,), "likes:kite")]
    )
    assert indexed_records(store, theo.id) == {new}  # moved on from: out of the index
    assert [m for m, _ in await store.search_memories(theo.id, ["loves"], 5)] == []
    corrected = await store.correct_memory(theo.id, new, "Theo flies kites on Sundays")
    assert indexed_records(store, theo.id) == {corrected}
    await store.forget_memory(theo.id, corrected)  # its turn goes, and what it came from
    assert indexed_records(store, theo.id) == set()
    assert await store.memories(theo.id, include_superseded=True) == []


async def test_a_record_moved_on_from_is_searched_again_when_the_newer_is_forgotten(
    store: SQLiteStore,
) -> None:
    theo = await store.create_person("Theo", "h-rev")
    first, then = await indexed(store, theo.id, [("kites", ""), ("boats", "")], memories=False)
    (old,) = await store.add_memories(
        theo.id, [NewMemory("preference", "Theo loves kites", (first,), "likes:best")]
    )
    (new,) = await store.add_memories(
        theo.id, [NewMemory("preference", "Theo loves boats most", (then,), "likes:best")]
    )
    assert [m for m, _ in await store.search_memories(theo.id, ["loves"], 5)] == [new]
    await store.forget_memory(theo.id, new)
    assert indexed_records(store, theo.id) == {old}
    assert [m for m, _ in await store.search_memories(theo.id, ["loves"], 5)] == [old]
    assert [m.id for m in await store.memories(theo.id)] == [old]


async def test_an_imported_history_indexes_its_current_records_only(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h-imp")
    (turn,) = await indexed(store, theo.id, [("kites", "")], memories=False)
    for text in ("Theo loves kites", "Theo loves boats"):
        await store.add_memories(theo.id, [NewMemory("preference", text, (turn,), "likes:best")])
    data = await store.person_data(theo.id)
    await store.delete_person(theo.id)
    again = await store.restore_person(data, "h-imp2", [], [None] * len(data.memories))
    records = await store.memories(again.id, include_superseded=True)
    current = [m.id for m in records if m.superseded_by is None]
    assert len(records) == 2 and len(current) == 1
    assert indexed_records(store, again.id) == set(current)


async def test_records_superseded_before_the_index_held_current_ones_leave_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with migrated_before(path, m014_current_records_searched) as db:  # superseded ones indexed
        db.execute("INSERT INTO people VALUES (1, 'Theo', 0)")
        db.execute(
            "INSERT INTO memories (id, person_id, kind, text, created_at, superseded_by)"
            " VALUES (8, 1, 'fact', 'Theo flies kites now', 0, NULL),"
            " (7, 1, 'fact', 'Theo flew kites', 0, 8)"
        )
        for i, words in ((7, "Theo flew kites"), (8, "Theo flies kites now")):
            db.execute(
                "INSERT INTO memory_fts (rowid, owner, body) VALUES (?, 'p1', ?)",
                (key(1, i), words),
            )
    store = SQLiteStore(path)
    await store.open()
    try:
        assert indexed_records(store, 1) == {8}
        assert [i for i, _ in await store.search_memories(1, ["kites"], 10)] == [8]
    finally:
        await store.close()
