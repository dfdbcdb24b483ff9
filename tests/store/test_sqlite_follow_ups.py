"""The store's follow-up half: who is due, in pages, and deliveries scoped by person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from samantha.errors import NotFound
from samantha.store import NewMemory, Person, PersonSettings, SQLiteStore


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
    with pytest.raises(NotFound):
        await store.change_person_settings(999, PersonSettings(proactive=True))
