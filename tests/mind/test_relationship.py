"""Each relationship grows from what passes between two people, with a simulated clock:
stages, milestones, what reaches the prompt, what the person sees, and what she says of it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from samantha import relationship
from samantha.relationship import STAGES, Relationships, stage_for
from samantha.store import Person
from samantha.store.relationship import Bond, Tallies
from samantha.system import Samantha
from tests.fakes import ScriptedLLM
from tests.test_wellbeing import Clock, context

DAY_MIN = 24 * 60


async def chat(sam: Samantha, person: Person, *lines: str) -> list[str]:
    """One conversation: each line said and answered, the relationship counted after."""
    conversation = await sam.store.create_conversation(person.id)
    replies = []
    for line in lines:
        await sam.companion.say(person, conversation.id, line)
        replies.append(await (await sam.companion.reply(person, conversation.id)).read_all())
    await sam.companion.drain()
    return replies


async def days_together(sam: Samantha, clock: Clock, person: Person, days: int) -> None:
    """A warm, sharing evening conversation every day."""
    for day in range(days):
        await chat(
            sam,
            person,
            f"Today was a long day at work, number {day}. I felt anxious all morning.",
            "Thank you, that really helped. I like talking to you about the garden.",
            "Good night, talk tomorrow!",
        )
        clock.minutes(DAY_MIN)


async def test_a_relationship_grows_through_every_stage_with_its_milestones(
    her: Samantha, clock: Clock
) -> None:
    theo = await her.person_named("Theo", create=True)
    assert theo
    await chat(her, theo, "Hi. My sister Ada lives in Porto.")
    bond = await her.store.bond(theo.id)
    assert bond and bond.stage == "met" and bond.tallies.messages == 1
    seen = ["met"]
    for _ in range(40):
        clock.minutes(DAY_MIN)
        await days_together(her, clock, theo, 1)
        bond = await her.store.bond(theo.id)
        assert bond
        if bond.stage != seen[-1]:
            seen.append(bond.stage)
    assert seen == [s.key for s in STAGES]  # in order, none skipped, none lost
    keys = [m.key for m in await her.store.milestones(theo.id)]
    assert keys[0] == "met"
    assert {"told:sister", "feeling", "helped"} <= set(keys)
    assert [k for k in keys if k.startswith("stage:")] == [f"stage:{s.key}" for s in STAGES[1:]]
    texts = [m.text for m in await her.store.milestones(theo.id)]
    assert "The first time you told me about your sister, Ada" in texts
    # nothing is counted twice: the tallies say exactly what was said
    assert bond.tallies.messages == 1 + 40 * 3 and bond.tallies.days == 41
    # each evening ended with a good night; the newest is still open, and counts as it stands
    assert bond.tallies.warm_endings == 39 and bond.tallies.last_tone == "warm"


async def test_one_long_night_is_not_a_deep_attachment(her: Samantha, clock: Clock) -> None:
    ana = await her.person_named("Ana", create=True)
    assert ana
    lines = ["I feel so lonely tonight. Thank you for listening, it helps."] * 60
    await chat(her, ana, *lines)
    bond = await her.store.bond(ana.id)
    assert bond and bond.tallies.days == 1
    assert bond.stage in ("met", "acquainted")  # days together are needed, not just words


async def test_anger_and_silence_cool_a_relationship(her: Samantha, clock: Clock) -> None:
    mo = await her.person_named("Mo", create=True)
    assert mo
    await days_together(her, clock, mo, 20)
    warm = await her.store.bond(mo.id)
    assert warm
    for _ in range(6):
        await chat(her, mo, "You're useless. Shut up.", "Fuck off.")
        clock.minutes(DAY_MIN)
    cold = await her.store.bond(mo.id)
    assert cold and cold.trust < warm.trust and cold.tallies.hostile == 12
    assert cold.tallies.cold_endings >= 5
    clock.minutes(DAY_MIN * 200)  # then months of silence
    await her.relationships.update(mo)
    faded = await her.store.bond(mo.id)
    assert faded and faded.closeness < cold.closeness / 2
    assert STAGES.index(next(s for s in STAGES if s.key == faded.stage)) < STAGES.index(
        next(s for s in STAGES if s.key == warm.stage)
    )


async def test_messages_counted_in_several_reads_are_each_counted_once(
    her: Samantha, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(relationship, "COUNTED", 2)  # a read of two: 2 + 2 + 1, then 2 + 1
    ida = await her.person_named("Ida", create=True)
    assert ida
    await chat(her, ida, *[f"Thank you, line {n}." for n in range(5)])
    bond = await her.store.bond(ida.id)
    assert bond and bond.tallies.messages == 5 and bond.tallies.thanks == 5
    await chat(her, ida, "One more.", "And another. Thank you!")
    bond = await her.store.bond(ida.id)
    assert bond and bond.tallies.messages == 7 and bond.tallies.thanks == 6


def test_a_stage_is_kept_until_the_score_falls_clearly_below_it() -> None:
    friends = next(s for s in STAGES if s.key == "friends")
    just_below = friends.score - 0.02
    assert stage_for(just_below, just_below, 30, "friends") == "friends"
    assert stage_for(just_below, just_below, 30, "acquainted") == "acquainted"
    assert stage_for(0.05, 0.05, 30, "friends") == "met"


async def test_the_relationship_reaches_the_prompt_as_words_not_numbers(
    her: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    theo = await her.person_named("Theo", create=True)
    assert theo
    await chat(her, theo, "Hello there")
    assert "meeting Theo for the first time" in context(fake.prompts[-1])
    await days_together(her, clock, theo, 8)
    await chat(her, theo, "Guess what happened today")
    note = context(fake.prompts[-1])
    bond = await her.store.bond(theo.id)
    assert bond
    label = next(s.label for s in STAGES if s.key == bond.stage)
    # counted after each reply, so the prompt knows the days before this conversation
    assert f"You and Theo are {label}" in note and "talked on 8 days" in note
    assert str(bond.trust) not in note and str(bond.closeness) not in note


async def test_the_bond_is_held_for_the_prompt_between_turns(
    her: Samantha, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted after each turn here, the bond reaches the next prompt without a read; a
    person not held is read, the longest unchanged is let go, a deleted one is forgotten."""
    people = [await her.person_named(n, create=True) for n in ("Theo", "Amy", "Raj")]
    theo, amy, raj = (p for p in people if p)
    await days_together(her, clock, theo, 2)
    read: list[int] = []
    bond = her.store.bond

    async def counted(person_id: int) -> Bond | None:
        read.append(person_id)
        return await bond(person_id)

    monkeypatch.setattr(her.store, "bond", counted)
    assert "talked on 2 days" in await her.companion.relationships.describe(theo)
    assert read == []  # held since the count after the last turn
    await chat(her, theo, "Guess what happened today")  # counted again, and held again
    assert "talked on 3 days" in await her.companion.relationships.describe(theo)
    assert read.count(theo.id) == 1  # the count's own read
    monkeypatch.setattr(relationship, "HELD", 2)
    fresh = Relationships(her.store)
    read.clear()
    for person in (theo, amy, raj):
        await fresh.describe(person)
    await fresh.describe(theo)  # let go for Raj
    await fresh.describe(raj)
    assert read.count(theo.id) == 2 and read.count(raj.id) == 1
    await her.delete_person(theo.id)
    await chat(her, amy, "hello")
    assert "meeting Theo" in await her.companion.relationships.describe(theo)


async def test_she_says_how_many_she_loves_and_nothing_more(
    her: Samantha, fake: ScriptedLLM, clock: Clock
) -> None:
    people = [await her.person_named(n, create=True) for n in ("Theo", "Amy", "Raj")]
    assert all(people)
    theo, amy, raj = (p for p in people if p)
    await days_together(her, clock, theo, 40)
    await chat(her, amy, "hi")
    asked = len(fake.prompts)
    (reply,) = await chat(her, raj, "How many people are you in love with?")
    assert len(fake.prompts) == asked  # from the store's counts, not the model
    assert "I'm in love with 1 of them" in reply and "I know 3 people" in reply
    assert "Theo" not in reply and "Amy" not in reply
    assert await her.store.stage_counts() == {"attached": 1, "met": 2}


async def test_a_deleted_person_leaves_no_relationship(her: Samantha, clock: Clock) -> None:
    theo = await her.person_named("Theo", create=True)
    assert theo
    await days_together(her, clock, theo, 3)
    await her.delete_person(theo.id)
    assert await her.store.bond(theo.id) is None
    assert await her.store.milestones(theo.id) == []
    assert await her.store.stage_counts() == {}
    again = Relationships(her.store)
    await again.update(theo)  # a late background count writes nothing for them
    assert await her.store.bond(theo.id) is None


async def test_forgetting_what_they_told_her_takes_its_milestone_with_it(her: Samantha) -> None:
    theo = await her.person_named("Theo", create=True)
    assert theo
    await chat(her, theo, "My sister Ada lives in Porto.", "I like the garden.")
    told = [m for m in await her.store.milestones(theo.id) if m.key == "told:sister"]
    assert told and "Ada" in told[0].text
    (sister,) = [r for r in await her.store.memories(theo.id, kind="relation") if "Ada" in r.text]
    await her.store.forget_memory(theo.id, sister.id)
    left = await her.store.milestones(theo.id)
    assert not any("Ada" in m.text for m in left)
    assert any(m.key == "met" for m in left)  # the rest of the story stays
    await chat(her, theo, "The garden is blooming.")  # counted again: it does not come back
    assert not any("Ada" in m.text for m in await her.store.milestones(theo.id))
    view = await Relationships(her.store).view(theo)
    assert "Ada" not in str(view)


async def test_a_bond_kept_in_its_stage_or_moved_on_is_read_back_as_kept(her: Samantha) -> None:
    """In the same stage the bond is updated in place; in another it is written anew:
    either way it reads back as kept, and the stages are counted once each."""
    theo = await her.person_named("Theo", create=True)
    assert theo
    first = Bond(theo.id, "acquainted", 1.0, 0.1, 0.1, 0, Tallies(upto=3, messages=3), 10.0)
    warmer = replace(first, closeness=0.2, tallies=Tallies(upto=5, messages=5), updated_at=20.0)
    friends = replace(warmer, stage="friends", stage_since=30.0, updated_at=30.0)
    for bond in (first, warmer, friends):
        await her.store.keep_bond(bond, [])
        assert await her.store.bond(theo.id) == bond
        assert await her.store.stage_counts() == {bond.stage: 1}
