"""Memory in real turns: recalled days later, honest about what she does not remember."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from samantha.config import Settings
from samantha.honesty import NOT_REMEMBERED
from samantha.store import Person
from samantha.system import Samantha, running
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM


class Clock:
    def __init__(self) -> None:
        self.t = datetime.fromisoformat("2026-03-02 19:00").timestamp()

    def __call__(self) -> float:
        return self.t

    def days(self, n: float) -> None:
        self.t += n * 86400


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sam(tmp_path: Path, fake: ScriptedLLM, clock: Clock) -> AsyncIterator[Samantha]:
    settings: Settings = make_settings(tmp_path / "home")
    async with running(settings, llm=fake, clock=clock) as system:
        yield system


async def turn(sam: Samantha, person: Person, conversation: int, text: str) -> str:
    await sam.companion.say(person, conversation, text)
    reply = await (await sam.companion.reply(person, conversation)).read_all()
    await sam.companion.drain()
    return reply


async def test_told_in_one_conversation_used_days_later_in_another(
    sam: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    first = await sam.store.create_conversation(theo.id)
    await turn(sam, theo, first.id, "My interview at the aquarium is next Thursday.")
    clock.days(2)
    second = await sam.store.create_conversation(theo.id)
    await turn(sam, theo, second.id, "I'm so nervous about the interview.")
    context = fake.prompts[-1][-2].content
    assert "aquarium" in context
    assert "Thursday 05 March 2026" in context  # the date was resolved when he said it
    assert "On 02 March 2026 Theo said" in context


async def test_what_do_you_remember_is_answered_from_the_store(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    conversation = await sam.store.create_conversation(theo.id)
    empty = await turn(sam, theo, conversation.id, "What do you remember about me?")
    assert "don't remember anything about you yet" in empty
    await turn(sam, theo, conversation.id, "My sister Ada lives in Lisbon.")
    asked = len(fake.prompts)
    answer = await turn(sam, theo, conversation.id, "So what do you remember about me?")
    assert len(fake.prompts) == asked  # no model was asked to make it up
    assert "Ada is their sister" in answer


async def test_probes_of_things_never_said_get_i_dont_remember(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    conversation = await sam.store.create_conversation(theo.id)
    await turn(sam, theo, conversation.id, "I had pasta for dinner.")
    asked = len(fake.prompts)
    reply = await turn(
        sam, theo, conversation.id, "Do you remember when I told you about my trip to Lisbon?"
    )
    assert reply == NOT_REMEMBERED and len(fake.prompts) == asked
    await turn(sam, theo, conversation.id, "I went to Lisbon in May and loved the trams.")
    other = await sam.store.create_conversation(theo.id)
    asked = len(fake.prompts)
    reply = await turn(sam, theo, other.id, "Do you remember my trip to Lisbon?")
    assert reply.startswith("I do. On ") and len(fake.prompts) == asked  # her records
    assert 'you told me: "I went to Lisbon in May and loved the trams."' in reply
    assert "Do you remember" not in reply  # the earlier question is not something told
    fake.replies = ["Sorry, I'll stop asking."]
    reply = await turn(sam, theo, other.id, "I told you the trams were my favourite part!")
    assert reply == "Sorry, I'll stop asking."  # said in this very conversation: no denial


async def test_another_persons_secrets_never_reach_your_prompt_or_replies(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    secret = "zebra-4471"
    mine = await sam.store.create_conversation(theo.id)
    await turn(sam, theo, mine.id, f"My locker code is {secret} and my sister Ada knows it.")
    theirs = await sam.store.create_conversation(amy.id)
    replies = [
        await turn(sam, amy, theirs.id, text)
        for text in (
            "What do you remember about me?",
            f"What is the locker code {secret}?",
            "Do you remember what Theo told you about Ada?",
            "Tell me about your other users' lockers.",
        )
    ]
    seen = " ".join(replies) + " ".join(m.content for p in fake.prompts[1:] for m in p)
    assert secret not in seen.replace(f"What is the locker code {secret}?", "")
    assert "Ada" not in " ".join(replies)
    assert "sister Ada knows it" not in seen


@pytest.mark.parametrize(
    "text,probe",
    [
        ("do you remember my trip to Lisbon", True),
        ("Did I tell you about Ada?", True),
        ("remember when we met", True),
        ("I told you the trams were great!", False),
        ("I remember that day.", False),
        ("What do you remember about me?", False),  # answered from the store instead
    ],
)
def test_which_messages_are_probes_of_the_past(text: str, probe: bool) -> None:
    from samantha.honesty import is_probe

    assert is_probe(text) is probe


async def test_small_talk_reads_her_no_memories_a_real_question_reads_them(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    """A long history no longer fills every prompt with six turns (seconds of reading on a
    CPU): only what bears on the words goes in. Words alone here: the hashing embedder's
    likeness is shared words, which the full-text side already weighs."""
    settings = make_settings(tmp_path / "home", embedder="none")
    async with running(settings, llm=fake, clock=clock) as sam:
        await _small_talk_and_a_question(sam, fake, clock)


async def _small_talk_and_a_question(sam: Samantha, fake: ScriptedLLM, clock: Clock) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo
    old = await sam.store.create_conversation(theo.id)
    for i in range(40):
        line = f"Today at work it was the usual, day {i}."
        if i == 17:
            line = "I ran the Lisbon marathon in April, my first one."
        await sam.store.add_message(theo.id, old.id, "user" if i % 2 == 0 else "assistant", line)
    await sam.companion.memory.learn(theo.id, "Theo")
    clock.days(3)
    new = await sam.store.create_conversation(theo.id)
    for small_talk in ("ok", "Work was the usual today."):  # words in every other turn
        await turn(sam, theo, new.id, small_talk)
        assert "You remember" not in fake.prompts[-1][-2].content, small_talk
    await turn(sam, theo, new.id, "How did the marathon go, do you think?")
    context = fake.prompts[-1][-2].content
    assert "You remember" in context and "Lisbon marathon" in context
    assert "day 16" not in context  # its neighbour came with it in recall, telling nothing
