from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from samantha.errors import InputError, NotFound
from samantha.store import Learned, NewMemory, SQLiteStore
from samantha.store.migrations import MIGRATIONS


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SQLiteStore(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()


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
