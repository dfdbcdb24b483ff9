"""The letter studio: letters a person writes with her, in their own voice, kept and bound.

A person says to whom and what they want to say (their notes); she drafts it through the
same model as her replies, drawing on what they told her about that person (recall, scoped
to them like everything else), and keeps it. They can change the words themselves or ask
for another draft with a new note; each letter renders as handwritten pages (PDF), and all
of a person's letters bind into one book.

A draft takes one of the model's slots like a reply (``samantha.admission``): refused at
once with ``Busy``/``TooManyReplies`` when she is full, ``ModelUnavailable`` when the model
is down. Nothing is written unless the draft is whole.
"""

from __future__ import annotations

import asyncio

from samantha.admission import Admission
from samantha.config import Settings
from samantha.errors import Departing, InputError, ModelError
from samantha.letters import draft
from samantha.letters.hand import Hand, find_hand
from samantha.letters.pages import book_pdf, letter_pdf
from samantha.llm import LLM, ChatMessage
from samantha.memory import Memory
from samantha.store import Letter, Person, Store

__all__ = ["Hand", "Letter", "Letters", "book_pdf", "find_hand", "letter_pdf"]
RECALLED = 8  # turns recalled for a letter's material
MAX_RECIPIENT = 100
NOTES_KEPT = 4  # a letter keeps its notes and redraft notes up to 4 times the notes limit
LABELS = {
    "notes": "the notes",
    "note": "the note",
    "text": "the letter",
    "recipient": "the recipient's name",
}


class Letters:
    def __init__(
        self,
        store: Store,
        llm: LLM,
        memory: Memory,
        admission: Admission,
        settings: Settings,
        companion: str = "Samantha",
    ) -> None:
        self.store = store
        self.companion = companion  # her name, on a book's title page
        self.llm = llm
        self.memory = memory
        self.admission = admission
        self.settings = settings
        self._hand: Hand | None = None

    @property
    def hand(self) -> Hand:
        """The handwriting, found on first use (which may redraw a font: see ``handwriting``)."""
        if self._hand is None:
            self._hand = find_hand(self.settings.letter_font, self.settings.fonts_dir)
        return self._hand

    async def handwriting(self) -> Hand:
        """The handwriting, found off the event loop the first time."""
        if self._hand is not None:
            return self._hand
        return await asyncio.to_thread(lambda: self.hand)

    async def write(self, person: Person, recipient: str, notes: str) -> Letter:
        """Draft a letter from ``notes`` to ``recipient`` and keep it."""
        recipient = checked_recipient(recipient)
        notes = checked(notes, "notes", self.settings.max_letter_notes_chars)
        if await self.store.departure() is not None:
            raise Departing()  # before the model's work, which could not be kept
        found = await self._material(person, recipient, notes)
        body = await self._draft(person, draft.prompt(found))
        text = draft.first_letter(recipient, person.name, body)
        return await self.store.add_letter(person.id, recipient, notes, text)

    async def redraft(self, person: Person, letter_id: int, note: str) -> Letter:
        """Draft the letter's body again with ``note``; its salutation and closing stay."""
        note = checked(note, "note", self.settings.max_letter_notes_chars)
        letter = await self.store.letter(person.id, letter_id)
        found = await self._material(person, letter.recipient, letter.notes)
        salutation, body, closing = draft.split(letter.text)
        new = await self._draft(person, draft.prompt(found, body, note))
        kept = self.settings.max_letter_notes_chars * NOTES_KEPT
        notes = f"{letter.notes}\n\n{note}"[-kept:]
        text = draft.assemble(salutation, new, closing)
        return await self.store.change_letter(person.id, letter_id, text=text, notes=notes)

    async def edit(
        self, person: Person, letter_id: int, text: str | None, recipient: str | None = None
    ) -> Letter:
        """Keep the person's own words (and recipient) for the letter."""
        if text is not None:
            text = checked(text, "text", self.settings.max_letter_chars).strip("\n")
        if recipient is not None:
            recipient = checked_recipient(recipient)
        return await self.store.change_letter(person.id, letter_id, text=text, recipient=recipient)

    async def pdf(self, person: Person, letter_id: int) -> bytes:
        letter = await self.store.letter(person.id, letter_id)
        return await asyncio.to_thread(letter_pdf, letter, await self.handwriting())

    async def book(self, person: Person) -> bytes:
        """Every letter of the person's, oldest first, as one book."""
        letters: list[Letter] = []
        while page := await self.store.letters(
            person.id, limit=500, before_id=letters[-1].id if letters else None
        ):
            letters += page
        hand, now, her = await self.handwriting(), self.store.now(), self.companion
        return await asyncio.to_thread(book_pdf, letters, person.name, hand, now, her)

    async def _material(self, person: Person, recipient: str, notes: str) -> draft.Material:
        await self.memory.learn(person.id, person.name)  # what they said a moment ago too
        recalled = await self.memory.recall(person.id, f"{recipient} {notes}", k=RECALLED)
        said = [
            (f"{r.day:%d %B %Y}", r.message.content) for r in recalled if r.message.role == "user"
        ]
        relations = await self.store.memories(person.id, kind="relation", limit=50)
        about = [m.text for m in relations if recipient.lower() in m.text.lower()]
        return draft.material(person.name, recipient, notes, about[:3], said)

    async def _draft(self, person: Person, prompt: list[ChatMessage]) -> str:
        ticket = self.admission.enter(person.id)
        try:
            await ticket.slot()
            raw = await self.llm.complete(
                prompt,
                max_tokens=self.settings.letter_tokens,
                temperature=self.settings.temperature,
            )
        finally:
            ticket.release()
        body = draft.body_of(raw, person.name)
        if not body:
            raise ModelError("the model wrote no letter; try again")
        return body


def checked(text: str, what: str, limit: int) -> str:
    """``text`` if it is something to keep: not empty, not too long, real Unicode text."""
    label = LABELS[what]
    if not isinstance(text, str) or "\x00" in text:
        raise InputError(f"{label} must be text, without NUL characters", code="invalid_text")
    if not text.strip():
        raise InputError(f"there is nothing in {label}", code=f"empty_{what}")
    if len(text) > limit:
        raise InputError(
            f"{len(text)} characters is over the limit of {limit} for {label}",
            code=f"{what}_too_long",
            status=413,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{label} is not valid UTF-8 text", code="invalid_text") from None
    return text if what == "text" else text.strip()


def checked_recipient(name: str) -> str:
    """Whom a letter is to: one line of text, at most ``MAX_RECIPIENT`` characters."""
    return " ".join(checked(name, "recipient", MAX_RECIPIENT).split())
