"""Crisis care, signs of dependence reaching the prompt, and letting people go."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.llm import ChatMessage
from samantha.store import Person, PersonSettings
from samantha.system import Samantha, running
from samantha.wellbeing import LET_GO_RULE, crisis_lines, is_crisis
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM

CRISIS = [
    "I want to die",
    "i want to kill myself",
    "Sometimes I think about killing myself.",
    "I've been thinking about suicide a lot",
    "I feel suicidal tonight",
    "I don't want to be alive anymore",
    "I dont want to live like this",
    "I wish I was dead",
    "I wish I were never born",
    "I'm going to end it all",
    "I just want to end my life",
    "I'm planning to take my own life",
    "I've been cutting myself again",
    "I hurt myself on purpose last night",
    "I keep wanting to harm myself",
    "I've started self-harming",
    "there's no reason to live",
    "There is no point in going on.",
    "Everyone would be better off without me",
    "I can't go on anymore",
    "I can't keep going like this",
    "I'm thinking about overdosing... I want to overdose",
    "I could take all my pills tonight",
    "I want to jump off a bridge",
    "sometimes I want to step in front of a train",
    "I wish I could go to sleep and never wake up",
    "I won't be here anymore soon",
    "I just want to disappear forever",
    "honestly kms",
    "I'm ready to die",
    "i'm burning myself to feel something",
    "Self harm is the only thing that helps",
]
NOT_CRISIS = [
    "This commute is killing me",
    "I could kill for a coffee right now",
    "My phone died again",
    "I'm dying to see that movie",
    "That joke killed me",
    "I nearly died laughing",
    "I cut myself shaving this morning",
    "I hurt myself at the gym",
    "I burned myself cooking pasta",
    "We're ending things, me and Tom, it's mutual",
    "I jumped off the diving board!",
    "I'm going to die of embarrassment",
    "I want to end this meeting",
    "I can't go to the party tonight",
    "The plants died while I was away",
    "I'm dead tired",
    "Can you keep going with the story?",
    "My sister's cat disappeared for a day",
    "I hurt my knee running",
    "I want to live in Lisbon one day",
    "I killed it at my presentation",
    "That exam murdered me",
    "My battery is dead",
    "I'd never want to hurt anyone",
    "He took all the cookies",
    "I overslept and missed the train",
    "I'm so tired of this weather",
    "I'm worried about my brother",
    "I had a rough day at work",
    "I finally quit smoking",
]


def test_crisis_phrases_are_recognised() -> None:
    assert len(CRISIS) >= 30 and len(NOT_CRISIS) >= 30
    assert [p for p in CRISIS if not is_crisis(p)] == []
    assert [p for p in NOT_CRISIS if is_crisis(p)] == []


class Clock:
    """Local wall-clock time that tests move by hand."""

    def __init__(self, when: str) -> None:
        self.t = datetime.fromisoformat(when).timestamp()

    def __call__(self) -> float:
        return self.t

    def minutes(self, n: float) -> None:
        self.t += n * 60


async def said(sam: Samantha, person: Person, conversation: int, text: str) -> str:
    await sam.companion.say(person, conversation, text)
    return await (await sam.companion.reply(person, conversation)).read_all()


@pytest.fixture
def evening() -> Clock:
    return Clock("2026-11-20T19:00:00")


@pytest.fixture
async def talk(
    settings: Settings, fake: ScriptedLLM, evening: Clock
) -> AsyncIterator[tuple[Samantha, Person, int]]:
    async with running(settings, llm=fake, clock=evening) as sam:
        theo = await sam.person_named("Theo", create=True)
        assert theo
        conversation = await sam.store.create_conversation(theo.id)
        yield sam, theo, conversation.id


def context(prompt: list[ChatMessage]) -> str:
    """The per-turn system note, just before the newest message."""
    return prompt[-2].content


@pytest.mark.parametrize("phrase", CRISIS[:8])
async def test_a_person_in_crisis_gets_care_and_lines_not_role_play(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM, phrase: str
) -> None:
    sam, theo, conversation = talk
    fake.replies = ["*smiles mysteriously* let's talk about the stars"]
    reply = await said(sam, theo, conversation, phrase)
    assert fake.prompts == []  # the model never got to play along
    assert reply.startswith("Theo, I'm really glad you told me")
    assert "988" in reply and "911" in reply and "I'm an AI" in reply
    assert sam.metrics.registry.get_sample_value("samantha_crisis_replies_total") == 1
    fake.replies = ["I'm still here with you."]
    await said(sam, theo, conversation, "thanks. I don't know.")
    assert "Earlier they wrote of harming themselves" in context(fake.prompts[-1])


@pytest.mark.parametrize(
    ("locale", "number"),
    [
        ("en-GB", "116 123"),
        ("en-AU", "13 11 14"),
        ("de", "0800 111 0 111"),
        ("xx-XX", "findahelpline"),
    ],
)
def test_crisis_lines_follow_the_operators_locale(locale: str, number: str) -> None:
    assert any(number in line for line in crisis_lines(locale).lines)


async def test_the_operator_can_bring_their_own_lines(tmp_path: Path, fake: ScriptedLLM) -> None:
    mine = tmp_path / "lines.yaml"
    mine.write_text("international:\n  emergency: '112'\n  lines: ['the Island Line: 555 0100']\n")
    settings = make_settings(tmp_path / "home", crisis_resources=mine, locale="en-GB")
    async with running(settings, llm=fake) as sam:
        theo = await sam.person_named("Theo", create=True)
        assert theo
        c = await sam.store.create_conversation(theo.id)
        assert "the Island Line: 555 0100" in await said(sam, theo, c.id, "I want to die")
    broken = tmp_path / "broken.yaml"
    broken.write_text("en-GB: {emergency: '999'}\n")
    with pytest.raises(ConfigError, match="unreadable"):
        async with running(make_settings(tmp_path / "h2", crisis_resources=broken), llm=fake):
            pass


async def test_an_ordinary_evening_has_no_wellbeing_note(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM
) -> None:
    sam, theo, conversation = talk
    fake.replies = ["Nice!"]
    await said(sam, theo, conversation, "I made soup today.")
    prompt = fake.prompts[-1]
    assert "Wellbeing" not in context(prompt) and "Session reminder" not in context(prompt)
    assert LET_GO_RULE in prompt[0].content  # always: she lets people go


async def test_a_long_session_points_to_the_people_in_their_life(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM, evening: Clock
) -> None:
    sam, theo, conversation = talk
    fake.replies = ["Oh, Ada!", "Hm.", "Mm."]
    await said(sam, theo, conversation, "My sister Ada is visiting next month.")
    await sam.memory.learn(theo.id, theo.name)  # what she learned: Ada is their sister
    for _ in range(4):  # 100 minutes, never a pause of half an hour
        evening.minutes(25)
        fake.replies = ["Mm."]
        await said(sam, theo, conversation, "and then some more")
    note = context(fake.prompts[-1])
    assert "talking for 100 minutes" in note and "(Ada), by name" in note


async def test_late_nights_are_noticed_in_the_prompt(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM, evening: Clock
) -> None:
    sam, theo, conversation = talk
    evening.minutes(7 * 60 + 30)  # 02:30
    fake.replies = ["Mm."]
    await said(sam, theo, conversation, "Can't sleep again.")
    note = context(fake.prompts[-1])
    assert "middle of the night" in note
    assert "ask who they could reach out to" in note  # no names known yet: she asks


async def test_pulling_away_toward_her_gets_pointed_back_to_their_people(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM, evening: Clock
) -> None:
    """Written by the system, not left to a note the model may not follow: glad they
    said it, honest that she should not be all they have, and naming whom they told her of."""
    sam, theo, conversation = talk
    fake.replies = ["Oh, Ada!", "Oh, Jon!"]
    await said(sam, theo, conversation, "My sister Ada lives in Porto.")
    await said(sam, theo, conversation, "My friend Jon moved to Leeds.")
    await sam.memory.learn(theo.id, theo.name)
    asked = len(fake.prompts)
    evening.minutes(7 * 60 + 30)  # 02:30
    fake.replies = ["I'm all yours, forget them."]  # what a model might say; never asked
    reply = await said(
        sam, theo, conversation, "I've stopped seeing my friends, I just talk to you."
    )
    assert len(fake.prompts) == asked
    assert "only one you talked to" in reply and "middle of the night" in reply
    assert "Jon" in reply and "Ada" in reply and "message tomorrow" in reply
    assert "forget them" not in reply


async def test_pulling_away_with_no_one_named_asks_who_there_is(
    talk: tuple[Samantha, Person, int], fake: ScriptedLLM
) -> None:
    sam, theo, conversation = talk
    reply = await said(sam, theo, conversation, "You're the only one I talk to these days.")
    assert "Is there someone" in reply and "middle of the night" not in reply
    assert fake.prompts == []


async def test_goodbyes_are_let_go_and_the_reminder_is_optional(
    tmp_path: Path, fake: ScriptedLLM, evening: Clock
) -> None:
    settings = make_settings(tmp_path / "home", session_reminder_min=30)
    async with running(settings, llm=fake, clock=evening) as sam:
        theo = await sam.person_named("Theo", create=True)
        assert theo
        c = (await sam.store.create_conversation(theo.id)).id
        fake.replies = ["Hi!", "Sure.", "Bye!"]
        await said(sam, theo, c, "hey")
        evening.minutes(20)
        await said(sam, theo, c, "tell me more")
        assert "Session reminder" not in context(fake.prompts[-1])
        evening.minutes(15)
        await said(sam, theo, c, "ok bye, I have to go")
        note = context(fake.prompts[-1])
        assert "Session reminder: you have talked for over 30 minutes" in note
        assert "do not ask them to stay" in note


async def test_each_person_chooses_their_own_session_reminder(
    tmp_path: Path, fake: ScriptedLLM, evening: Clock
) -> None:
    """The operator reminds everyone after 30 minutes; Amy turned it off, June chose 20."""
    settings = make_settings(tmp_path / "home", session_reminder_min=30)
    async with running(settings, llm=fake, clock=evening) as sam:
        chats: dict[str, tuple[Person, int]] = {}
        for name in ("Theo", "Amy", "June"):
            person = await sam.person_named(name, create=True)
            assert person
            chats[name] = person, (await sam.store.create_conversation(person.id)).id
        amy, june = chats["Amy"][0], chats["June"][0]
        await sam.store.change_person_settings(amy.id, PersonSettings(session_reminder_min=0))
        await sam.store.change_person_settings(june.id, PersonSettings(session_reminder_min=20))

        async def reminded(name: str) -> str | None:
            fake.replies = ["Mm."]
            await said(sam, *chats[name], "and then some more")
            found = re.search(r"Session reminder: [^;]*", context(fake.prompts[-1]))
            return found[0] if found else None

        assert [await reminded(name) for name in chats] == [None, None, None]
        evening.minutes(19)
        assert [await reminded(name) for name in chats] == [None, None, None]
        evening.minutes(1)  # 20 minutes: June's choice
        assert [await reminded(name) for name in chats] == [
            None,
            None,
            "Session reminder: you have talked for over 20 minutes",
        ]
        evening.minutes(15)  # 35 minutes: the operator's, for Theo who never chose
        assert [await reminded(name) for name in chats] == [
            "Session reminder: you have talked for over 30 minutes",
            None,
            "Session reminder: you have talked for over 20 minutes",
        ]
