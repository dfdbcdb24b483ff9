"""Each person's event stream: kept, in order, live, resumable, and only theirs."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest

from samantha.store import Event
from samantha.system import Samantha
from tests.fakes import ScriptedLLM


async def take(stream: AsyncIterator[Event | None], n: int) -> list[Event | None]:
    got: list[Event | None] = []
    async for item in stream:
        got.append(item)
        if len(got) == n:
            break
    return got


async def test_events_are_kept_in_order_and_resumed_once(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    sent = [await sam.events.publish(theo.id, "notice", {"text": f"n{i}"}) for i in range(3)]
    first = sam.events.stream(theo.id, 0, heartbeat=5)
    got = await take(first, 2)
    await first.aclose()  # the client goes away after two
    assert [e.data["text"] for e in got if e] == ["n0", "n1"]
    await sam.events.publish(theo.id, "notice", {"text": "n3"})
    again = sam.events.stream(theo.id, sent[1].id, heartbeat=5)  # Last-Event-ID: n1
    rest = await take(again, 2)
    await again.aclose()
    assert [e.data["text"] for e in rest if e] == ["n2", "n3"]


async def test_a_waiting_stream_is_woken_by_a_new_event(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    stream = sam.events.stream(theo.id, 0, heartbeat=30)
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


async def test_a_quiet_stream_sends_heartbeats(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    stream = sam.events.stream(theo.id, 0, heartbeat=0.01)
    assert await take(stream, 2) == [None, None]
    await stream.aclose()


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
