"""Letters in the SQLite store: kept per person, paged, changed, deleted without a trace."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from samantha.errors import Departing, NotFound
from samantha.store import SQLiteStore


def on_disk(path: Path) -> bytes:
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_letters_are_kept_paged_and_changed(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    first = await store.add_letter(theo.id, "Ada", "miss her", "Dear Ada,\n\nI miss you.")
    row = sqlite3.connect(store.path).execute("SELECT text FROM letters").fetchone()
    assert row == ("Dear Ada,\n\nI miss you.",)  # durable when add_letter returns
    second = await store.add_letter(theo.id, "Mum", "thanks", "Dear Mum,\n\nThank you.")
    assert await store.letters(theo.id) == [second, first]
    assert await store.letters(theo.id, limit=1, before_id=second.id) == [first]
    changed = await store.change_letter(theo.id, first.id, text="Dearest Ada,\n\nSoon.")
    assert (changed.text, changed.recipient, changed.notes) == (
        "Dearest Ada,\n\nSoon.",
        "Ada",
        "miss her",
    )
    assert changed.updated_at > first.updated_at and changed.created_at == first.created_at
    moved = await store.change_letter(theo.id, first.id, recipient="Ada Silva", notes="more")
    assert (moved.text, moved.recipient, moved.notes) == (changed.text, "Ada Silva", "more")


async def test_another_persons_letter_does_not_exist_for_you(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    amy = await store.create_person("Amy", "h2")
    secret = await store.add_letter(theo.id, "Ada", "the code", "The code is 7781-owl.")
    for attempt in (
        store.letter(amy.id, secret.id),
        store.change_letter(amy.id, secret.id, text="mine"),
        store.delete_letter(amy.id, secret.id),
        store.letter(theo.id, 2**63),
        store.letter(theo.id, 0),
        store.change_letter(theo.id, 2**80, text="x"),
        store.delete_letter(theo.id, -1),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert await store.letters(amy.id) == []
    assert await store.letters(theo.id, before_id=2**70) == [secret]
    assert await store.letter(theo.id, secret.id) == secret


async def test_a_deleted_letter_leaves_no_trace(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    kept = await store.add_letter(theo.id, "Mum", "thanks", "Thank you for the quilt.")
    gone = await store.add_letter(theo.id, "Ada", "the code", "The code is 7781-owl.")
    assert b"7781-owl" in on_disk(store.path)
    await store.delete_letter(theo.id, gone.id)
    assert b"7781-owl" not in on_disk(store.path)
    assert await store.letters(theo.id) == [kept]
    with pytest.raises(NotFound):
        await store.delete_letter(theo.id, gone.id)
    removed = await store.delete_person(theo.id)
    assert removed["letters"] == 1 and b"quilt" not in on_disk(store.path)


async def test_no_new_letters_once_she_departs(store: SQLiteStore) -> None:
    theo = await store.create_person("Theo", "h1")
    letter = await store.add_letter(theo.id, "Ada", "n", "Dear Ada")
    await store.begin_departure()
    with pytest.raises(Departing):
        await store.add_letter(theo.id, "Ada", "n", "Dear Ada, again")
    assert (await store.change_letter(theo.id, letter.id, text="Dear Ada!")).text == "Dear Ada!"
