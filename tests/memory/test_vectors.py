"""The vectors held in memory: brought up to date with only what is new, and always what a
fresh read of the store would give."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from samantha.embeddings import HashEmbedder
from samantha.memory import Memory, vectors
from samantha.memory.recall import Recaller, Weights
from samantha.memory.vectors import Kind, VectorCache, Vectors
from samantha.store import Person, SQLiteStore


@pytest.fixture
async def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = SQLiteStore(tmp_path / "v.db")
    await store.open()
    memory = Memory(store, HashEmbedder())
    yield store, memory
    await memory.close()
    await store.close()


async def talk(store: SQLiteStore, memory: Memory, person: Person, lines: list[str]) -> None:
    conversation = await store.create_conversation(person.id)
    for i, line in enumerate(lines):
        await store.add_message(
            person.id, conversation.id, "user" if i % 2 == 0 else "assistant", line
        )
    await memory.learn(person.id, person.name)


def same(held: Vectors, fresh: Vectors) -> None:
    assert held.version == fresh.version
    for a, b in ((held.turns, fresh.turns), (held.memories, fresh.memories)):
        assert a.ids.tolist() == b.ids.tolist()
        assert np.array_equal(a.matrix, b.matrix)


async def fresh(store: SQLiteStore, person: Person) -> Vectors | None:
    return await VectorCache(store, HashEmbedder().dim).get(person.id)


async def test_new_turns_are_added_to_what_is_held_and_rank_as_a_fresh_read(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory = setup
    theo = await store.create_person("Theo", "h1")
    await talk(store, memory, theo, ["My sister Ada lives in Lyon.", "Lyon is lovely."])
    first = await memory.recall(theo.id, "Where does Ada live?")
    held = memory.recaller._cache
    before = await held.get(theo.id)
    assert before is not None and len(before.turns.ids) == 2
    await talk(store, memory, theo, ["I adopted a greyhound, Biscuit.", "What a name!"])
    changes = await store.vectors_since(theo.id, before.version)
    assert not changes.complete and {i for b in changes.blocks for i in b.ids} >= set(
        (await fresh(store, theo)).turns.ids.tolist()[2:]  # type: ignore[union-attr]
    )
    after = await memory.recall(theo.id, "What is my dog called?")
    now = await held.get(theo.id)
    assert now is not None and len(now.turns.ids) == 4
    same(now, await fresh(store, theo))  # type: ignore[arg-type]
    again = Memory(store, HashEmbedder())  # nothing held: everything read from the store
    assert [r.message.id for r in await again.recall(theo.id, "What is my dog called?")] == [
        r.message.id for r in after
    ]
    assert first and after
    await again.close()


async def test_a_forgotten_memory_leaves_what_is_held(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory = setup
    theo = await store.create_person("Theo", "h1")
    await talk(store, memory, theo, ["My sister Ada hates marmalade.", "Noted!"])
    held = await memory.recaller._cache.get(theo.id)
    assert held is not None and len(held.memories.ids) >= 1
    record = next(m for m in await store.memories(theo.id) if m.kind == "relation")
    await store.forget_memory(theo.id, record.id)
    changes = await store.vectors_since(theo.id, held.version)
    assert changes.complete  # a removal: everything is read again
    now = await memory.recaller._cache.get(theo.id)
    assert now is not None and record.id not in now.memories.ids.tolist()
    assert record.source_ids[0] not in now.turns.ids.tolist()
    same(now, await fresh(store, theo))  # type: ignore[arg-type]


async def test_no_one_else_s_vectors_are_held_for_you(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory = setup
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await talk(store, memory, theo, ["My bank PIN is zebra-4471.", "I'll keep it safe."])
    mine = await memory.recaller._cache.get(amy.id)
    assert mine is None  # Amy has none yet, whatever Theo has
    await talk(store, memory, amy, ["I like zebras.", "They're striking."])
    await memory.recaller._cache.get(amy.id)
    await talk(store, memory, theo, ["I moved to Berlin.", "Big change!"])
    mine = await memory.recaller._cache.get(amy.id)
    assert mine is not None
    theirs = {
        m.id
        for c in await store.conversations(theo.id)
        for m in await store.messages(theo.id, c.id)
    }
    assert not set(mine.turns.ids.tolist()) & theirs
    assert not set(mine.memories.ids.tolist()) & {m.id for m in await store.memories(theo.id)}
    same(mine, await fresh(store, amy))  # type: ignore[arg-type]


async def test_vectors_of_another_embedder_are_left_out_and_words_still_recall(  # type: ignore[no-untyped-def]
    setup, caplog
) -> None:
    """SAMANTHA_EMBEDDER changed on a home with vectors: recall must not fail on vectors it
    cannot compare; it finds their turns by their words, and new ones by their meaning."""
    store, memory = setup
    theo = await store.create_person("Theo", "h1")
    await talk(store, memory, theo, ["My sister Ada lives in Lyon.", "Lyon is lovely."])
    other = Memory(store, HashEmbedder(dim=64))  # vectors of another size from now on
    vectors._warn_foreign.cache_clear()  # it warns once a process
    found = await other.recall(theo.id, "Where does Ada live?")
    assert "Lyon" in found[0].message.content
    assert "another embedder" in caplog.text
    await talk(store, other, theo, ["I adopted a greyhound, Biscuit.", "What a name!"])
    held = await other.recaller._cache.get(theo.id)
    # the new ones, and the old ones made again as Theo learned (next test)
    assert held is not None and held.turns.matrix.shape == (4, 64)
    assert "Biscuit" in (await other.recall(theo.id, "greyhound"))[0].message.content
    await other.close()


def test_added_vectors_keep_id_order_and_replace_their_old_selves() -> None:
    rows = np.eye(4, dtype=np.float32)
    kind = Kind.of(np.array([1, 3], dtype=np.int64), rows[:2])
    later = kind.added(np.array([5], dtype=np.int64), rows[2:3])  # in place, at the end
    assert later.ids.tolist() == [1, 3, 5] and later.room is kind.room
    assert kind.ids.tolist() == [1, 3]  # the older copy is unchanged
    branch = kind.added(np.array([4], dtype=np.int64), rows[3:4])  # not over `later`'s row
    assert branch.ids.tolist() == [1, 3, 4] and branch.room is not kind.room
    assert later.ids.tolist() == [1, 3, 5] and np.array_equal(later.matrix[2], rows[2])
    mixed = later.added(np.array([2, 3], dtype=np.int64), rows[[3, 0]])
    assert mixed.ids.tolist() == [1, 2, 3, 5]
    assert np.array_equal(mixed.matrix, rows[[0, 3, 0, 2]])  # 3 replaced, 2 in its place


async def test_a_persons_vectors_lie_in_place_not_on_pages_of_their_own(tmp_path: Path) -> None:
    """With 4 KiB pages every 1.5 KiB MiniLM vector went to an overflow page of its own
    (4 KiB on disk, one more random read); a new database's 8 KiB pages hold it in place."""
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    memory = Memory(store, HashEmbedder(384))  # MiniLM's size: 1,536 bytes a vector
    theo = await store.create_person("Theo", "h-pages")
    conversation = await store.create_conversation(theo.id)
    for n in range(40):
        await store.add_message(theo.id, conversation.id, "user", f"line {n} of my day")
    assert await memory.learn(theo.id, "Theo") == 40
    await memory.close()
    await store.close()
    db = sqlite3.connect(tmp_path / "m.db")
    kinds = {row[0] for row in db.execute("SELECT pagetype FROM dbstat WHERE name = 'vectors'")}
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] >= 40
    db.close()
    assert kinds and "overflow" not in kinds


def test_a_kind_holds_little_room_until_its_person_talks_on() -> None:
    """Read, a kind keeps room for a few exchanges only (8,316 people's vectors must fit a
    recall process's cache); talking on, it grows an eighth at a time, in id order."""
    rng = np.random.default_rng(7)
    row = 8 * 2 + 8  # a vector of 8 16-bit floats (a short kind) and its int64 id
    first = rng.random((400, 8), dtype=np.float32)
    kind = Kind.of(np.arange(1, 401, dtype=np.int64), first)
    assert kind.nbytes == (400 + vectors.SPARE) * row
    added = []
    for step in range(40):  # two turns an exchange, well past the room left
        new = rng.random((2, 8), dtype=np.float32)
        kind = kind.added(np.array([401 + 2 * step, 402 + 2 * step], dtype=np.int64), new)
        added.append(new)
    assert kind.ids.tolist() == list(range(1, 481))
    assert np.array_equal(kind.matrix, np.concatenate([first, *added]).astype(np.float16))
    assert kind.nbytes < 1.2 * 480 * row


async def test_warming_holds_the_most_recent_people_first_as_far_as_there_is_room(setup) -> None:  # type: ignore[no-untyped-def]
    """A starting worker reads its people's vectors before anyone asks: the most recent
    first, no more than fit (nothing it read is dropped again), and each as a fresh read
    gives them; the most recent are the last to be dropped later."""
    store, memory = setup
    people = [await store.create_person(name, f"h-{name}") for name in ("Ann", "Ben", "Cy", "Di")]
    for person in people:
        await talk(store, memory, person, [f"{person.name} keeps bees.", "How sweet."])
    order = await store.people_by_recency()
    assert order == [p.id for p in reversed(people)]  # Di spoke last
    one = (await fresh(store, people[0])).nbytes  # type: ignore[union-attr]
    cache = VectorCache(store, HashEmbedder().dim, limit=3 * one)
    assert await cache.warm(order, seconds=60) == 2  # a third would leave no room to talk
    assert await cache.warm(order, seconds=60) == 0  # those held are not read again
    assert people[3].id in cache and people[2].id in cache and people[0].id not in cache
    same(await cache.get(people[3].id), await fresh(store, people[3]))  # type: ignore[arg-type]
    await cache.get(people[0].id)
    await cache.get(people[1].id)  # past the limit: the least recent is dropped
    assert people[3].id in cache and people[2].id not in cache
    assert await VectorCache(store, HashEmbedder().dim).warm(order, seconds=0) == 0
    assert await VectorCache(store, HashEmbedder().dim).warm([], seconds=60) == 0


@pytest.mark.parametrize("embedded", [True, False])
async def test_warming_readies_search_for_the_same_people_in_the_same_order(  # type: ignore[no-untyped-def]
    setup, monkeypatch: pytest.MonkeyPatch, embedded: bool
) -> None:
    """After the vectors, what full-text search holds between searches, within the same
    time, for the same people; a recall with no embedder still searches."""
    store, memory = setup
    people = [await store.create_person(name, f"h-{name}") for name in ("Ann", "Ben")]
    for person in people:
        await talk(store, memory, person, [f"{person.name} keeps bees.", "How sweet."])
    readied: list[tuple[list[int], float]] = []

    async def ready(people: list[int], seconds: float) -> int:
        readied.append((list(people), seconds))
        return len(people)

    monkeypatch.setattr(store, "ready_search", ready)
    recaller = Recaller(store, HashEmbedder() if embedded else None, Weights())
    order = await store.people_by_recency()
    assert await recaller.warm(iter(order), seconds=60) == (2 if embedded else 0)
    assert readied[0][0] == order and 0 < readied[0][1] <= 60


def test_a_short_kind_is_held_in_half_precision_and_a_long_one_in_full() -> None:
    """Most people's vectors fit the cache twice over in 16 bits; a long history, which
    would pay for widening them at every recall, keeps 32. Either ranks as the vectors
    do, to a thousandth."""
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((vectors.HALF_ROWS + 1, 16)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    q = rows[0]
    short = Kind.of(np.arange(1, 101, dtype=np.int64), rows[:100])
    assert short.matrix.dtype == np.float16
    assert np.abs(short.matrix @ q - rows[:100] @ q).max() < 1e-3
    grown = short
    for i in range(100, len(rows)):  # talking on, past the bound: widened as it is re-held
        grown = grown.added(np.array([i + 1], dtype=np.int64), rows[i : i + 1])
    assert grown.matrix.dtype == np.float32 and grown.n == len(rows)
    assert np.abs(grown.matrix @ q - rows @ q).max() < 1e-3
    long = Kind.of(np.arange(1, len(rows) + 1, dtype=np.int64), rows)
    assert long.matrix.dtype == np.float32 and np.array_equal(long.matrix, rows)


def test_half_precision_is_widened_exactly_for_every_finite_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The similarities of a kind held in 16 bits are those of its values widened by NumPy,
    for each of the 63,488 finite 16-bit floats (subnormals, both zeros, the largest), in
    any sign; and where the probe finds subnormals taken for zero, NumPy widens them."""
    every = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    every = every[np.isfinite(every)]
    assert len(every) == 63488
    matrix = np.resize(every, (len(every) // 32, 32))
    wide = matrix.astype(np.float32)
    assert np.array_equal(vectors._widened(matrix), wide)
    assert np.array_equal(np.signbit(vectors._widened(matrix)), np.signbit(wide))
    q = np.random.default_rng(5).standard_normal(32).astype(np.float32)
    assert np.array_equal(vectors.similarities(matrix, q), wide @ q)
    full = wide / 65504.0
    assert np.array_equal(vectors.similarities(full, q), full @ q)  # 32 bits: as they are
    widened: list[int] = []

    def as_zero(halves: np.ndarray) -> np.ndarray:
        widened.append(len(halves))
        found: np.ndarray = halves.astype(np.float32)
        found[np.abs(found) < 2.0**-14] = 0.0  # a processor taking subnormals for zero
        return found

    monkeypatch.setattr(vectors, "_widened", as_zero)
    assert np.array_equal(vectors.similarities(matrix, q), wide @ q)
    assert widened == [len(vectors._HALF_PROBE)]  # the probe only: NumPy widened the rest


THREADS = (
    "import os, samantha.memory.vectors;"
    " print(len(os.listdir('/proc/self/task')), os.environ['OPENBLAS_NUM_THREADS'])"
)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_dense_products_run_on_one_thread_unless_the_operator_says() -> None:
    """NumPy's OpenBLAS would start a thread per core, each spinning after every large
    product; importing Samantha (which any process of hers does first) keeps it to one."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    alone = subprocess.run(
        [sys.executable, "-c", THREADS], env=env, capture_output=True, text=True, check=True
    )
    assert alone.stdout.split() == ["1", "1"]  # no thread but the main one
    chosen = subprocess.run(
        [sys.executable, "-c", THREADS],
        env={**env, "OPENBLAS_NUM_THREADS": "2"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert chosen.stdout.split()[1] == "2"


async def test_vectors_another_embedder_made_are_made_again_as_their_person_learns(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory = setup  # 256 parts a vector
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await talk(store, memory, theo, ["My sister Ada lives in Lyon.", "Lyon is lovely."])
    await talk(store, memory, amy, ["I keep bees in Oslo.", "Bees, how lovely."])
    # SAMANTHA_EMBEDDER changed: the old vectors are left out of dense recall
    other = Memory(store, HashEmbedder(64))
    old = await store.foreign_vectors(theo.id, 64 * 4)
    assert sorted(item for item, _, _ in old) == ["memory", "turn", "turn"]
    assert ("turn", 1, "My sister Ada lives in Lyon.") in old
    held = await other.recaller._cache.get(theo.id)
    assert held is not None and not len(held.turns.ids) and not len(held.memories.ids)
    assert not (await other.recaller._dense(theo.id, "Where does Ada live?", 60))[0]
    await talk(store, other, theo, ["She visits in May.", "How nice."])
    assert await store.foreign_vectors(theo.id, 64 * 4) == []
    now = await other.recaller._cache.get(theo.id)
    assert now is not None and now.turns.ids.tolist() == [1, 2, 5, 6]
    assert len(now.memories.ids) == len(await store.memories(theo.id))
    assert 1 in (await other.recaller._dense(theo.id, "Where does Ada live?", 60))[0]
    assert np.allclose(np.linalg.norm(now.turns.matrix.astype(np.float32), axis=1), 1.0, atol=1e-3)
    # only Theo's were made again: Amy's wait for her own learning
    assert len(await store.foreign_vectors(amy.id, 64 * 4)) == 2  # no record drawn
    # a vector is only ever put in place of one: an item without one (forgotten) gets none
    await store.replace_vectors(theo.id, [("turn", 999, b"\0" * 256)])
    assert 999 not in [i for b in (await store.vectors_since(theo.id, 0)).blocks for i in b.ids]
    await other.close()
