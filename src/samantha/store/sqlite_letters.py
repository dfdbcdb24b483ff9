"""The letters half of the SQLite store: each person's letters, and nobody else's.

Every statement names the person, so another person's letter id finds nothing, exactly as
an id that was never given. A deleted letter is overwritten (``secure_delete``) and the
write-ahead log emptied, so its words leave the files with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from samantha.errors import NotFound
from samantha.store.records import (
    Letter,
)
from samantha.store.sqlite_core import SQLiteCore, refuse_if_departing

LETTER_COLUMNS = "id, person_id, recipient, notes, text, created_at, updated_at"
LARGEST_ID = 2**63 - 1  # SQLite's; a larger number is nobody's letter


def _missing(letter_id: int) -> NotFound:
    return NotFound(f"letter {letter_id} not found")


def _one(db: sqlite3.Connection, person_id: int, letter_id: int) -> Letter:
    row = db.execute(
        f"SELECT {LETTER_COLUMNS} FROM letters WHERE person_id = ? AND id = ?",
        (person_id, letter_id),
    ).fetchone()
    if row is None:
        raise _missing(letter_id)
    return Letter(*row)


def person_letters(db: sqlite3.Connection, person_id: int) -> tuple[Letter, ...]:
    """All of the person's letters, oldest first (for their archive)."""
    rows = db.execute(
        f"SELECT {LETTER_COLUMNS} FROM letters WHERE person_id = ? ORDER BY id", (person_id,)
    )
    return tuple(Letter(*row) for row in rows)


def restore_letters(db: sqlite3.Connection, person_id: int, letters: Sequence[Letter]) -> None:
    """Letters from an archive, in its order, each with a new id."""
    db.executemany(
        "INSERT INTO letters (person_id, recipient, notes, text, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (person_id, x.recipient, x.notes, x.text, x.created_at, x.updated_at)
            for x in sorted(letters, key=lambda x: x.id)
        ],
    )


class SQLiteLetters(SQLiteCore):
    async def add_letter(self, person_id: int, recipient: str, notes: str, text: str) -> Letter:
        now = self.now()

        def run(db: sqlite3.Connection) -> Letter:
            refuse_if_departing(db)
            try:
                cur = db.execute(
                    "INSERT INTO letters (person_id, recipient, notes, text, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (person_id, recipient, notes, text, now, now),
                )
            except sqlite3.IntegrityError:  # deleted while the letter was being drafted
                raise NotFound(f"person {person_id} not found") from None
            return Letter(int(cur.lastrowid or 0), person_id, recipient, notes, text, now, now)

        return await self._write(run)

    async def letters(
        self, person_id: int, *, limit: int = 100, before_id: int | None = None
    ) -> list[Letter]:
        rows = await self._rows(
            f"SELECT {LETTER_COLUMNS} FROM letters WHERE person_id = ? AND id < ?"
            " ORDER BY id DESC LIMIT ?",
            (person_id, min(before_id or LARGEST_ID, LARGEST_ID), limit),
        )
        return [Letter(*row) for row in rows]

    async def letter(self, person_id: int, letter_id: int) -> Letter:
        if not 0 < letter_id <= LARGEST_ID:
            raise _missing(letter_id)
        return await self._read(lambda db: _one(db, person_id, letter_id))

    async def change_letter(
        self,
        person_id: int,
        letter_id: int,
        *,
        text: str | None = None,
        recipient: str | None = None,
        notes: str | None = None,
    ) -> Letter:
        if not 0 < letter_id <= LARGEST_ID:
            raise _missing(letter_id)
        now = self.now()

        def run(db: sqlite3.Connection) -> Letter:
            found = db.execute(
                "UPDATE letters SET text = coalesce(?, text), recipient = coalesce(?, recipient),"
                " notes = coalesce(?, notes), updated_at = ? WHERE person_id = ? AND id = ?",
                (text, recipient, notes, now, person_id, letter_id),
            )
            if found.rowcount != 1:
                raise _missing(letter_id)
            return _one(db, person_id, letter_id)

        return await self._write(run)

    async def delete_letter(self, person_id: int, letter_id: int) -> None:
        if not 0 < letter_id <= LARGEST_ID:
            raise _missing(letter_id)

        def run(db: sqlite3.Connection) -> None:
            found = db.execute(
                "DELETE FROM letters WHERE person_id = ? AND id = ?", (person_id, letter_id)
            )
            if found.rowcount != 1:
                raise _missing(letter_id)

        await self._write(run)
        await self._checkpoint()
