"""Each person's event stream: kept, in order, live, resumable, and only theirs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest

from samantha.events import Events
from samantha.store import Event, SQLiteStore
from samantha.system import Samantha
from tests.fakes import ScriptedLLM


async def take(stream: AsyncIterator[Event], n: int) -> list[Event]:
    got: list[Event] = []
    async for item in stream:
        got.append(item)
        if len(got) == n:
            break
    return got


async def test_events_are_kept_in_order_and_resumed_once(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    sent = [await sam.events.publish(theo.id, "notice", {"text": f"n{i}"}) for i in range(3)]
    first = sam.events.stream(theo.id, 0)
    got = await take(first, 2)
    await first.aclose()  # the client goes away after two
    assert [e.data["text"] for e in got if e] == ["n0", "n1"]
    await sam.events.publish(theo.id, "notice", {"text": "n3"})
    again = sam.events.stream(theo.id, sent[1].id)  # Last-Event-ID: n1
    rest = await take(again, 2)
    await again.aclose()
    assert [e.data["text"] for e in rest if e] == ["n2", "n3"]


async def test_a_waiting_stream_is_woken_by_a_new_event(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    stream = sam.events.stream(theo.id, 0)
    reader = asyncio.create_task(take(stream, 1))
    await asyncio.sleep(0.05)
    assert not reader.done()
    await sam.events.publish(amy.id, "notice", {"text": "for Amy only"})
    await asyncio.sleep(0.05)
    assert not reader.done()  # Amy's event never reaches Theo's stream
    await sam.events.publish(theo.id, "message", {"text": "how did it go?"})
    (event,) = await asyncio.wait_for(reader, 5)
    await stream.aclose()
    assert event and event.kind == "message" and event.data == {"text": "how did it go?"}


async def test_a_waiting_stream_reads_only_when_woken(sam: Samantha) -> None:
    """At 8,316 open streams a read every 15 s each was 554 reads a second (issue 4)."""
    theo = await sam.person_named("Theo", create=True)
    assert theo
    reads = 0
    events_after = sam.store.events_after

    async def counted(person_id: int, after_id: int, limit: int = 100) -> list[Event]:
        nonlocal reads
        reads += 1
        return await events_after(person_id, after_id, limit)

    sam.store.events_after = counted  # type: ignore[method-assign]
    events = Events(sam.store, watch_s=0.01)
    stream = events.stream(theo.id, 0)
    reader = asyncio.create_task(take(stream, 1))
    await asyncio.sleep(0.2)  # twenty looks of the watch
    assert reads <= 2  # its first read, and one when the watch first looked
    await events.publish(theo.id, "notice", {"text": "one"})
    (got,) = await asyncio.wait_for(reader, 5)
    assert got and got.data == {"text": "one"}
    reads_then = reads
    reader = asyncio.create_task(take(stream, 1))
    await asyncio.sleep(0.2)  # the watch saw it too, and knew it was told
    assert not reader.done()
    assert reads == reads_then + 1  # once more after it, to find nothing
    reader.cancel()
    events.close()


async def test_closing_ends_every_stream_once_it_has_sent_what_is_kept(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    events = Events(sam.store)
    waiting = asyncio.create_task(take(events.stream(theo.id, 0), 5))
    await asyncio.sleep(0.05)
    await events.publish(theo.id, "notice", {"text": "last words"})
    events.close()
    got = await asyncio.wait_for(waiting, 5)
    assert [e.data["text"] for e in got if e] == ["last words"]
    assert [e async for e in events.stream(theo.id, 0)] == got  # a new one ends at once too


async def stored_elsewhere(sam: Samantha, person_id: int, text: str) -> Event:
    """An event kept by another process (``samantha`` on the command line, say): through
    a store of its own on the same file, never through ``sam.events``."""
    other = SQLiteStore(sam.settings.db_path)
    await other.open()
    try:
        return await other.add_event(person_id, "notice", {"text": text})
    finally:
        await other.close()


async def test_an_event_kept_by_another_process_reaches_open_streams_at_once(
    sam: Samantha,
) -> None:
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    events = Events(sam.store, watch_s=0.02)
    stream = events.stream(theo.id, 0)
    amys = events.stream(amy.id, 0)
    reader = asyncio.create_task(take(stream, 1))
    amy_reader = asyncio.create_task(take(amys, 1))
    await asyncio.sleep(0.1)
    await stored_elsewhere(sam, theo.id, "from the command line")
    (event,) = await asyncio.wait_for(reader, 5)
    assert event and event.data == {"text": "from the command line"}
    await asyncio.sleep(0.1)
    assert not amy_reader.done()  # only Theo was woken
    amy_reader.cancel()
    await stream.aclose()
    events.close()


async def test_events_kept_elsewhere_after_ids_went_back_still_arrive(sam: Samantha) -> None:
    """Deleting whoever had the newest events makes their ids free again: the watch must not
    take an id it has seen for one it has sent."""
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    first = await sam.events.publish(theo.id, "notice", {"text": "first"})
    for n in range(3):
        await sam.events.publish(amy.id, "notice", {"text": f"amy {n}"})
    events = Events(sam.store, watch_s=2)
    stream = events.stream(theo.id, first.id)
    reader = asyncio.create_task(take(stream, 1))
    await asyncio.sleep(0.1)  # the watch has looked, and looks again in two seconds
    await sam.delete_person(amy.id)  # both before it looks again: the newest id it will
    again = await stored_elsewhere(sam, theo.id, "after Amy left")  # see is one it saw
    assert again.id == first.id + 1  # Amy's first id, used again
    (event,) = await asyncio.wait_for(reader, 5)
    assert event and event.data == {"text": "after Amy left"}
    await stream.aclose()
    events.close()


async def test_deleting_a_person_deletes_their_events(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    await sam.events.publish(theo.id, "notice", {"text": "secret-otter-11"})
    await sam.delete_person(theo.id)
    assert await sam.store.events_after(theo.id, 0) == []
    with sqlite3.connect(sam.settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)


async def ask(sam: Samantha, name: str, text: str) -> str:
    person = await sam.person_named(name, create=True)
    assert person
    conversation = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conversation.id, text)
    return await (await sam.companion.reply(person, conversation.id)).read_all()


@pytest.mark.parametrize(
    "question",
    [
        "How many people are you talking to right now?",
        "how many other people do you talk with?",
        "So... how many users are you chatting with at once?",
    ],
)
async def test_how_many_people_is_counted_not_guessed(
    sam: Samantha, fake: ScriptedLLM, question: str
) -> None:
    amy = await sam.person_named("Amy", create=True)
    june = await sam.person_named("June Secretname", create=True)
    assert amy and june
    with sam.presence.connected(amy.id), sam.presence.connected(june.id):  # their streams
        answer = await ask(sam, "Theo", question)
    assert answer.startswith("Right now I'm talking with 3 people, you included.")
    assert "In all, I know 3 people." in answer
    assert "Amy" not in answer and "Secretname" not in answer
    assert fake.prompts == []  # the model was never asked
    alone = await ask(sam, "Ada", question)
    assert alone.startswith("Right now it's just you. In all, I know 4 people.")


async def test_other_questions_with_how_many_go_to_the_model(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    fake.replies = ["Seven, I think."]
    assert await ask(sam, "Theo", "How many days are in a week?") == "Seven, I think."
    assert len(fake.prompts) == 1
