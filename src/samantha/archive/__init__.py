"""A person's whole relationship as one file, and back: nothing lost when they leave.

An archive is a ZIP (``<name>-<date>.samantha.zip``) holding:

- ``archive.json``: everything Samantha keeps that is the person's (their name, every
  conversation and message, every memory record with the messages it came from, their
  letters, and a place for the relationship), in a versioned format (``docs/archive.md``);
- ``README.md``: the same, for a person to read;
- ``schema.json``: the JSON Schema of ``archive.json``;
- ``letters/<id>.pdf``: each letter as handwritten pages, and ``farewell.pdf``, her
  farewell the same way, once she has said goodbye.

Never in it: tokens or their hashes, the admin token, anyone else, or indexes (full-text
rows and vectors), which are rebuilt from the words on import by the same code that
indexes a live conversation, so recall works at once; the PDFs too are drawn again from
the words, never read. An import is checked whole before anything is written, then
written in one transaction. Export, import, export again gives
the same archive.json apart from ``exported_at``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from samantha.archive.bundle import pack, unpack
from samantha.archive.checks import check
from samantha.archive.document import from_document, to_document
from samantha.archive.markdown import render
from samantha.archive.schema import FAREWELL
from samantha.auth import clean_name, hash_token, new_token
from samantha.errors import InputError
from samantha.files import safe_name
from samantha.letters import Hand, letter_pdf
from samantha.store import Letter, Message, Person, PersonData
from samantha.system import Samantha

__all__ = ["Exported", "Imported", "export_archive", "file_name", "import_archive", "read_archive"]


@dataclass(frozen=True)
class Exported:
    person: Person
    archive: bytes
    made_at: float
    conversations: int
    messages: int
    memories: int
    letters: int


@dataclass(frozen=True)
class Imported:
    person: Person
    token: str  # shown once, as for a new person
    conversations: int
    messages: int
    memories: int
    letters: int


async def export_archive(sam: Samantha, person: Person) -> Exported:
    """The person's archive, with what they said a moment ago learned first."""
    await sam.memory.learn(person.id, person.name)
    data = await sam.store.person_data(person.id)
    farewell = await sam.store.farewell(person.id)
    made_at, hand, companion = sam.store.now(), await sam.letters.handwriting(), sam.persona.name
    archive = await asyncio.to_thread(_pack, data, made_at, companion, hand, farewell)  # CPU
    return Exported(data.person, archive, made_at, *_counts(data))


def _pack(
    data: PersonData, made_at: float, companion: str, hand: Hand, farewell: Message | None
) -> bytes:
    doc = to_document(data, made_at)
    numbered = zip(doc["letters"], sorted(data.letters, key=lambda x: x.id), strict=True)
    pdfs = {item["pdf"]: letter_pdf(letter, hand) for item, letter in numbered}
    if farewell is not None:  # her goodbye, on paper like theirs
        at = farewell.created_at
        goodbye = Letter(0, data.person.id, data.person.name, "", farewell.content, at, at)
        pdfs[FAREWELL] = letter_pdf(goodbye, hand)
    return pack(doc, render(doc, companion), made_at, pdfs)


def read_archive(data: bytes, limit: int) -> PersonData:
    """An archive's contents, checked whole (ids still the archive's); writes nothing."""
    doc, files = unpack(data, limit)
    check(doc, files)
    return from_document(doc)


async def import_archive(sam: Samantha, data: PersonData, name: str | None = None) -> Imported:
    """A new person from a read archive, named ``name`` or as in the archive.

    The history is indexed before the one write, so the person can be recalled from the
    moment the write commits, and a failure leaves nothing behind.
    """
    name = clean_name(name if name is not None else data.person.name)
    if await sam.store.person_by_name(name) is not None:
        raise InputError(
            f"a person named {name!r} already exists; import under another name"
            " (`samantha import FILE --as NAME`, or `?as=NAME` over HTTP)",
            code="name_taken",
            status=409,
        )
    turns, vectors = await sam.memory.index_history(
        name, data.messages, [m.text for m in data.memories], skip=data.forgotten
    )
    token = new_token()
    named = replace(data, person=replace(data.person, name=name))
    person = await sam.store.restore_person(named, hash_token(token), turns, vectors)
    return Imported(person, token, *_counts(data))


def _counts(data: PersonData) -> tuple[int, int, int, int]:
    return len(data.conversations), len(data.messages), len(data.memories), len(data.letters)


def file_name(name: str, when: float) -> str:
    """``<name>-<date>.samantha.zip``, with the name made safe for any file system."""
    return f"{safe_name(name)}-{datetime.fromtimestamp(when, UTC):%Y-%m-%d}.samantha.zip"
