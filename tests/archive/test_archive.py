"""Export, import, export again: the same archive; recall works; only the person's own data."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from samantha.archive import Exported, export_archive, file_name, import_archive, read_archive
from samantha.auth import admin_token_path, ensure_admin_token, person_for_token
from samantha.errors import InputError
from samantha.store import corrected_subject
from samantha.system import Samantha, running
from tests.archive.conftest import LIMIT, Clock, document, life, members, pdfs, rows
from tests.archive.test_bundle import zipped
from tests.archive.test_schema import example_v1
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM

TRIP = "Trip to the coast"


def turn_index(db_path: Path, name: str) -> list[tuple[str, str, str]]:
    """What full-text recall sees for a person's turns, by their words rather than ids."""
    with sqlite3.connect(db_path) as db:
        return sorted(
            db.execute(
                "SELECT m.content, f.body, f.context FROM turn_fts f JOIN messages m"
                " ON m.id = f.rowid JOIN people p ON p.id = m.person_id WHERE p.name = ?",
                (name,),
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
        kinds = {item for item, _, _ in await there.store.all_vectors(imported.person.id)}
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
    assert one.pop("exported_at") != two.pop("exported_at")
    assert one == two
    stamp = f'"exported_at": "{document(first.archive)["exported_at"]}"'
    restamped = after["archive.json"].replace(
        f'"exported_at": "{document(again.archive)["exported_at"]}"', stamp
    )
    assert restamped == before["archive.json"]  # byte for byte, ids and order included
    original, rebuilt = (turn_index(tmp_path / h / "samantha.db", "Theo") for h in "ab")
    assert [row[:2] for row in original] == [row[:2] for row in rebuilt]
    assert "Biscuit" not in str(rebuilt)  # forgotten words feed no index, not even as context


async def test_the_archive_holds_the_whole_relationship(
    tmp_path: Path, fake: ScriptedLLM, clock: Clock
) -> None:
    async with running(make_settings(tmp_path / "a"), llm=fake, clock=clock) as sam:
        theo = await life(sam, fake, clock, "Theo", "marmalade-47")
        doc = document((await export_archive(sam, theo)).archive)
    assert (doc["format"], doc["version"], doc["relationship"]) == ("samantha-archive", 2, None)
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
    readme = members((await _export_again(tmp_path, fake, clock)).archive)["README.md"]
    assert "# Theo and Samantha" in readme and "> My sister Ada lives in Porto" in readme
    assert "forgotten: never recalled" in readme and "replaced by memory" in readme
    assert "### To Ada" in readme and "> I still think of Porto 🌊, São Bento" in readme
    assert "handwritten pages in `letters/1.pdf`" in readme


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


async def test_a_version_1_archive_still_imports(sam: Samantha) -> None:
    v1 = zipped({"archive.json": json.dumps(example_v1()).encode()})
    imported = await import_archive(sam, read_archive(v1, LIMIT), "Theo")
    assert (imported.messages, imported.memories, imported.letters) == (2, 1, 0)
    again = document((await export_archive(sam, imported.person)).archive)
    assert (again["version"], again["letters"]) == (2, [])
    assert again["memories"] == example_v1()["memories"]
