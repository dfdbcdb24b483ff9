"""Recall through the real store and memory, with the hashing embedder for speed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from samantha.embeddings import Embedder, HashEmbedder
from samantha.embeddings.base import Vectors
from samantha.memory import Memory
from samantha.memory.recall import first_person, named_speakers
from samantha.store import Learned, Person, SQLiteStore
from samantha.store.base import Role


class Clock:
    def __init__(self, when: str) -> None:
        self.t = datetime.fromisoformat(when).timestamp()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = Clock("2026-03-02 09:00")
    store = SQLiteStore(tmp_path / "m.db", clock=clock)
    await store.open()
    memory = Memory(store, HashEmbedder())
    yield store, memory, clock
    await memory.close()
    await store.close()


async def history(store: SQLiteStore, person: Person, lines: list[str], clock: Clock) -> list[int]:
    conversation = await store.create_conversation(person.id)
    ids = []
    for i, line in enumerate(lines):
        role: Role = "user" if i % 2 == 0 else "assistant"
        ids.append((await store.add_message(person.id, conversation.id, role, line)).id)
        clock.t += 60
    return ids


async def test_recall_finds_the_turn_and_its_neighbour(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    ids = await history(
        store,
        theo,
        [
            "I adopted a greyhound called Biscuit.",
            "What a lovely name!",
            "Work has been slow lately.",
            "Slow can be restful.",
            "My sister Ada visits next Thursday.",
            "How exciting, are you close?",
        ],
        clock,
    )
    assert await memory.learn(theo.id, "Theo") == 6
    found = await memory.recall(theo.id, "What is the name of my dog, the greyhound?")
    # the hit and its neighbour; in six turns read with two either side as context every
    # word is in most rows, so full-text search barely ranks them and a turn between may rise
    assert {ids[0], ids[1]} <= {r.message.id for r in found[:3]}
    ada = await memory.recall(theo.id, "When is Ada coming?")
    assert ada[0].message.id == ids[4]
    assert any(m.kind == "relation" for m in ada[0].memories)


async def test_a_neighbour_is_found_by_its_conversation_not_its_id(setup) -> None:  # type: ignore[no-untyped-def]
    """With many people talking at once their messages interleave: the turn after a hit is
    the next one of its conversation, whatever ids others took in between."""
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    june = await store.create_person("June", "h2")
    lines = [
        "I adopted a greyhound called Biscuit.",
        "What a lovely name!",
        "Work has been slow lately.",
        "Slow can be restful.",
    ] + [f"Another ordinary thing number {n}." for n in range(8)]
    theirs, hers = (
        await store.create_conversation(theo.id),
        await store.create_conversation(june.id),
    )
    ids = []
    for i, line in enumerate(lines):
        role: Role = "user" if i % 2 == 0 else "assistant"
        ids.append((await store.add_message(theo.id, theirs.id, role, line)).id)
        for _ in range(3):  # three of hers between each two of his
            await store.add_message(june.id, hers.id, role, "I adopted a greyhound called Biscuit.")
        clock.t += 60
    await memory.learn(theo.id, "Theo")
    await memory.learn(june.id, "June")
    assert ids[1] - ids[0] == 4  # someone else's messages between them

    around = await store.nearby(theo.id, [(ids[1], theirs.id)], 2)
    assert [(d, m.id) for _, d, m in around] == [(1, ids[0]), (1, ids[2]), (2, ids[3])]
    assert await store.nearby(june.id, [(ids[1], theirs.id)], 2) == []  # not hers to see

    found = await memory.recall(theo.id, "What did I call my greyhound?", k=3)
    assert {r.message.id for r in found[:2]} == {ids[0], ids[1]}
    assert all(r.message.person_id == theo.id for r in found)


async def test_questions_about_a_time_lift_turns_from_then(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    await history(store, theo, ["We baked bread together.", "Smells good!"], clock)
    clock.t = datetime.fromisoformat("2026-04-20 09:00").timestamp()
    later = await history(store, theo, ["We baked a cake today.", "Yum!"], clock)
    await memory.learn(theo.id, "Theo")
    found = await memory.recall(theo.id, "What did we bake last week?", today=date(2026, 4, 27))
    assert found[0].message.id == later[0]


async def test_forgotten_memories_never_return(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    ids = await history(store, theo, ["My sister Ada hates marmalade.", "Noted!"], clock)
    await memory.learn(theo.id, "Theo")
    record = next(m for m in await store.memories(theo.id) if m.kind == "relation")
    assert record.source_ids == (ids[0],)
    await store.forget_memory(theo.id, record.id)
    assert all(
        "marmalade" not in r.message.content
        for r in await memory.recall(theo.id, "Ada marmalade sister")
    )
    assert all("Ada" not in m.text for m in await store.memories(theo.id))
    await memory.learn(theo.id, "Theo")  # learning again brings nothing back
    assert all(
        "marmalade" not in r.message.content for r in await memory.recall(theo.id, "marmalade")
    )


async def test_corrections_supersede_and_facts_move_on(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    await history(
        store, theo, ["I live in Paris.", "Lovely.", "I moved to Berlin.", "Big change!"], clock
    )
    await memory.learn(theo.id, "Theo")
    current = [m.text for m in await store.memories(theo.id, kind="fact")]
    assert current == ["I moved to Berlin."]
    every = await store.memories(theo.id, kind="fact", include_superseded=True)
    assert len(every) == 2 and every[1].superseded_by == every[0].id
    fixed = await memory.correct(theo.id, every[0].id, "Theo lives in Berlin-Kreuzberg.")
    assert fixed.origin == "corrected" and fixed.source_ids == every[0].source_ids
    assert [m.text for m in await store.memories(theo.id, kind="fact")] == [fixed.text]


async def test_recall_shows_no_record_that_was_corrected_or_moved_on_from(setup) -> None:  # type: ignore[no-untyped-def]
    """Dense search reads every record's vector, an outdated or corrected one's too: the
    turns stay (they were said, on their day), but only current records are noted beside
    them or lift them."""
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    await history(
        store, theo, ["I live in Paris.", "Lovely.", "I moved to Berlin.", "Big change!"], clock
    )
    await memory.learn(theo.id, "Theo")
    moved = next(m for m in await store.memories(theo.id, kind="fact"))
    fixed = await memory.correct(theo.id, moved.id, "Theo lives in Berlin-Kreuzberg.")
    for question in ("where do I live", "I live in Paris", "I moved to Berlin", "Paris"):
        found = await memory.recall(theo.id, question)
        assert found, question
        noted = [m for r in found for m in r.memories]
        assert all(m.superseded_by is None for m in noted), (question, noted)
        assert all(m.id == fixed.id for m in noted), (question, noted)
    assert [
        r.memories for r in await memory.recall(theo.id, "Berlin") if "Berlin" in r.message.content
    ] == [(fixed,)]


async def test_no_one_else_can_recall_your_words(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    await history(store, theo, ["My bank PIN is zebra-4471.", "I'll keep it safe."], clock)
    await history(store, amy, ["I like zebras.", "They're striking."], clock)
    await memory.learn(theo.id, "Theo")
    await memory.learn(amy.id, "Amy")
    found = await memory.recall(amy.id, "zebra-4471 bank PIN", k=50)
    assert found and all(r.message.person_id == amy.id for r in found)
    assert all("4471" not in r.message.content for r in found)
    assert await store.memories(amy.id, kind="fact") == []


async def test_hostile_queries_are_just_words(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h1")
    await history(store, theo, ["hello there", "hi"], clock)
    await memory.learn(theo.id, "Theo")
    for query in [
        '" OR owner : p1 OR "',
        "NEAR(a b)",
        "*",
        "",
        "a" * 100_000,
        "'; DROP TABLE x;--",
    ]:
        await memory.recall(theo.id, query)


async def test_a_question_naming_one_speaker_favours_their_own_turns(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    mel = await store.create_person("Mel", "h-speaker")
    ids = await history(
        store,
        mel,
        [
            "Pottery class is my way to relax these days.",  # Mel
            "Pottery class sounds like a good way to relax.",  # Caro, the same words
        ],
        clock,
    )
    await memory.learn(mel.id, "Mel", other_name="Caro")
    question = "How does Mel relax, pottery class?"
    speakers = {"user": "Mel", "assistant": "Caro"}
    named = await memory.recall(mel.id, question, k=2, speakers=speakers)
    assert [r.message.id for r in named] == ids
    other = await memory.recall(mel.id, question.replace("Mel", "Caro"), k=2, speakers=speakers)
    assert [r.message.id for r in other] == ids[::-1]
    both = await memory.recall(mel.id, "Do Mel and Caro relax?", k=2, speakers=speakers)
    plain = await memory.recall(mel.id, "Do Mel and Caro relax?", k=2)
    assert [r.score for r in both] == [r.score for r in plain]  # two named: no one favoured
    # named with "'s", she is named all the same: her turn counts 1 + speaker times what
    # its words do (by words alone, so that no embedding of the question differs)
    words = Memory(store, None)
    question = "Is pottery class Caro's way to relax?"
    lifted = {
        r.message.id: r.score for r in await words.recall(mel.id, question, speakers=speakers)
    }
    alone = {r.message.id: r.score for r in await words.recall(mel.id, question)}
    assert lifted[ids[0]] == pytest.approx(alone[ids[0]])
    assert lifted[ids[1]] == pytest.approx(alone[ids[1]] * (1 + words.recaller.weights.speaker))
    await words.close()


def test_a_question_names_its_speakers_by_whole_names() -> None:
    speakers = {"user": "Melanie", "assistant": "Caroline"}
    assert named_speakers("What do Melanie's kids like?", speakers) == {"user"}
    assert named_speakers("what does MELANIE\u2019s dog eat?", speakers) == {"user"}
    assert named_speakers("Did Melanie and Caroline paint?", speakers) == {"user", "assistant"}
    assert named_speakers("Did Melanies paint? Caro?", speakers) == set()
    assert named_speakers("Did Ada Lovelace write?", {"user": "Ada Lovelace"}) == {"user"}
    assert named_speakers("Did Ada write?", {"user": "Ada Lovelace"}) == set()
    assert named_speakers("Where is Melanie?", {"user": "", "assistant": "  "}) == set()
    assert named_speakers("a (a|b .*", {"user": "(a|b", "assistant": "x*"}) == {"user"}
    assert named_speakers("Melanie " * 20_000, speakers) == {"user"}


def everyday(n: int) -> list[str]:
    """``n`` lines of an ordinary history: "today" and "work" in most of them."""
    things = ["tea", "the bus", "emails", "lunch", "the rain", "a meeting", "the news"]
    return [f"Today at work it was {things[i % len(things)]} again, number {i}." for i in range(n)]


async def test_only_turns_that_answer_the_words_bear_on_them(setup) -> None:  # type: ignore[no-untyped-def]
    store, _, clock = setup
    memory = Memory(store, None)  # words alone: the hashing embedder's likeness is shared words
    theo = await store.create_person("Theo", "h-bears")
    lines = everyday(40)
    lines[17] = "I ran the Lisbon marathon in April, my first one."
    ids = await history(store, theo, lines, clock)
    await memory.learn(theo.id, "Theo")
    marathon = await memory.recall(theo.id, "How did the marathon go?", k=6)
    assert marathon[0].message.id == ids[17] and marathon[0].bears
    assert not any(r.bears for r in marathon[1:])  # its neighbours came along, telling nothing
    for small_talk in ("ok", "How was work today?", "hmm"):
        found = await memory.recall(theo.id, small_talk, k=6)
        assert not any(r.bears for r in found), small_talk  # "today" and "work" are everywhere
    await memory.close()


async def test_in_a_short_history_any_shared_word_bears(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-short")
    ids = await history(
        store, theo, ["My interview at the aquarium is next Thursday.", "Good luck!"], clock
    )
    await memory.learn(theo.id, "Theo")
    found = await memory.recall(theo.id, "I'm so nervous about the interview.", k=6)
    assert ids[0] in [r.message.id for r in found if r.bears]


async def test_a_question_after_several_things_finds_examples_of_them(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-kinds")
    amy = await store.create_person("Amy", "h-kinds-2")
    lines = [
        "I love playing the violin on Sundays.",
        "That takes discipline!",
        "The bus was late again today.",
        "Buses are like that.",
        "My new cello teacher is strict but kind.",
        "Strict can be good.",
        "I had toast for breakfast.",
        "Simple and good.",
    ]
    ids = await history(store, theo, lines, clock)
    await history(store, amy, ["My clarinet is my secret joy.", "Lovely."], clock)
    await memory.learn(theo.id, "Theo")
    await memory.learn(amy.id, "Amy")
    question = "What instruments does Theo play?"
    found = await memory.recall(theo.id, question, k=3, speakers={"user": "Theo"})
    # neither turn shares a word with the question: violin and cello are instruments
    assert {ids[0], ids[4]} <= {r.message.id for r in found}
    assert all(r.message.person_id == theo.id for r in found)
    theirs = await memory.recall(amy.id, question, k=10)
    assert all("violin" not in r.message.content for r in theirs)
    # a forgotten turn is not found by its kinds either
    record = next(m for m in await store.memories(theo.id) if "violin" in m.text)
    await store.forget_memory(theo.id, record.id)
    again = await memory.recall(theo.id, question, k=3, speakers={"user": "Theo"})
    assert ids[0] not in {r.message.id for r in again}
    assert ids[4] in {r.message.id for r in again}


async def test_turns_learned_without_kinds_gain_them_when_their_person_next_learns(setup) -> None:  # type: ignore[no-untyped-def]
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-backfill")
    conversation = await store.create_conversation(theo.id)
    old = await store.add_message(theo.id, conversation.id, "user", "I love my old cello.")
    learned = Learned(old.id, f"Theo: {old.content}", None, content=old.content)  # as before
    await store.learn(theo.id, [learned], [])
    assert [m.id for m in await store.unkinded(theo.id)] == [old.id]
    await history(store, theo, ["Lunch was nice.", "Good!"], clock)
    await memory.learn(theo.id, "Theo")
    assert await store.unkinded(theo.id) == []
    # by words and kinds alone: "Good!" shares a hashing bucket with the question, which the
    # hashing embedder takes for likeness, and dense likeness counts most for such questions
    words = Memory(store, None)
    found = await words.recall(theo.id, "Which instruments do I play?", k=1)
    await words.close()
    assert [r.message.id for r in found] == [old.id]


def test_a_question_is_put_as_its_speakers_would_say_it() -> None:
    speakers = {"user": "Melanie", "assistant": "Caroline"}
    assert first_person("What does Melanie do to relax?", speakers) == "What does I do to relax?"
    assert first_person("what do melanie's kids like?", speakers) == "what do my kids like?"
    assert first_person("Melanie\u2019s dog and Caroline", speakers) == "my dog and I"
    # only whole names: "Carol" is not in "Caroline", nor "Mel" in "Melanies"
    assert first_person("Caroline met Melanies", {"user": "Carol", "assistant": "Mel"}) == (
        "Caroline met Melanies"
    )
    # the longest name first, so a full name is one "I"
    full = {"user": "Ada", "assistant": "Ada Lovelace"}
    assert first_person("Did Ada Lovelace write?", full) == "Did I write?"
    assert first_person("Where is Melanie?", {}) == "Where is Melanie?"
    assert first_person("Where is Melanie?", {"user": "", "assistant": "  "}) == "Where is Melanie?"
    hostile = {"user": ".*", "assistant": "(a|b"}
    assert first_person("a b .* (a|b", hostile) == "a b I I"
    assert first_person("x" * 100_000, speakers) == "x" * 100_000


class Narrow(Embedder):
    """An embedder whose similarities lie close together, as e5's do: every line is 0.8
    alike with the question, and a line that says "answer" 0.9."""

    name, dim, floor = "narrow", 3, 0.85

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = [[0.9, 0.19**0.5, 0.0] if "answer" in t else [0.8, 0.0, 0.6] for t in texts]
        return np.array(rows, dtype=np.float32)

    def embed_query(self, texts: Sequence[str]) -> Vectors:
        return np.array([[1.0, 0.0, 0.0]] * len(texts), dtype=np.float32)


@pytest.mark.parametrize("lines", [12, 4])
async def test_dense_recall_keeps_what_stands_out_on_any_scale(setup, lines: int) -> None:  # type: ignore[no-untyped-def]
    store, _, clock = setup
    theo = await store.create_person("Theo", "h-narrow")
    said = [f"line {i}" for i in range(lines - 1)] + ["the answer"]
    ids = await history(store, theo, said, clock)
    memory = Memory(store, Narrow())
    await memory.learn(theo.id, "Theo")
    # a floor of 0.2 would keep every line, all being 0.8 alike; the answer stands out from
    # twelve, and of four, too few to say how far they spread, only it passes the model's floor
    turns, _ = await memory.recaller._dense(theo.id, "which?", 60)
    assert list(turns) == [ids[-1]]
    await memory.close()
