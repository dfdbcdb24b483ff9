"""The store's side of departure: nothing new once it begins, and one farewell per person."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from samantha.errors import Departing
from samantha.store import SQLiteStore


async def test_once_departure_begins_nothing_new_gets_in(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    talk = await store.create_conversation(theo.id)
    asked = await store.add_message(theo.id, talk.id, "user", "Are you still there?")
    assert await store.departure() is None
    began = await store.begin_departure()
    assert (began.people, began.done, began.finished_at) == (1, 0, None)
    assert (await store.begin_departure()).started_at == began.started_at  # begun once
    for attempt in (
        store.create_person("Amy", "h2"),
        store.create_conversation(theo.id),
        store.add_message(theo.id, talk.id, "user", "Hello?"),
    ):
        with pytest.raises(Departing, match="leaving"):
            await attempt
    # her reply to what was said before still lands, and everything stays readable
    await store.add_message(theo.id, talk.id, "assistant", "I'm here.")
    said = await store.messages(theo.id, talk.id)
    assert [(m.id, m.role) for m in said] == [(asked.id, "user"), (said[1].id, "assistant")]
    assert (await store.counts())["people"] == 1


async def test_a_farewell_is_written_once_whoever_writes_it(
    store: SQLiteStore, tmp_path: Path
) -> None:
    theo = await store.create_person("Theo", "h1")
    await store.begin_departure()
    other = SQLiteStore(tmp_path / "s.db")  # another process on the same home
    await other.open()
    try:
        results = await asyncio.gather(
            *(s.add_farewell(theo.id, "Goodbye", "Dear Theo", {"x": 1}) for s in (store, other)),
            store.add_farewell(theo.id, "Goodbye", "Dear Theo", {"x": 1}),
        )
    finally:
        await other.close()
    written = [r for r in results if r is not None]
    assert len(written) == 1
    (event,) = written
    assert event.kind == "farewell" and event.data["text"] == "Dear Theo"
    assert event.data["x"] == 1 and await store.farewelled() == {theo.id}
    farewell = await store.farewell(theo.id)
    assert farewell is not None and farewell.id == event.data["message_id"]
    talk = await store.conversation(theo.id, event.data["conversation_id"])
    assert talk.title == "Goodbye"
    assert await store.events_after(theo.id, 0) == [event]
    done = await store.finish_departure()
    assert done.done == done.people == 1 and done.finished_at is not None


async def test_no_farewell_for_someone_gone_and_deleting_takes_it_away(
    store: SQLiteStore,
) -> None:
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await store.begin_departure()
    assert await store.add_farewell(theo.id, "Goodbye", "Dear Theo", {})
    await store.delete_person(theo.id)  # people can still leave with their data
    assert await store.add_farewell(theo.id, "Goodbye", "Dear Theo", {}) is None
    assert await store.farewell(theo.id) is None
    found = await store.departure()
    assert found is not None and (found.people, found.done) == (1, 0)
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT count(*) FROM farewells").fetchone() == (0,)
    assert await store.farewelled() == set()
    assert await store.add_farewell(amy.id, "Goodbye", "Dear Amy", {})


async def test_acquaintance_counts_only_what_the_person_said(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    nothing = await store.acquaintance(theo.id)
    assert (nothing.since, nothing.conversations, nothing.messages) == (None, 0, 0)
    for text in ("one", "two"):
        talk = await store.create_conversation(theo.id)
        await store.add_message(theo.id, talk.id, "user", text)
        await store.add_message(theo.id, talk.id, "assistant", "yes")
    await store.create_conversation(theo.id)  # opened, never used
    known = await store.acquaintance(theo.id)
    assert known.since is not None and (known.conversations, known.messages) == (2, 2)
