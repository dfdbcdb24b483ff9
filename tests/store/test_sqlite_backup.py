"""Online backups: consistent while writes go on, checked, and never half-written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from samantha.errors import InputError, StoreError
from samantha.store import SQLiteStore
from samantha.store.sqlite_backup import backup_database


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SQLiteStore(tmp_path / "live" / "samantha.db")
    await s.open()
    yield s
    await s.close()


def opened(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def leftovers(folder: Path) -> list[str]:
    """Anything a backup left behind: its hidden partial file, or a -wal beside a copy."""
    return [n for n in names(folder) if n.endswith((".partial", "-wal", "-journal"))]


async def test_backups_while_messages_are_being_written(store: SQLiteStore, tmp_path: Path) -> None:
    theo = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(theo.id)
    letter = await store.add_letter(theo.id, "Ada", "miss her", "Dear Ada,\n\nI miss you.")
    acknowledged: list[int] = []
    stop, forty_more = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        while not stop.is_set():
            said = await store.add_message(theo.id, conv.id, "user", f"line {len(acknowledged)}")
            acknowledged.append(said.id)
            if len(acknowledged) % 40 == 0:
                forty_more.set()

    writing = asyncio.create_task(writer())
    copies = []
    for n in range(3):
        forty_more.clear()
        await forty_more.wait()
        before = list(acknowledged)
        target = tmp_path / f"copy-{n}.db"
        await store.backup(target)
        copies.append((target, before))
    stop.set()
    await writing
    for target, before in copies:
        db = opened(target)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
        kept = {r[0] for r in db.execute("SELECT id FROM messages")}
        assert set(before) <= kept <= set(acknowledged)
        assert db.execute("SELECT text FROM letters").fetchall() == [(letter.text,)]
        db.close()
        assert target.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path) == []


async def test_an_existing_file_is_kept_unless_replaced(store: SQLiteStore, tmp_path: Path) -> None:
    target = tmp_path / "backup.db"
    target.write_text("precious")
    with pytest.raises(InputError, match="already exists") as refused:
        await store.backup(target)
    assert refused.value.status == 409 and target.read_text() == "precious"
    await store.backup(target, replace=True)
    assert opened(target).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "where,error",
    [
        ("missing/backup.db", "does not exist"),
        ("a-file/backup.db", "does not exist"),
        (".", "is a folder"),
    ],
)
async def test_unwritable_targets_are_refused_before_any_work(
    store: SQLiteStore, tmp_path: Path, where: str, error: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(InputError, match=error):
        await store.backup(tmp_path / where)
    assert names(tmp_path) == ["a-file", "live"]


async def test_a_damaged_database_gives_an_error_and_no_file(tmp_path: Path) -> None:
    source = tmp_path / "damaged.db"
    store = SQLiteStore(source)
    await store.open()
    theo = await store.create_person("Theo", "h1")
    conv = await store.create_conversation(theo.id)
    for n in range(300):
        await store.add_message(theo.id, conv.id, "user", f"a line long enough to fill pages {n}")
    await store.close()
    db = sqlite3.connect(source)
    pages = [r[0] for r in db.execute("SELECT pageno FROM dbstat WHERE name = 'messages'")]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with source.open("r+b") as handle:  # scribble over the middle of a table page
        handle.seek((pages[len(pages) // 2] - 1) * size + 8)
        handle.write(b"\xff" * 64)
    target = tmp_path / "backup.db"
    with pytest.raises(StoreError, match=r"malformed|integrity check") as failed:
        await asyncio.to_thread(backup_database, source, target)
    assert "nothing was written" in str(failed.value)
    assert not target.exists() and leftovers(tmp_path) == []
