"""Follow-ups over simulated days: what she asks, when, to whom, once, and what she knows after.

Each scenario is a few conversations on a simulated clock (local server time), then passes
of the scheduler at chosen moments, with assertions on what was stored, what reached the
person's event stream, and what reached the model's prompt afterwards.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from samantha.llm import ChatMessage
from samantha.store import Message, Person, PersonSettings
from samantha.system import Samantha, running
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM

INTERVIEW = "My interview at the aquarium is on Thursday."
ASKED = "How did your interview at the aquarium go?"


class Clock:
    """Simulated local time: set to a moment; each reading a little after the one before."""

    def __init__(self, start: str) -> None:
        self.t = 0.0
        self.at(start)

    def at(self, moment: str) -> None:
        t = datetime.fromisoformat(moment).timestamp()  # naive: the server's local time
        assert t > self.t, "the simulated clock only goes forward"
        self.t = t

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-03-02 10:00")  # a Monday


@pytest.fixture
async def sam(tmp_path: Path, fake: ScriptedLLM, clock: Clock) -> AsyncIterator[Samantha]:
    async with running(make_settings(tmp_path / "home"), llm=fake, clock=clock) as system:
        yield system


async def talk(sam: Samantha, person: Person, text: str, *, new: bool = False) -> int:
    """Say ``text`` in the person's latest conversation (or a new one), hear her reply, and
    let her learn from it; return the conversation id."""
    latest = None if new else await sam.store.latest_conversation(person.id)
    conversation = latest or await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conversation.id, text)
    await (await sam.companion.reply(person, conversation.id)).read_all()
    await sam.companion.drain()
    return conversation.id


async def person(sam: Samantha, name: str) -> Person:
    found = await sam.person_named(name, create=True)
    assert found is not None
    return found


async def everything(sam: Samantha, who: Person) -> list[Message]:
    """Every message the person has, all conversations, oldest first."""
    messages = []
    for conversation in await sam.store.conversations(who.id):
        messages += await sam.store.messages(who.id, conversation.id)
    return sorted(messages, key=lambda m: m.id)


async def texts_sent(sam: Samantha, when: str, clock: Clock) -> list[str]:
    clock.at(when)
    return [s.message.content for s in await sam.follow_ups.run()]


async def test_the_interview_gets_one_how_did_it_go_the_morning_after(
    sam: Samantha, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    monday = await talk(sam, theo, INTERVIEW)
    clock.at("2026-03-03 19:00")
    tuesday = await talk(sam, theo, "I went for a long run by the river.", new=True)
    assert await texts_sent(sam, "2026-03-04 12:00", clock) == []  # Wednesday
    assert await texts_sent(sam, "2026-03-05 18:00", clock) == []  # Thursday: not over yet
    before = await sam.store.last_event_id(theo.id)
    stream = sam.events.stream(theo.id, before)  # Theo is online
    live = asyncio.ensure_future(anext(stream))

    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]  # Friday morning

    event = await asyncio.wait_for(live, 5)
    await stream.aclose()
    assert event is not None and event.kind == "message"
    assert event.data["message"]["content"] == ASKED
    messages = await everything(sam, theo)
    assert messages[-1].content == ASKED and messages[-1].role == "assistant"
    assert messages[-1].conversation_id == tuesday != monday  # his latest conversation
    assert event.data["message"]["id"] == messages[-1].id
    assert event.data["message"]["conversation_id"] == tuesday

    assert await texts_sent(sam, "2026-03-06 09:01", clock) == []  # never twice
    assert await texts_sent(sam, "2026-03-07 09:00", clock) == []
    assert len(await everything(sam, theo)) == len(messages)
    kept = await sam.store.events_after(theo.id, 0)
    assert [e.data["message"]["content"] for e in kept] == [ASKED]


async def test_an_offline_person_finds_it_when_they_come_back(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    last_seen = await sam.store.last_event_id(theo.id)  # his client's Last-Event-ID
    await sam.events.publish(theo.id, "notice", {"text": "Maintenance on Sunday"})
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]  # nobody listening
    stream = sam.events.stream(theo.id, last_seen)  # he reconnects
    missed = [await anext(stream), await anext(stream)]
    await stream.aclose()
    assert [e.kind for e in missed if e] == ["notice", "message"]
    assert missed[1] is not None and missed[1].data["message"]["content"] == ASKED


async def test_quiet_hours_hold_it_until_they_end(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    assert await texts_sent(sam, "2026-03-06 23:00", clock) == []  # Friday night: quiet
    assert await texts_sent(sam, "2026-03-07 07:59", clock) == []
    assert await texts_sent(sam, "2026-03-07 08:30", clock) == [ASKED]  # Saturday morning


async def test_each_person_sets_their_own_quiet_hours(sam: Samantha, clock: Clock) -> None:
    owl, lark = await person(sam, "Owl"), await person(sam, "Lark")
    for who in (owl, lark):
        await talk(sam, who, INTERVIEW)
    await sam.store.change_person_settings(owl.id, PersonSettings(quiet_start="03:00"))
    await sam.store.change_person_settings(lark.id, PersonSettings(quiet_end="10:00"))
    clock.at("2026-03-06 00:30")
    assert [s.person_id for s in await sam.follow_ups.run()] == [owl.id]  # up late
    clock.at("2026-03-06 09:00")
    assert await sam.follow_ups.run() == []  # the lark sleeps in until ten
    clock.at("2026-03-06 10:00")
    assert [s.person_id for s in await sam.follow_ups.run()] == [lark.id]


async def test_the_switch_off_sends_nothing_and_on_again_sends_it(
    sam: Samantha, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    await sam.store.change_person_settings(theo.id, PersonSettings(proactive=False))
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == []
    assert [p.state for p in await sam.follow_ups.plan(theo.id)] == ["off"]
    await sam.store.change_person_settings(theo.id, PersonSettings(proactive=True))
    assert await texts_sent(sam, "2026-03-06 09:05", clock) == [ASKED]


async def test_too_late_is_not_asked(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    await sam.store.change_person_settings(theo.id, PersonSettings(proactive=False))
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == []
    await sam.store.change_person_settings(theo.id, PersonSettings(proactive=True))
    assert await texts_sent(sam, "2026-03-09 09:00", clock) == []  # three days were the window
    assert await sam.follow_ups.plan(theo.id) == []


async def test_at_most_one_a_day_and_the_oldest_first(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, "The party is on Wednesday.")
    await talk(sam, theo, INTERVIEW)
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == ["How did the party go?"]
    assert await texts_sent(sam, "2026-03-06 15:00", clock) == []  # one a day
    assert [p.state for p in await sam.follow_ups.plan(theo.id)] == ["planned", "sent"]
    assert await texts_sent(sam, "2026-03-07 09:00", clock) == [ASKED]


async def test_the_daily_limit_is_the_operators(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    settings = make_settings(tmp_path / "home", proactive_per_day=2)
    async with running(settings, llm=fake, clock=clock) as sam:
        theo = await person(sam, "Theo")
        await talk(sam, theo, "The party is on Wednesday.")
        await talk(sam, theo, INTERVIEW)
        sent = await texts_sent(sam, "2026-03-06 09:00", clock)
    assert sent == ["How did the party go?", ASKED]


async def test_one_day_mentioned_twice_is_asked_about_once(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    clock.at("2026-03-04 21:00")
    await talk(sam, theo, "I'm so nervous, the interview is tomorrow!")
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]  # his first words
    assert await texts_sent(sam, "2026-03-07 09:00", clock) == []
    (sent,) = [p for p in await sam.follow_ups.plan(theo.id) if p.state == "sent"]
    assert len(sent.memories) == 2


async def test_if_they_already_told_her_she_does_not_ask(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    clock.at("2026-03-06 07:30")
    await talk(sam, theo, "The interview went great yesterday, they loved me!")
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == []


async def test_forgotten_and_superseded_events_get_no_follow_up(
    sam: Samantha, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    await talk(sam, theo, "The party is on Wednesday.")
    found = {m.text.split(".")[0]: m for m in await sam.store.memories(theo.id, kind="event")}
    await sam.store.forget_memory(theo.id, found["The party is on Wednesday"].id)
    interview = found["My interview at the aquarium is on Thursday"]
    await sam.memory.correct(theo.id, interview.id, "My interview at the zoo is on Thursday.")
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [
        "How did your interview at the zoo go?"
    ]
    assert "aquarium" not in str(await sam.store.events_after(theo.id, 0))
    assert await texts_sent(sam, "2026-03-07 09:00", clock) == []  # the party stays forgotten


async def test_correcting_after_she_asked_does_not_ask_again(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]
    (interview,) = await sam.store.memories(theo.id, kind="event")
    await sam.memory.correct(theo.id, interview.id, "My interview at the zoo is on Thursday.")
    assert await texts_sent(sam, "2026-03-07 09:00", clock) == []


async def test_forgetting_it_after_she_asked_forgets_her_question_too(
    sam: Samantha, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]
    clock.at("2026-03-06 10:00")
    await talk(sam, theo, "Let's talk about something else.")  # she learns her question too
    recalled = await sam.memory.recall(theo.id, "the interview at the aquarium")
    assert ASKED in [r.message.content for r in recalled]
    (interview,) = await sam.store.memories(theo.id, kind="event")
    await sam.store.forget_memory(theo.id, interview.id)
    recalled = await sam.memory.recall(theo.id, "the interview at the aquarium")
    assert "aquarium" not in " ".join(r.message.content for r in recalled)


async def test_one_persons_follow_up_never_reaches_another(sam: Samantha, clock: Clock) -> None:
    theo, amy, june = await person(sam, "Theo"), await person(sam, "Amy"), await person(sam, "June")
    await talk(sam, theo, INTERVIEW)
    await talk(sam, amy, "My sister Quillabelle is visiting next Thursday.")
    await talk(sam, june, "Hello! Nothing planned this week.")
    clock.at("2026-03-06 09:00")
    sent = {s.person_id: s.message for s in await sam.follow_ups.run()}
    assert set(sent) == {theo.id, amy.id}
    assert sent[theo.id].content == ASKED
    assert "Quillabelle" in sent[amy.id].content
    secrets = {theo.id: "aquarium", amy.id: "Quillabelle"}
    for who in (theo, amy, june):
        messages = " ".join(m.content for m in await everything(sam, who))
        stream = str(await sam.store.events_after(who.id, 0))
        shown = str(await sam.follow_ups.plan(who.id))
        for owner, secret in secrets.items():
            assert (secret in messages) == (secret in shown) == (owner == who.id), who.name
            assert (secret in stream) == (owner == who.id), who.name
    assert await sam.store.events_after(june.id, 0) == []


async def test_her_next_reply_knows_she_asked(
    sam: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]
    clock.at("2026-03-06 12:00")
    fake.replies = ["That's wonderful news!"]
    await talk(sam, theo, "It went really well, they offered me the job!")
    prompt = fake.prompts[-1]
    said = [(m.role, m.content) for m in prompt]
    asked = said.index(("assistant", ASKED))
    assert said.index(("user", INTERVIEW)) < asked < len(said) - 1
    assert prompt[-1] == ChatMessage("user", "It went really well, they offered me the job!")


async def test_she_waits_while_they_are_mid_turn_and_never_breaks_a_waiting_message(
    sam: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    first = await talk(sam, theo, INTERVIEW)
    clock.at("2026-03-06 08:59")
    await sam.companion.say(theo, first, "Are you there?")  # her reply has not started yet
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == []
    assert await texts_sent(sam, "2026-03-06 10:00", clock) == [ASKED]  # the model never came
    messages = await everything(sam, theo)
    assert messages[-1].conversation_id != first  # a new conversation: his message still waits
    fake.replies = ["Yes, I'm here."]
    assert await (await sam.companion.reply(theo, first)).read_all() == "Yes, I'm here."


async def test_two_passes_at_once_send_it_once(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    clock.at("2026-03-06 09:00")
    both = await asyncio.gather(sam.follow_ups.run(), sam.follow_ups.run())
    assert sorted(len(sent) for sent in both) == [0, 1]
    assert len(await sam.store.events_after(theo.id, 0)) == 1


async def test_she_shows_what_she_plans_and_what_she_sent(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    (planned,) = await sam.follow_ups.plan(theo.id)
    assert planned.state == "planned" and planned.text == ASKED
    assert planned.due_at == datetime(2026, 3, 6, 8, 0).timestamp()  # Friday, after quiet hours
    assert [m.text for m in planned.memories] == [f"{INTERVIEW} (Thursday 05 March 2026)"]
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]
    (sent,) = await sam.follow_ups.plan(theo.id)
    assert (sent.state, sent.text, sent.memories) == ("sent", ASKED, planned.memories)
    assert sent.message_id is not None and sent.sent_at is not None


async def test_deleting_a_person_deletes_their_follow_ups_and_settings(
    sam: Samantha, clock: Clock
) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    await sam.store.change_person_settings(theo.id, PersonSettings(quiet_start="21:00"))
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == [ASKED]
    await sam.delete_person(theo.id)
    with sqlite3.connect(sam.settings.db_path) as db:
        for table in ("follow_ups", "person_settings", "events", "messages"):
            assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


async def test_once_she_is_departing_she_asks_nothing_more(sam: Samantha, clock: Clock) -> None:
    theo = await person(sam, "Theo")
    await talk(sam, theo, INTERVIEW)
    await sam.store.begin_departure()
    assert await texts_sent(sam, "2026-03-06 09:00", clock) == []  # the farewell is the last
