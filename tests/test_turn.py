from __future__ import annotations

import asyncio
import sqlite3

import pytest

from samantha import summary, turn
from samantha.errors import InputError, ModelError, ModelUnavailable
from samantha.store import Conversation, Message, Person, Store
from samantha.system import Samantha
from tests.fakes import ScriptedLLM


async def test_message_is_durable_before_the_model_is_asked(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    seen: list[object] = []

    async def look() -> None:
        db = sqlite3.connect(sam.settings.db_path)
        seen.extend(db.execute("SELECT content FROM messages").fetchall())

    fake.before_stream = look
    fake.replies = ["That sounds hard. What happened?"]
    await sam.companion.say(person, conv.id, "I had a rough day.")
    reply = await sam.companion.reply(person, conv.id)
    assert await reply.read_all() == "That sounds hard. What happened?"
    assert seen == [("I had a rough day.",)]
    stored = await sam.store.messages(person.id, conv.id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "complete")]


async def test_prompt_has_persona_mood_and_time_before_the_new_message(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    for text in ("My sister Ada visits Friday.", "I'm so anxious about it."):
        await sam.companion.say(person, conv.id, text)
        await (await sam.companion.reply(person, conv.id)).read_all()
    prompt = fake.prompts[-1]
    assert prompt[0].role == "system" and "Samantha" in prompt[0].content
    assert prompt[-1].content == "I'm so anxious about it."
    assert prompt[-2].role == "system" and "anxious" in prompt[-2].content
    assert "talking with theo" in prompt[-2].content
    assert any(m.content == "My sister Ada visits Friday." for m in prompt)
    # the stable prefix: the first turn's prompt minus its per-turn tail starts the second's
    first = fake.prompts[0]
    assert prompt[: len(first) - 2] == first[:-2]


async def test_the_prompt_shown_ahead_is_the_one_her_reply_is_given(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    """``Companion.prompt`` (what ``bench model`` sends the engine alone) is built as the
    reply builds it, recall and notes included, and asks the model nothing."""
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conv.id, "My sister Ada bakes bread on Sundays.")
    await (await sam.companion.reply(person, conv.id)).read_all()
    later = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, later.id, "What does Ada bake on Sundays?")
    await sam.memory.drain()
    asked = len(fake.prompts)
    ahead = await sam.companion.prompt(person, later.id)
    assert len(fake.prompts) == asked
    await (await sam.companion.reply(person, later.id)).read_all()
    assert ahead == fake.prompts[-1]
    assert any("bread" in m.content for m in ahead[:-1])  # recalled from the first talk


async def test_a_reply_begun_before_their_words_are_kept_is_the_reply_they_get(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    """In a voice turn her reply is begun in the pause before the end, before the person's
    words are kept: its prompt, recall included, must be the one a reply asked for after
    would get, and it is stored after their words once they are kept."""
    person = await sam.person_named("theo", create=True)
    assert person
    earlier = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, earlier.id, "My sister Ada plays the cello in Lisbon.")
    await (await sam.companion.reply(person, earlier.id)).read_all()
    await sam.companion.drain()  # learned: recall will find it
    conv = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conv.id, "Hello again.")
    await (await sam.companion.reply(person, conv.id)).read_all()
    await sam.companion.drain()
    said = "I keep thinking about Ada and her cello."
    fake.replies = ["She sounds wonderful.", "She sounds wonderful."]

    await sam.companion.read_ahead(person, conv.id)  # at rest, before they speak
    opening = await sam.companion.open(person, conv.id, said)  # in the pause after it
    stored = await sam.store.messages(person.id, conv.id)
    assert [m.role for m in stored] == ["user", "assistant"]  # nothing of it is stored yet
    message = await sam.companion.say(person, conv.id, said, learn=False)
    reply = await sam.companion.keep(opening, message)
    assert await reply.read_all() == "She sounds wonderful."
    begun = fake.prompts[-1]
    assert "cello" in begun[-2].content  # recalled from the other conversation
    at_rest = fake.read[-1]
    assert at_rest[:-1] == begun[: len(at_rest) - 1]  # the conversation so far, as it is
    assert begun[len(at_rest) - 1].content.startswith(at_rest[-1].content)  # and the moment

    stored = await sam.store.messages(person.id, conv.id)
    assert [(m.role, m.content) for m in stored[-2:]] == [
        ("user", said),
        ("assistant", "She sounds wonderful."),
    ]
    # the same words asked for once kept get the very same prompt
    await sam.store.add_message(person.id, conv.id, "user", said)
    await (await sam.companion.reply(person, conv.id)).read_all()
    asked = fake.prompts[-1]
    assert asked[-1] == begun[-1] and asked[-2] == begun[-2]


async def test_a_reply_begun_and_dropped_leaves_nothing_and_frees_its_slot(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    fake.replies = ["To half of what you said, a long reply that goes on."]
    opening = await sam.companion.open(person, conv.id, "I went for a run")
    assert sam.companion.replying == 1
    await opening.drop()
    assert await sam.store.messages(person.id, conv.id) == []
    assert (sam.companion.admission.running, sam.companion.replying) == (0, 0)
    with pytest.raises(InputError):  # without their words there is nothing to begin
        await sam.companion.open(person, conv.id)


async def test_outage_keeps_the_message_and_retry_answers_it(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    fake.down = True
    await sam.companion.say(person, conv.id, "Are you there?")
    with pytest.raises(ModelUnavailable):
        await sam.companion.reply(person, conv.id)
    assert [m.role for m in await sam.store.messages(person.id, conv.id)] == ["user"]
    fake.down = False
    fake.replies = ["I'm here now."]
    assert await (await sam.companion.reply(person, conv.id)).read_all() == "I'm here now."
    with pytest.raises(InputError):  # nothing left to answer
        await sam.companion.reply(person, conv.id)


async def test_failure_mid_reply_is_marked_interrupted_and_retryable(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    fake.fail_after = 3
    fake.replies = ["one two three four five"]
    await sam.companion.say(person, conv.id, "Tell me a story")
    reply = await sam.companion.reply(person, conv.id)
    with pytest.raises(ModelError):
        await reply.read_all()
    stored = await sam.store.messages(person.id, conv.id)
    assert (stored[-1].content, stored[-1].status) == ("one two three", "interrupted")
    fake.fail_after = None
    fake.replies = ["Once upon a time."]
    assert await (await sam.companion.reply(person, conv.id)).read_all() == "Once upon a time."


async def test_a_retry_answers_after_several_interrupted_replies(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conv.id, "Tell me a story")
    fake.fail_after = 1
    for _ in range(2):
        with pytest.raises(ModelError):
            await (await sam.companion.reply(person, conv.id)).read_all()
    fake.fail_after = None
    fake.replies = ["Once upon a time."]
    assert await (await sam.companion.reply(person, conv.id)).read_all() == "Once upon a time."
    assert fake.prompts[-1][-1].content == "Tell me a story"


async def test_reader_leaving_early_marks_the_reply_interrupted(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    fake.replies = ["a b c d e f g"]
    await sam.companion.say(person, conv.id, "hi")
    reply = await sam.companion.reply(person, conv.id)
    pieces = aiter(reply)
    await anext(pieces)
    await pieces.aclose()  # type: ignore[attr-defined]
    last = (await sam.store.messages(person.id, conv.id))[-1]
    assert (last.content, last.status) == ("a", "interrupted")


@pytest.mark.parametrize(
    "text,code",
    [
        ("", "empty_message"),
        ("   \n", "empty_message"),
        ("x" * 4001, "message_too_long"),
        ("nul\x00byte", "invalid_message"),
    ],
)
async def test_bad_messages_write_nothing(sam: Samantha, text: str, code: str) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    with pytest.raises(InputError) as caught:
        await sam.companion.say(person, conv.id, text)
    assert caught.value.code == code
    assert await sam.store.messages(person.id, conv.id) == []


async def test_rolling_summary_when_the_window_overflows(sam: Samantha, fake: ScriptedLLM) -> None:
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    long = "I keep thinking about the lighthouse trip with my brother Sam. " * 12
    for i in range(12):
        fake.replies = [f"reply {i}"]
        await sam.companion.say(person, conv.id, f"{i}: {long}")
        await (await sam.companion.reply(person, conv.id)).read_all()
        await sam.companion.drain()
    conversation = await sam.store.conversation(person.id, conv.id)
    assert conversation.summary_upto > 0
    assert conversation.summary == fake.default  # the fake's answer to the summary request
    summary_requests = [p for p in fake.prompts if "running summaries" in p[0].content]
    assert summary_requests and "brother Sam" in summary_requests[0][1].content
    last_turn = [p for p in fake.prompts if "running summaries" not in p[0].content][-1]
    assert "Earlier in this conversation: " + fake.default in last_turn[0].content
    budget = sam.settings.history_tokens + 400  # window plus persona and examples
    assert sum(len(m.content) // 4 for m in last_turn) < budget * 2


async def test_a_short_conversation_is_not_read_again_for_a_summary(
    sam: Samantha, fake: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn counted the window as it read it: one that fits is not read again after
    each reply to find it fits."""
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    read: list[int] = []
    whole = summary.history

    async def counted(store: Store, who: Person, conversation: Conversation) -> list[Message]:
        read.append(conversation.id)
        return await whole(store, who, conversation)

    monkeypatch.setattr(summary, "history", counted)
    for line in ("Hello!", "How are you today?"):
        await sam.companion.say(person, conv.id, line)
        await (await sam.companion.reply(person, conv.id)).read_all()
        await sam.companion.drain()
    assert read == []
    assert (await sam.store.conversation(person.id, conv.id)).summary_upto == 0


async def test_a_turn_is_learned_in_one_pass_once_her_reply_has_ended(
    sam: Samantha, fake: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person's words wait for her reply, and both are learned together: one read of
    what is new, one embedding, one write, not one of each per turn."""
    person = await sam.person_named("theo", create=True)
    assert person
    conv = await sam.store.create_conversation(person.id)
    passes: list[int] = []
    learn = sam.memory.learn

    async def counted(person_id: int, name: str, **kwargs: str) -> int:
        passes.append(await learn(person_id, name, **kwargs))
        return passes[-1]

    monkeypatch.setattr(sam.memory, "learn", counted)
    fake.replies = ["Tell me about her bread."]
    await sam.companion.say(person, conv.id, "My sister Ada bakes bread on Sundays.")
    await asyncio.sleep(0.05)
    assert passes == [] and len(await sam.store.unlearned(person.id)) == 1
    await (await sam.companion.reply(person, conv.id)).read_all()
    await sam.companion.drain()
    assert passes == [2] and await sam.store.unlearned(person.id) == []
    assert any("Ada" in m.text for m in await sam.store.memories(person.id))


async def test_words_no_reply_follows_are_learned_all_the_same(
    sam: Samantha, fake: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(turn, "LEARN_LATER_S", 0.3)
    theo = await sam.person_named("theo", create=True)
    amy = await sam.person_named("amy", create=True)
    assert theo and amy
    for person in (theo, amy):
        conv = await sam.store.create_conversation(person.id)
        await sam.companion.say(person, conv.id, "My sister Ada bakes bread on Sundays.")
    await sam.delete_person(amy.id)  # her words are not waiting any more
    assert list(sam.companion._unlearned) == [theo.id]
    await asyncio.sleep(0.6)  # no reply was asked for (refused, or the model was down)
    await sam.memory.drain()
    assert await sam.store.unlearned(theo.id) == [] and not sam.companion._unlearned
    assert [m.text for m in await sam.store.memories(theo.id)] != []


async def test_draining_learns_the_words_still_waiting_for_a_reply(sam: Samantha) -> None:
    """A server stopping (or a test) drains: words no reply followed are learned then, not
    left to a timer that will never fire."""
    theo = await sam.person_named("theo", create=True)
    assert theo
    conv = await sam.store.create_conversation(theo.id)
    await sam.companion.say(theo, conv.id, "My sister Ada bakes bread on Sundays.")
    assert list(sam.companion._unlearned) == [theo.id]
    await sam.companion.drain()
    assert not sam.companion._unlearned and await sam.store.unlearned(theo.id) == []
