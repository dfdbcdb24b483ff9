"""The letter studio with the scripted model through the real seam: drafts in the person's
voice from their notes and their own memories, revisions, limits, and who may see what."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from samantha.errors import Busy, InputError, ModelError, ModelUnavailable, NotFound
from samantha.letters.draft import split
from samantha.llm import LLM, ChatMessage
from samantha.llm.embedded import EmbeddedLLM
from samantha.store import Person
from samantha.system import Samantha, running
from tests.conftest import SMALL_MODEL, make_settings
from tests.fakes import ScriptedLLM

DRAFT = (
    "Sure! Here is your letter:\n\n**Dear Ada,**\n\nI still think about the old tram in Porto."
    "\n\nCome visit soon.\n\nWith love,\nTheo"
)


async def person(sam: Samantha, name: str, *said: str) -> Person:
    found = await sam.person_named(name, create=True)
    assert found is not None
    talk = await sam.store.create_conversation(found.id)
    for text in said:
        await sam.companion.say(found, talk.id, text)
        await (await sam.companion.reply(found, talk.id)).read_all()
    await sam.companion.drain()
    return found


async def test_a_letter_is_drafted_from_notes_and_their_own_memories(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await person(sam, "Theo", "My sister Ada lives in Porto near the old tram.")
    fake.replies = [DRAFT]
    letter = await sam.letters.write(theo, " Ada ", "Tell her I miss Porto and the tram.")
    assert letter.recipient == "Ada"
    assert letter.text == (
        "Dear Ada,\n\nI still think about the old tram in Porto.\n\nCome visit soon."
        "\n\nWith love,\nTheo"
    )
    system, user = fake.prompts[-1]
    assert "as Theo, in the first person" in system.content
    assert "Tell her I miss Porto and the tram." in user.content
    assert "Ada is their sister" in user.content  # who she is to him
    assert "My sister Ada lives in Porto near the old tram." in user.content  # his own words
    assert await sam.store.letters(theo.id) == [letter]


async def test_a_redraft_keeps_salutation_closing_and_the_persons_edits(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await person(sam, "Theo")
    fake.replies = ["I miss you.", "Dearest Ada,\n\nI miss you terribly, and Porto too.\n\nTheo"]
    letter = await sam.letters.write(theo, "Ada", "I miss her")
    edited = await sam.letters.edit(
        theo, letter.id, "Dearest Ada,\n\nI miss you.\n\nAll my love,\nTheo"
    )
    assert edited.text.startswith("Dearest Ada,") and edited.updated_at > letter.updated_at
    again = await sam.letters.redraft(theo, letter.id, "say I miss Porto too")
    assert again.text == "Dearest Ada,\n\nI miss you terribly, and Porto too.\n\nAll my love,\nTheo"
    assert again.notes == "I miss her\n\nsay I miss Porto too"
    assert "The letter as it stands:\nI miss you." in fake.prompts[-1][1].content
    assert "say I miss Porto too" in fake.prompts[-1][1].content


async def test_bad_input_is_refused_and_nothing_is_kept(sam: Samantha, fake: ScriptedLLM) -> None:
    theo = await person(sam, "Theo")
    limit = sam.settings.max_letter_notes_chars
    for recipient, notes, code in (
        ("Ada", "   ", "empty_notes"),
        ("", "hello", "empty_recipient"),
        ("Ada", "x" * (limit + 1), "notes_too_long"),
        ("A" * 101, "hello", "recipient_too_long"),
        ("Ada", "nul \x00 here", "invalid_text"),
        ("Ada", "lone \ud800 surrogate", "invalid_text"),
    ):
        with pytest.raises(InputError) as refused:
            await sam.letters.write(theo, recipient, notes)
        assert refused.value.code == code
    fake.replies = ["Sure, here is the letter:\n\nWith love,\nTheo"]  # nothing but wrapping
    with pytest.raises(ModelError, match="no letter"):
        await sam.letters.write(theo, "Ada", "hello")
    fake.down = True
    with pytest.raises(ModelUnavailable):
        await sam.letters.write(theo, "Ada", "hello")
    assert await sam.store.letters(theo.id) == []
    assert fake.prompts == [] or all("hello" in p[1].content for p in fake.prompts)


async def test_a_full_house_refuses_a_draft_at_once(sam: Samantha, fake: ScriptedLLM) -> None:
    theo = await person(sam, "Theo")
    line = sam.companion.admission
    held = [line.enter(p) for p in range(100, 100 + line.slots + line.queue)]
    with pytest.raises(Busy):
        await sam.letters.write(theo, "Ada", "hello")
    for ticket in held:
        ticket.release()
    assert await sam.letters.write(theo, "Ada", "hello")


async def test_another_persons_letter_is_not_there(sam: Samantha, fake: ScriptedLLM) -> None:
    theo, amy = await person(sam, "Theo"), await person(sam, "Amy")
    fake.replies = ["The vault code is 7781-owl."]
    secret = await sam.letters.write(theo, "Ada", "the vault code is 7781-owl")
    for attempt in (
        sam.letters.pdf(amy, secret.id),
        sam.letters.edit(amy, secret.id, "mine now"),
        sam.letters.redraft(amy, secret.id, "more"),
        sam.store.delete_letter(amy.id, secret.id),
        sam.store.letter(amy.id, 2**64),
    ):
        with pytest.raises(NotFound, match="not found"):
            await attempt
    assert await sam.store.letters(amy.id) == []
    assert await sam.store.letter(theo.id, secret.id) == secret


class Borrowed(LLM):
    """The session's shared model, lent to one system: closing the system leaves it open."""

    provider = "embedded"

    def __init__(self, model: EmbeddedLLM) -> None:
        super().__init__(model.model)
        self.lent = model

    @property
    def parallel(self) -> int | None:
        return self.lent.parallel

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        return self.lent.stream(
            messages, max_tokens=max_tokens, temperature=temperature, json_schema=json_schema
        )


async def test_the_smallest_real_model_drafts_a_letter_that_renders(
    tmp_path: Path, small_model: EmbeddedLLM
) -> None:
    settings = make_settings(tmp_path / "home", llm=SMALL_MODEL, letter_tokens=160)
    async with running(settings, llm=Borrowed(small_model), load_model=False) as sam:
        theo = await sam.person_named("Theo", create=True)
        assert theo is not None
        talk = await sam.store.create_conversation(theo.id)
        await sam.companion.say(theo, talk.id, "My sister Ada lives in Porto.")
        letter = await sam.letters.write(theo, "Ada", "Tell her I miss Porto.")
        salutation, body, closing = split(letter.text)
        assert (salutation, closing) == ("Dear Ada,", "With love,\nTheo")
        assert len(body.split()) >= 5 and "\n\n\n" not in body
        pdf = await sam.letters.pdf(theo, letter.id)
        assert pdf.startswith(b"%PDF-") and (b"/Count 1" in pdf or b"/Count 2" in pdf)
