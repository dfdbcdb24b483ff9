"""The store's follow-up half: who is due, in pages, and deliveries scoped by person."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from samantha.errors import InputError, NotFound
from samantha.store import NewMemory, Person, PersonSettings, SQLiteStore
from samantha.store.migrations import MIGRATIONS, m009_session_reminder


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "s.db", clock=lambda: 1_000_000.0)
    await s.open()
    yield s
    await s.close()


async def plan(store: SQLiteStore, name: str, on: str = "2026-03-05") -> tuple[Person, int]:
    """A person who said they have an interview on ``on``; returns them and the memory."""
    person = await store.create_person(name, f"hash-{name}")
    conversation = await store.create_conversation(person.id)
    said = await store.add_message(person.id, conversation.id, "user", "Interview on Thursday")
    memory = NewMemory("event", "My interview is on Thursday.", (said.id,), "", on, on)
    (memory_id,) = await store.add_memories(person.id, [memory])
    return person, memory_id


async def due(store: SQLiteStore, *, default_on: bool = True, limit: int = 500) -> list[int]:
    found = await store.due_follow_ups(
        "2026-03-03", "2026-03-05", default_on=default_on, day_start=0.0, per_day=1, limit=limit
    )
    return [e.memory.person_id for e in found]


async def test_everyone_due_is_found_however_small_the_pages(store: SQLiteStore) -> None:
    people = [(await plan(store, name))[0].id for name in ("Theo", "Amy", "June")]
    await plan(store, "Later", on="2026-03-09")  # not over yet
    assert await due(store, limit=1) == people


async def test_the_switch_and_the_daily_limit_are_applied_in_the_query(store: SQLiteStore) -> None:
    theo, _ = await plan(store, "Theo")
    amy, first = await plan(store, "Amy")
    await store.change_person_settings(theo.id, PersonSettings(proactive=False))
    assert await due(store) == [amy.id]
    assert await due(store, default_on=False) == []  # Amy never chose: the default holds
    await store.change_person_settings(amy.id, PersonSettings(proactive=True))
    assert await due(store, default_on=False) == [amy.id]
    conversation = await store.latest_conversation(amy.id)
    assert conversation
    said = await store.add_message(amy.id, conversation.id, "user", "Party on Thursday")
    party = NewMemory("event", "The party is on Thursday.", (said.id,), "", "2026-03-05")
    await store.add_memories(amy.id, [party])
    await store.add_message(amy.id, conversation.id, "assistant", "Have fun!")
    sent = await store.send_follow_up(
        amy.id, [first], "How did it go?", day_start=0.0, per_day=1, busy_after=0.0
    )
    assert sent is not None
    assert await due(store, default_on=False) == []  # her one for today went: none to try


async def test_a_follow_up_is_written_only_for_the_memorys_own_person(
    store: SQLiteStore,
) -> None:
    theo, theirs = await plan(store, "Theo")
    amy, _ = await plan(store, "Amy")
    refused = await store.send_follow_up(
        amy.id, [theirs], "How did it go?", day_start=0.0, per_day=1, busy_after=0.0
    )
    assert refused is None
    assert await store.events_after(amy.id, 0) == []
    assert await store.follow_ups(amy.id) == [] == await store.follow_ups(theo.id)


async def test_settings_keep_what_was_not_changed(store: SQLiteStore) -> None:
    theo, _ = await plan(store, "Theo")
    assert await store.person_settings(theo.id) == PersonSettings()
    await store.change_person_settings(theo.id, PersonSettings(quiet_start="23:00"))
    await store.change_person_settings(theo.id, PersonSettings(proactive=False))
    assert await store.person_settings(theo.id) == PersonSettings(False, "23:00", None)
    await store.change_person_settings(theo.id, PersonSettings(session_reminder_min=20))
    await store.change_person_settings(theo.id, PersonSettings(proactive=True))
    assert await store.person_settings(theo.id) == PersonSettings(True, "23:00", None, 20)
    await store.change_person_settings(theo.id, PersonSettings(session_reminder_min=0))
    assert (await store.person_settings(theo.id)).session_reminder_min == 0  # off, not unset
    with pytest.raises(NotFound):
        await store.change_person_settings(999, PersonSettings(proactive=True))


async def test_the_store_refuses_a_reminder_out_of_range(store: SQLiteStore) -> None:
    theo, _ = await plan(store, "Theo")
    for minutes in (-1, 1441):
        with pytest.raises(InputError, match="session_reminder_min"):
            await store.change_person_settings(
                theo.id, PersonSettings(session_reminder_min=minutes)
            )
    assert await store.person_settings(theo.id) == PersonSettings()


async def test_settings_chosen_before_the_reminder_existed_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # a database as m008 left it, with Theo's choices
        db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        for step in MIGRATIONS[: MIGRATIONS.index(m009_session_reminder)]:
            db.executescript(step())
            db.execute("INSERT INTO _migrations VALUES (?, 0)", (step.__name__,))
        db.execute("INSERT INTO people (id, name, created_at) VALUES (1, 'Theo', 0)")
        db.execute("INSERT INTO person_settings VALUES (1, 0, '21:00', '07:00', 0)")
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.person_settings(1) == PersonSettings(False, "21:00", "07:00", None)
        await store.change_person_settings(1, PersonSettings(session_reminder_min=45))
        assert await store.person_settings(1) == PersonSettings(False, "21:00", "07:00", 45)
    finally:
        await store.close()
