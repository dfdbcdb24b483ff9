"""Export, import, export again: the same archive; recall works; only the person's own data."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from samantha.archive import Exported, export_archive, file_name, import_archive, read_archive
from samantha.auth import admin_token_path, ensure_admin_token, person_for_token
from samantha.errors import InputError
from samantha.store import Person, corrected_subject
from samantha.store.relationship import Bond, Milestone
from samantha.store.sqlite_search import ID_BITS
from samantha.system import Samantha, running
from tests.archive.conftest import LIMIT, Clock, document, life, members, pdfs, rows, turn
from tests.archive.test_bundle import zipped
from tests.archive.test_schema import example_v1, example_v2
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM

TRIP = "Trip to the coast"


def turn_index(db_path: Path, name: str) -> list[tuple[str, str, str]]:
    """What full-text recall sees for a person's turns, by their words rather than ids."""
    with sqlite3.connect(db_path) as db:
        return sorted(
            db.execute(
                "SELECT m.content, f.body, f.context FROM turn_fts f JOIN messages m"
                " ON f.rowid = ? * m.person_id + m.id JOIN people p ON p.id = m.person_id"
                " WHERE p.name = ?",
                (1 << ID_BITS, name),
            ).fetchall()
        )


async def test_the_round_trip_is_exact_and_recall_works(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as here:
        theo = await life(here, fake, clock, "Theo", "marmalade-47")
        first = await export_archive(here, theo)
    clock.days(30)
    async with running(make_settings(tmp_path / "b"), llm=fake, clock=clock) as there:
        await life(there, fake, clock, "Amy", "quince-93")  # every id differs on this server
        imported = await import_archive(there, read_archive(first.archive, LIMIT))
        kept = await there.store.memories(imported.person.id, include_superseded=True)
        trip, fixed = (next(m for m in kept if m.text == t) for t in (TRIP, TRIP + " with Ada"))
        assert trip.superseded_by == fixed.id
        assert trip.subject == fixed.subject == corrected_subject(trip.id)  # this server's id
        again = await export_archive(there, imported.person)
        assert await person_for_token(there.store, imported.token) == imported.person
        found = await there.memory.recall(imported.person.id, "Where does Ada live?", k=3)
        assert "Porto" in found[0].message.content
        assert await there.memory.recall(imported.person.id, "Biscuit baths", k=5) == []
        kinds = {
            block.item for block in (await there.store.vectors_since(imported.person.id, 0)).blocks
        }
        assert kinds == {"turn", "memory"}
    before, after = members(first.archive), members(again.archive)
    assert before.keys() == after.keys() == {"archive.json", "README.md", "schema.json"}
    assert (
        pdfs(first.archive).keys()
        == pdfs(again.archive).keys()
        == {
            "letters/1.pdf",
            "letters/2.pdf",
        }
    )
    assert imported.letters == 2 and first.letters == 2
    one, two = document(first.archive), document(again.archive)
    assert one["relationship"]["milestones"]  # compared too, with the messages they name
    assert one.pop("exported_at") != two.pop("exported_at")
    assert one == two
    stamp = f'"exported_at": "{document(first.archive)["exported_at"]}"'
    restamped = after["archive.json"].replace(
        f'"exported_at": "{document(again.archive)["exported_at"]}"', stamp
    )
    assert restamped == before["archive.json"]  # byte for byte, ids and order included
    original, rebuilt = (turn_index(tmp_path / h / "samantha.db", "Theo") for h in "ab")
    assert original and [row[:2] for row in original] == [row[:2] for row in rebuilt]
    assert "Biscuit" not in str(rebuilt)  # forgotten words feed no index, not even as context


async def test_the_archive_holds_the_whole_relationship(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as sam:
        theo = await life(sam, fake, clock, "Theo", "marmalade-47")
        doc = document((await export_archive(sam, theo)).archive)
    assert (doc["format"], doc["version"]) == ("samantha-archive", 3)
    ada, mum = doc["letters"]
    assert (ada["id"], ada["to"], ada["pdf"], mum["id"], mum["to"]) == (
        1,
        "Ada",
        "letters/1.pdf",
        2,
        "Mum",
    )
    assert ada["text"] == (
        "Dear Ada,\n\nI still think of Porto 🌊, São Bento and the marmalade-47."
        "\n\nWith love,\nTheo"
    )
    assert ada["notes"] == "Porto, and the marmalade-47" and ada["updated_at"] > ada["created_at"]
    assert mum["notes"] == "thank her for the quilt\n\nshorter" and "Thanks!" in mum["text"]
    porto, story, news = doc["conversations"]
    assert porto["title"] == "Ada and Porto" and porto["summary_upto"] == 2
    assert [m["role"] for m in porto["messages"]] == ["user", "assistant"] * 2
    assert [m["status"] for m in story["messages"]] == ["complete", "interrupted"]
    assert story["messages"][1]["content"] == "Once upon"
    forgotten = [m["content"] for m in news["messages"] if m["forgotten"]]
    assert forgotten[0] == "My dog Biscuit hates baths." and len(forgotten) == 2
    memories = {m["text"]: m for m in doc["memories"]}
    assert "Biscuit is their dog" not in memories
    ada, twin = memories["Ada is their sister"], memories["Ada is their twin"]
    assert ada["superseded_by"] == twin["id"] and twin["origin"] == "corrected"
    assert twin["subject"] == ada["subject"]
    leeds = memories["I live in Leeds."]
    assert leeds["superseded_by"] == memories["I moved to York last month!"]["id"]
    trip, fixed = memories["Trip to the coast"], memories["Trip to the coast with Ada"]
    assert (trip["happened_on"], trip["happened_until"], trip["importance"]) == (
        "2026-04-01",
        "2026-04-03",
        0.9,
    )
    assert trip["superseded_by"] == fixed["id"]
    assert trip["subject"] == fixed["subject"] == f"corrected:{trip['id']}"  # its archive id
    said = {m["id"]: m["content"] for c in doc["conversations"] for m in c["messages"]}
    assert "Porto" in said[ada["sources"][0]]
    bond = doc["relationship"]
    assert (bond["stage"], bond["signals"]["messages"], bond["signals"]["days_talked"]) == (
        "acquainted",
        5,
        3,
    )
    assert bond["counted_upto"] == max(i for i, text in said.items() if "Biscuit" in text)
    milestones = {m["key"]: m for m in bond["milestones"]}
    assert bond["milestones"][0]["key"] == "met" and milestones["met"]["source"] == 1
    sister = milestones["told:sister"]
    assert sister["text"] == "The first time you told me about your sister, Ada"
    assert "My sister Ada" in said[sister["source"]]
    assert milestones["stage:acquainted"]["source"] is None
    readme = members((await _export_again(tmp_path, fake, clock)).archive)["README.md"]
    assert "# Theo and Samantha" in readme and "> My sister Ada lives in Porto" in readme
    assert "forgotten: never recalled" in readme and "replaced by memory" in readme
    assert "### To Ada" in readme and "> I still think of Porto 🌊, São Bento" in readme
    assert "handwritten pages in `letters/1.pdf`" in readme
    assert "## The two of you\n\nYou and Samantha are getting to know each other, since" in readme
    assert ": The first time you told me about your sister, Ada (message 1)" in readme


async def _export_again(tmp_path: Path, fake: ScriptedLLM, clock: Clock) -> Exported:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as sam:
        theo = await sam.person_named("Theo")
        assert theo is not None
        return await export_archive(sam, theo)


async def test_an_export_holds_nobody_else_and_no_secrets(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    settings = make_settings(tmp_path / "a")
    admin, _ = ensure_admin_token(settings.home)
    async with running(settings, llm=fake, clock=clock) as sam:
        theo = await life(sam, fake, clock, "Theo", "marmalade-47")
        await life(sam, fake, clock, "Amy", "quince-93")
        archive = (await export_archive(sam, theo)).archive
    text = "\n".join(members(archive).values())
    assert "marmalade-47" in text and "Ada" in text
    assert "quince-93" not in text and "Amy" not in text
    with sqlite3.connect(settings.db_path) as db:
        hashes = [h for (h,) in db.execute("SELECT hash FROM tokens")]
    assert len(hashes) == 2 and not any(h in text for h in hashes)
    assert admin not in text and admin_token_path(settings.home).name not in text
    assert "sam_" not in text and "vector" not in text.lower()


async def test_a_name_clash_is_refused_unless_renamed(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as sam:
        theo = await life(sam, fake, clock, "Theo", "marmalade-47")
        data = read_archive((await export_archive(sam, theo)).archive, LIMIT)
        before = rows(sam.settings.db_path)
        with pytest.raises(InputError, match="--as NAME") as refused:
            await import_archive(sam, data, "theo")
        assert refused.value.code == "name_taken" and rows(sam.settings.db_path) == before
        copy = await import_archive(sam, data, "Theo Again")
        assert copy.person.name == "Theo Again" and copy.person.id != theo.id
        assert (copy.conversations, copy.memories) == (3, len(data.memories))
        mine = await sam.memory.recall(copy.person.id, "marmalade password", k=2)
        assert mine and all(r.message.person_id == copy.person.id for r in mine)
        theirs = await sam.memory.recall(theo.id, "marmalade password", k=2)
        assert all(r.message.person_id == theo.id for r in theirs)


async def test_importing_learns_nothing_twice(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock, sam: Samantha
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as here:
        theo = await life(here, fake, clock, "Theo", "marmalade-47")
        archive = (await export_archive(here, theo)).archive
    imported = await import_archive(sam, read_archive(archive, LIMIT))
    count = len(await sam.store.memories(imported.person.id, include_superseded=True))
    assert await sam.memory.learn(imported.person.id, "Theo") == 0
    assert len(await sam.store.memories(imported.person.id, include_superseded=True)) == count


def test_file_names_are_safe() -> None:
    when = 1772478000.0  # 2026-03-02
    assert file_name("Theo", when) == "theo-2026-03-02.samantha.zip"
    assert file_name("Zoë / ../etc", when) == "zoe-etc-2026-03-02.samantha.zip"
    assert file_name("李", when) == "person-2026-03-02.samantha.zip"


async def test_an_import_never_takes_a_deleted_persons_id(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    """Caches elsewhere may still hold a deleted person's id; an import must not reuse it."""
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as sam:
        theo = await life(sam, fake, clock, "Theo", "marmalade-47")
        archive = await export_archive(sam, theo)
        await sam.delete_person(theo.id)
        imported = await import_archive(sam, read_archive(archive.archive, LIMIT))
        assert imported.person.id > theo.id


@pytest.mark.parametrize("older", [example_v1, example_v2])
async def test_an_older_archive_still_imports(
    sam: Samantha, older: Callable[[], dict[str, Any]]
) -> None:
    archive = zipped({"archive.json": json.dumps(older()).encode()})
    imported = await import_archive(sam, read_archive(archive, LIMIT), "Theo")
    assert (imported.messages, imported.memories) == (2, 1)
    assert imported.letters == len(older()["letters"])
    again = document((await export_archive(sam, imported.person)).archive)
    assert (again["version"], again["letters"], again["relationship"]) == (
        3,
        older()["letters"],
        None,
    )
    assert again["memories"] == older()["memories"]
    counted = await sam.relationships.update(imported.person)  # afresh, from the messages
    assert (counted.stage, counted.tallies.messages) == ("met", 1)


async def test_the_relationship_comes_back_as_it_was_and_grows_from_there(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as here:
        theo = await life(here, fake, clock, "Theo", "marmalade-47")
        archive = (await export_archive(here, theo)).archive
        bond, milestones, said = await _relationship(here, theo)
    async with running(make_settings(tmp_path / "b"), llm=fake, clock=clock) as there:
        await life(there, fake, clock, "Amy", "quince-93")  # every id differs on this server
        moved = (await import_archive(there, read_archive(archive, LIMIT))).person
        kept, kept_milestones, kept_said = await _relationship(there, moved)
        assert kept_said[kept.tallies.upto] == said[bond.tallies.upto]  # counted up to here
        assert _plain(kept) == _plain(bond)
        assert [_moment(m, kept_said) for m in kept_milestones] == [
            _moment(m, said) for m in milestones
        ]
        clock.days(1)
        latest = await there.store.latest_conversation(moved.id)
        assert latest is not None
        await turn(there, moved, latest.id, "Thank you, that really helped.")
        grown, grown_milestones, _ = await _relationship(there, moved)
    t, before = grown.tallies, bond.tallies
    assert (t.messages, t.days, t.thanks) == (before.messages + 1, before.days + 1, 1)
    keys = [m.key for m in grown_milestones]
    assert keys[: len(milestones)] == [m.key for m in milestones] and "helped" in keys


async def _relationship(
    sam: Samantha, person: Person
) -> tuple[Bond, list[Milestone], dict[int, tuple[str, float]]]:
    """The person's bond and milestones, and every message's words and time by id."""
    bond = await sam.store.bond(person.id)
    assert bond is not None
    data = await sam.store.person_data(person.id)
    said = {m.id: (m.content, round(m.created_at, 6)) for m in data.messages}
    return bond, await sam.store.milestones(person.id), said


def _plain(bond: Bond) -> Bond:
    """A bond without what differs between servers: the person's id and message ids, and
    times to the microsecond the archive keeps."""
    t = bond.tallies
    first, last = (round(x, 6) if x is not None else None for x in (t.first_at, t.last_at))
    tallies = replace(t, upto=0, first_at=first, last_at=last)
    since, counted = round(bond.stage_since, 6), round(bond.updated_at, 6)
    return replace(bond, person_id=0, tallies=tallies, stage_since=since, updated_at=counted)


def _moment(m: Milestone, said: dict[int, tuple[str, float]]) -> tuple[Any, ...]:
    return m.key, m.text, round(m.at, 6), said[m.message_id] if m.message_id else None
