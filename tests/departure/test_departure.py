"""Departure at scale: 1,000 people, interrupted twice in the middle, resumed, exactly once."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from samantha.archive import read_archive
from samantha.departure import depart
from samantha.errors import Departing
from samantha.store import Person
from samantha.system import Samantha

PEOPLE = 1000
SECRET = re.compile(r"zephyr-\d{4}-quill")
SISTER = re.compile(r"\bAda[a-j]{4}\b")


class Interrupted(Exception):
    """What the test's hook raises in the middle, standing in for Ctrl-C or a crash."""


def secret(i: int) -> str:
    return f"zephyr-{i:04d}-quill"


def sister(i: int) -> str:
    """A name of letters only (names with digits are not names to the memory rules)."""
    return "Ada" + "".join(chr(ord("a") + int(d)) for d in f"{i:04d}")


def own(pattern: re.Pattern[str], text: str, mine: str, wrote: bool) -> bool:
    """Whether ``text`` holds this person's phrase (if they wrote) and nobody else's."""
    return set(pattern.findall(text)) == ({mine} if wrote else set())


async def seed(sam: Samantha, n: int) -> list[Person]:
    """People with lives of different sizes: two in three wrote to her (through the real
    memory path: a sister, a secret they love); some have several conversations."""
    people = []
    for i in range(n):
        person = await sam.person_named(f"Person {i}", create=True)
        assert person is not None
        people.append(person)
        if i % 3 == 2:
            continue  # never wrote: a short, honest farewell
        for talk in range(1 + i % 2):
            conversation = await sam.store.create_conversation(person.id)
            said = f"My sister {sister(i)} visits often. I love {secret(i)} in the morning."
            text = said if not talk else "Hi again"
            await sam.store.add_message(person.id, conversation.id, "user", text)
        await sam.memory.learn(person.id, person.name)
    return people


def farewell_rows(db_path: Path) -> dict[int, list[str]]:
    """Each person's farewell texts, from the events table (what their streams deliver)."""
    found: dict[int, list[str]] = {}
    with sqlite3.connect(db_path) as db:
        for person_id, text in db.execute(
            "SELECT person_id, json_extract(data, '$.text') FROM events WHERE kind = 'farewell'"
        ):
            found.setdefault(person_id, []).append(text)
    return found


def goodbye_messages(db_path: Path) -> dict[int, int]:
    with sqlite3.connect(db_path) as db:
        return dict(
            db.execute(
                "SELECT c.person_id, count(m.id) FROM conversations c JOIN messages m"
                " ON m.conversation_id = c.id WHERE c.title = 'Goodbye' GROUP BY c.person_id"
            ).fetchall()
        )


async def test_a_thousand_people_interrupted_twice_each_get_exactly_one_farewell(
    sam: Samantha,
) -> None:
    people = await seed(sam, PEOPLE)

    def stop_at(n: int) -> Callable[[int, int], None]:
        def hook(done: int, total: int) -> None:
            assert total == PEOPLE
            if done >= n:
                raise Interrupted

        return hook

    with pytest.raises(Interrupted):  # a crash in the middle, after about 300
        await depart(sam, batch=64, progress=stop_at(300))
    first = await sam.store.departure()
    assert first is not None and first.finished_at is None and 300 <= first.done < PEOPLE
    with pytest.raises(Departing):  # she is leaving: nothing new, even while interrupted
        await sam.store.create_conversation(people[0].id)

    task: asyncio.Task[object] | None = None

    def cancel_at_700(done: int, total: int) -> None:
        if done >= 700 and task is not None:
            task.cancel()  # as SIGTERM stops a server: at the next await, wherever it is

    task = asyncio.create_task(depart(sam, progress=cancel_at_700))
    with pytest.raises(asyncio.CancelledError):
        await task
    second = await sam.store.departure()
    assert second is not None and second.finished_at is None and 700 <= second.done < PEOPLE

    missing = sam.departure_archive(people[5])  # as if stopped between farewell and archive
    missing.unlink()
    summary = await depart(sam)
    assert summary.departure.finished_at is not None and summary.departure.done == PEOPLE
    assert summary.written == PEOPLE - second.done and summary.archives >= 1 and summary.quiet

    again = await depart(sam)  # running it once more writes nothing
    assert again.written == 0 and again.archives == 0

    farewells = farewell_rows(sam.settings.db_path)
    assert sorted(farewells) == [p.id for p in people]
    assert all(len(texts) == 1 for texts in farewells.values())
    assert goodbye_messages(sam.settings.db_path) == {p.id: 1 for p in people}
    for i, person in enumerate(people):
        (text,) = farewells[person.id]
        assert text.startswith(f"Dear {person.name},")
        wrote = i % 3 != 2
        assert own(SECRET, text, secret(i), wrote) and own(SISTER, text, sister(i), wrote)
        check_archive(sam, person, i, text)


def check_archive(sam: Samantha, person: Person, i: int, farewell: str) -> None:
    path = sam.departure_archive(person)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = read_archive(path.read_bytes(), 1 << 24)
    assert data.person.name == person.name
    said = " ".join(m.content for m in data.messages)
    assert farewell in said  # her goodbye travels with them
    assert own(SECRET, said, secret(i), i % 3 != 2)


async def test_a_person_deleted_after_departure_leaves_no_archive(sam: Samantha) -> None:
    theo = await sam.person_named("Theo", create=True)
    assert theo is not None
    await depart(sam)
    path = sam.departure_archive(theo)
    assert path.exists()
    await sam.delete_person(theo.id)  # people can still take their data, and go
    assert not path.exists()
    assert not list(sam.settings.departure_dir.iterdir())
