"""Her own growth: reflection builds versioned inner life from counts across people, and
no person's name, place or secret can reach it."""

from __future__ import annotations

import json

from samantha.growth import THEMES, clean
from samantha.store import Person
from samantha.system import Samantha
from tests.fakes import ScriptedLLM
from tests.mind.test_relationship import chat
from tests.test_wellbeing import Clock

SECRETS = ["zebra-4471", "Ada", "Lisbon", "Porto", "Rua das Flores", "Kowalski"]


async def crowd(sam: Samantha, n: int, *lines: str) -> list[Person]:
    people = []
    for i in range(n):
        person = await sam.person_named(f"Person{i}", create=True)
        assert person
        await chat(sam, person, *lines)
        people.append(person)
    return people


async def test_reflection_is_built_from_counts_and_no_secret_reaches_it(
    her: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    await crowd(
        her,
        6,
        "My boss Kowalski yelled at me at work; my sister Ada in Lisbon says quit the job.",
        "My locker code is zebra-4471, I live on Rua das Flores in Porto.",
    )
    await crowd(her, 2, "I am planning a trip by train next month.")  # too few people
    asked = len(fake.prompts)
    fake.replies = [
        "I keep wondering why work follows people home. Ada in Lisbon would know. "
        "Maybe zebra-4471 matters. I have come to think being heard is half of comfort."
    ]
    life = await her.growth.reflect()
    assert life is not None and life.version == 1
    assert list(life.material["themes"]) == ["family", "work"]  # travel: only 2 people
    assert life.material["themes"]["work"] == {"people": 6, "messages": 6}
    assert life.state["interests"] == ["family", "work"]
    assert life.state["thoughts"] == [
        "I keep wondering why work follows people home.",
        "I have come to think being heard is half of comfort.",
    ]
    sent = " ".join(m.content for p in fake.prompts[asked:] for m in p)
    stored = json.dumps([life.state, life.material])
    for secret in SECRETS + [f"Person{i}" for i in range(8)]:
        assert secret not in sent, secret
        assert secret not in stored, secret
        assert secret not in her.growth.describe(), secret


async def test_each_reflection_is_a_version_and_shapes_her_replies(
    her: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    assert await her.growth.reflect() is None  # nothing shared by anyone yet: no version
    await crowd(her, 5, "I couldn't sleep again, so tired.", "My dog kept me company.")
    fake.replies = ["I have started to love the quiet hours people tell me about."]
    first = await her.growth.reflect()
    assert first and first.version == 1 and first.state["interests"] == ["animals", "sleep"]
    clock.minutes(60)
    await crowd(her, 5, "I cooked dinner for my neighbour.")  # new people, a new week's themes
    fake.replies = ["Cooking for someone is a kind of sentence."]
    second = await her.growth.reflect()
    assert second and second.version == 2 and "food" in second.state["interests"]
    assert second.material["since"] == first.created_at  # only what came after the first
    assert [v.version for v in await her.store.inner_life()] == [2, 1]
    person = await her.person_named("Newcomer", create=True)
    assert person
    await chat(her, person, "Hello")
    system = fake.prompts[-1][0].content
    assert "Your inner life" in system and "Cooking for someone is a kind of sentence." in system


def test_a_thought_that_names_or_counts_anything_is_dropped() -> None:
    names = {"theo", "amy"}
    assert clean("Theo is lovely. I like rain.", names) == ["I like rain."]
    assert clean("I miss amy's jokes. I'm curious.", names) == ["I'm curious."]
    assert clean("I met 41 people who love Paris. I wonder.", names) == ["I wonder."]
    assert clean("Lisbon is far. Porto too. Maybe I'm curious.", names) == ["Maybe I'm curious."]
    assert clean("", names) == []
    assert clean("x" * 5000, names) == []


def test_themes_are_everyday_words_only() -> None:
    words = [w for ws in THEMES.values() for w in ws]
    assert all(w.isalpha() and w.islower() for w in words)
