"""A person with a life worth exporting: several conversations, an interrupted reply, a
summary, memories found by rules, one superseded by news, one corrected, one forgotten,
letters, and the relationship counted after each reply, with its milestones."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from samantha.errors import ModelError
from samantha.store import NewMemory, Person
from samantha.system import Samantha
from tests.fakes import ScriptedLLM

LIMIT = 1 << 20
TABLES = (
    "people",
    "tokens",
    "conversations",
    "messages",
    "memories",
    "memory_sources",
    "turn_fts",
    "memory_fts",
    "vectors",
    "letters",
    "relationships",
    "milestones",
)


class Clock:
    def __init__(self) -> None:
        self.t = datetime.fromisoformat("2026-03-02T19:00:00.123456+00:00").timestamp()

    def __call__(self) -> float:
        self.t += 1.5  # every event at its own moment
        return self.t

    def days(self, n: float) -> None:
        self.t += n * 86400


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def turn(sam: Samantha, person: Person, conversation: int, text: str) -> None:
    await sam.companion.say(person, conversation, text)
    await (await sam.companion.reply(person, conversation)).read_all()
    await sam.companion.drain()
    await sam.memory.drain()


async def life(sam: Samantha, fake: ScriptedLLM, clock: Clock, name: str, secret: str) -> Person:
    person = await sam.person_named(name, create=True)
    assert person is not None
    porto = await sam.store.create_conversation(person.id, "Ada and Porto")
    await turn(sam, person, porto.id, "My sister Ada lives in Porto near the old tram.")
    await turn(sam, person, porto.id, f"I live in Leeds. The password is {secret}.")
    said = await sam.store.messages(person.id, porto.id)
    await sam.store.set_summary(person.id, porto.id, f"{name} told me about Ada.", said[1].id)
    clock.days(3)
    story = await sam.store.create_conversation(person.id)
    fake.fail_after, fake.replies = 2, ["Once upon a time, far away"]
    await sam.companion.say(person, story.id, "Tell me a story about lighthouses")
    with pytest.raises(ModelError):
        await (await sam.companion.reply(person, story.id)).read_all()
    fake.fail_after = None
    clock.days(2)
    news = await sam.store.create_conversation(person.id, "News")
    await turn(sam, person, news.id, "I moved to York last month!")
    await turn(sam, person, news.id, "My dog Biscuit hates baths.")
    found = {m.text: m for m in await sam.store.memories(person.id)}
    await sam.memory.correct(person.id, found["Ada is their sister"].id, "Ada is their twin")
    await sam.store.forget_memory(person.id, found["Biscuit is their dog"].id)
    source = (await sam.store.messages(person.id, news.id))[0].id
    trip = NewMemory("event", "Trip to the coast", (source,), "", "2026-04-01", "2026-04-03", 0.9)
    (trip_id,) = await sam.store.add_memories(person.id, [trip])
    await sam.memory.correct(person.id, trip_id, "Trip to the coast with Ada")  # no subject yet
    await letters(sam, fake, clock, person, secret)
    return person


async def letters(
    sam: Samantha, fake: ScriptedLLM, clock: Clock, person: Person, secret: str
) -> None:
    """Three letters: one changed by hand (with an emoji), one torn up, one redrafted."""
    fake.replies = [
        f"I still think of Porto and the {secret}.",
        "Torn up.",
        "Thank you.",
        "Thanks!",
    ]
    ada = await sam.letters.write(person, "Ada", f"Porto, and the {secret}")
    clock.days(1)
    await sam.letters.edit(person, ada.id, ada.text.replace("Porto", "Porto 🌊, São Bento"))
    torn = await sam.letters.write(person, "Nobody", "never mind")
    await sam.store.delete_letter(person.id, torn.id)
    mum = await sam.letters.write(person, "Mum", "thank her for the quilt")
    await sam.letters.redraft(person, mum.id, "shorter")


def members(archive: bytes) -> dict[str, str]:
    """The archive's text files by name (its PDFs are in ``pdfs``)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {
            name: z.read(name).decode("utf-8") for name in z.namelist() if not name.endswith(".pdf")
        }


def pdfs(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return {name: z.read(name) for name in z.namelist() if name.endswith(".pdf")}


def document(archive: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(members(archive)["archive.json"])
    return doc


def rows(db_path: Path) -> dict[str, int]:
    """How many rows each table holds: what a refused import must leave as it was."""
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path) as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
