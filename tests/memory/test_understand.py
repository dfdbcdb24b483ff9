"""The model's reading of a person's words: constrained, validated, never trusted blindly."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from samantha.llm import ChatMessage
from samantha.llm.embedded import EmbeddedLLM
from samantha.memory.understand import INSTRUCTIONS, SCHEMA, parse, understand, validate
from samantha.store import Message
from tests.fakes import ScriptedLLM


def said(i: int, text: str) -> Message:
    return Message(i, 1, 1, "user", text, "complete", datetime(2026, 3, 2, 10).timestamp())


MESSAGES = [said(11, "We finally signed the lease on the flat in Leeds!"), said(12, "ok")]


@pytest.mark.parametrize(
    "raw,count",
    [
        ('{"memories": [{"message": 1, "kind": "fact", "text": "Theo lives in Leeds"}]}', 1),
        ('Sure! {"memories": [{"message": 1, "kind": "fact", "text": "Theo lives in Leeds"}', 1),
        ('{"memories": [{"message": 1, "kind": "fact", "text": "Theo lives in Leeds"},]}', 1),
        ("no json at all", 0),
        ('{"memories": "lots"}', 0),
        ("[1, 2, 3]", 0),
        ("{" * 1000, 0),
        ('{"memories": [{"message": 1, "kind": "fact", "text": "A"}, {"message": 1, "kin', 1),
    ],
)
def test_parse_repairs_or_drops(raw: str, count: int) -> None:
    assert len(parse(raw)) == count


def test_validate_keeps_only_well_formed_items_with_real_sources() -> None:
    items = [
        {
            "message": 1,
            "kind": "fact",
            "text": "Theo lives in Leeds",
            "subject": "Home",
            "importance": 3,
        },
        {"message": 1, "kind": "event", "text": "Theo signed a lease", "when": "2026-03-02"},
        {"message": 1, "kind": "event", "text": "Theo moved on a bad date", "when": "2026-13-45"},
        {"message": 1, "kind": "fact", "text": "The person is Theo."},
        {"message": 9, "kind": "fact", "text": "points at nothing"},
        {"message": 1, "kind": "secret", "text": "bad kind"},
    ]
    kept = validate(items, MESSAGES)
    assert [m.text for m in kept] == [
        "Theo lives in Leeds",
        "Theo signed a lease",
        "Theo moved on a bad date",
    ]
    assert len(validate(items * 3, MESSAGES)) == 3  # at most MAX_ITEMS are read
    assert (
        validate([{"message": 1, "kind": "fact", "text": "Do I live in Leeds now?"}], MESSAGES)
        == []
    )
    assert kept[0].subject == "model:home" and kept[0].importance == 1.0
    assert kept[0].source_ids == (11,) and kept[0].origin == "model"
    assert kept[1].happened_on == "2026-03-02" and kept[2].happened_on is None


async def test_questions_are_never_read_as_facts() -> None:
    fake = ScriptedLLM()
    fake.default = '{"memories": [{"message": 1, "kind": "event", "text": "Theo went to Lisbon"}]}'
    probe = [said(5, "Do you remember when I told you about my trip to Lisbon?")]
    assert await understand(fake, "Theo", probe) == []
    assert fake.prompts == []  # the model was not even asked


async def test_understand_sends_the_schema_and_survives_failure() -> None:
    fake = ScriptedLLM()
    fake.replies = [
        json.dumps(
            {
                "memories": [
                    {
                        "message": 1,
                        "kind": "fact",
                        "text": "Theo now lives in Leeds",
                        "subject": "home",
                    }
                ]
            }
        )
    ]
    found = await understand(fake, "Theo", MESSAGES)
    assert [m.text for m in found] == ["Theo now lives in Leeds"]
    assert fake.schemas[-1] == SCHEMA
    fake.down = True
    assert await understand(fake, "Theo", MESSAGES) == []


async def test_the_real_small_model_answers_within_the_schema(small_model: EmbeddedLLM) -> None:
    prompt = [
        ChatMessage("system", INSTRUCTIONS),
        ChatMessage(
            "user", "The person is Theo. Their messages:\n1. We signed the lease in Leeds!"
        ),
    ]
    text = await small_model.complete(prompt, max_tokens=400, temperature=0.0, json_schema=SCHEMA)
    assert text.lstrip().startswith("{") and '"memories"' in text[:40]  # held to the schema
    assert isinstance(parse(text), list)  # ...and a reply cut off by max_tokens is repaired
    items = await understand(small_model, "Theo", MESSAGES)
    assert all(m.source_ids[0] in (11, 12) for m in items)  # and what it says is validated


async def test_reflections_come_from_the_persons_own_memories(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from samantha.memory import REFLECT_AFTER, Memory
    from samantha.store import SQLiteStore

    store = SQLiteStore(tmp_path / "r.db")
    await store.open()
    fake = ScriptedLLM()
    fake.default = '{"memories": []}'
    memory = Memory(store, None, llm=fake)
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    for person, secret in ((amy, "Amy's code is heron-55"), (theo, "")):
        conversation = await store.create_conversation(person.id)
        names = ["Ana", "Bo", "Cy", "Di", "Ed", "Flo", "Gil", "Hal", "Ivy", "Jo"]
        lines = [f"My friend {n} taught me {n.lower()}ball." for n in names[:REFLECT_AFTER]]
        for line in [secret, *lines] if secret else lines:
            await store.add_message(person.id, conversation.id, "user", line)
    await memory.learn(amy.id, "Amy")
    assert await memory.learn(theo.id, "Theo") == REFLECT_AFTER
    fake.replies = ["Theo's friendships matter deeply to him; chess is how he connects."]
    reflection_id = await memory.reflect(theo.id, "Theo")
    assert reflection_id is not None
    record = await store.memory(theo.id, reflection_id)
    assert record.kind == "reflection" and record.source_ids
    notes = fake.prompts[-1][1].content
    assert "Ana" in notes and "heron" not in notes
    assert await memory.reflect(theo.id, "Theo") is None  # nothing new since
    await memory.close()
    await store.close()


async def test_each_speaker_is_read_under_their_own_name_a_few_turns_at_a_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Both speakers are people in the LoCoMo benchmark: Leo's words are not Mia's. And a
    reading keeps at most four memories, so a long backlog is read a few turns at a time."""
    from samantha.memory import Memory
    from samantha.memory.understand import UNDERSTOOD_AT_ONCE
    from samantha.store import SQLiteStore

    store = SQLiteStore(tmp_path / "u.db")
    await store.open()
    fake = ScriptedLLM()
    fake.default = '{"memories": []}'
    memory = Memory(store, None, extract_from=("user", "assistant"), llm=fake)
    try:
        mia = await store.create_person("Mia", "h-roles")
        conversation = await store.create_conversation(mia.id)
        for i in range(UNDERSTOOD_AT_ONCE + 2):
            await store.add_message(mia.id, conversation.id, "user", f"I planted tree {i}.")
        await store.add_message(mia.id, conversation.id, "assistant", "My pottery bowl won.")
        await memory.learn(mia.id, "Mia", other_name="Leo")
        asked = [prompt[-1].content for prompt in fake.prompts]
        assert [text.splitlines()[0] for text in asked] == [
            "The person is Mia. Their messages:",
            "The person is Mia. Their messages:",
            "The person is Leo. Their messages:",
        ]
        assert [len(text.splitlines()) - 1 for text in asked] == [UNDERSTOOD_AT_ONCE, 2, 1]
        assert "pottery" not in asked[0] + asked[1] and "tree" not in asked[2]
    finally:
        await memory.close()
        await store.close()
