"""The relationship half of the SQLite store: bonds, milestones, stage counts, and her
inner life, which is built from counts across people and never from their words.

``person_bond`` and ``restore_bond`` are the person's archive's share of it, read and
written inside the archive's own transaction (``sqlite_archive``).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from samantha.store.records import Message
from samantha.store.relationship import Bond, InnerLife, Milestone, Tallies
from samantha.store.sqlite_core import MESSAGE_COLUMNS, SQLiteCore
from samantha.store.sqlite_search import ID_MASK

BOND_COLUMNS = "person_id, stage, stage_since, closeness, trust, shared, tallies, updated_at"
MILESTONE_COLUMNS = "key, text, at, message_id"


def _bond(row: Sequence[Any]) -> Bond:
    known = {f.name for f in dataclasses.fields(Tallies)}
    tallies = Tallies(**{k: v for k, v in json.loads(row[6]).items() if k in known})
    return Bond(int(row[0]), row[1], row[2], row[3], row[4], int(row[5]), tallies, row[7])


def _put_bond(db: sqlite3.Connection, bond: Bond) -> None:
    """Keep the person's bond. One in the same stage as before is updated in place: the row
    replaced (``INSERT OR REPLACE``) rewrote its entry in the stages' index too, two pages
    written with every turn where one does (issue 4)."""
    tallies = json.dumps(dataclasses.asdict(bond.tallies), sort_keys=True)
    kept = db.execute(
        "UPDATE relationships SET stage_since = ?, closeness = ?, trust = ?, shared = ?,"
        " tallies = ?, updated_at = ? WHERE person_id = ? AND stage = ?",
        (bond.stage_since, bond.closeness, bond.trust, bond.shared, tallies, bond.updated_at,
         bond.person_id, bond.stage),
    )  # fmt: skip
    if kept.rowcount:
        return
    db.execute(
        f"INSERT OR REPLACE INTO relationships ({BOND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (bond.person_id, bond.stage, bond.stage_since, bond.closeness, bond.trust, bond.shared,
         tallies, bond.updated_at),
    )  # fmt: skip


def _put_milestone(db: sqlite3.Connection, person_id: int, m: Milestone) -> bool:
    """Keep a milestone not reached before; False if its key was reached already."""
    cur = db.execute(
        f"INSERT OR IGNORE INTO milestones (person_id, {MILESTONE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        (person_id, m.key, m.text, m.at, m.message_id),
    )
    return bool(cur.rowcount)


def person_bond(
    db: sqlite3.Connection, person_id: int
) -> tuple[Bond | None, tuple[Milestone, ...]]:
    """The person's bond and milestones, oldest first (for their archive)."""
    row = db.execute(
        f"SELECT {BOND_COLUMNS} FROM relationships WHERE person_id = ?", (person_id,)
    ).fetchone()
    milestones = db.execute(
        f"SELECT {MILESTONE_COLUMNS} FROM milestones WHERE person_id = ? ORDER BY at, rowid",
        (person_id,),
    )
    return (_bond(row) if row else None), tuple(Milestone(*m) for m in milestones)


def restore_bond(
    db: sqlite3.Connection,
    person_id: int,
    bond: Bond | None,
    milestones: Sequence[Milestone],
    messages: Mapping[int, int],
) -> None:
    """A bond and its milestones from an archive, in its order, with the archive's message
    ids (``messages``: old → new) made this server's, so counting goes on where it was."""
    if bond is not None:
        upto = messages[bond.tallies.upto] if bond.tallies.upto else 0
        _put_bond(db, replace(bond, person_id=person_id, tallies=replace(bond.tallies, upto=upto)))
    for m in milestones:
        source = messages[m.message_id] if m.message_id is not None else None
        _put_milestone(db, person_id, replace(m, message_id=source))


def _words(words: Sequence[str]) -> str:
    """An FTS5 query for any of ``words`` in a turn's own text (quoted: no operators)."""
    quoted = " OR ".join('"' + w.replace('"', "") + '"' for w in words if w.strip())
    return f"body : ({quoted})"


class SQLiteRelationship(SQLiteCore):
    async def bond(self, person_id: int) -> Bond | None:
        rows = await self._rows(
            f"SELECT {BOND_COLUMNS} FROM relationships WHERE person_id = ?", (person_id,)
        )
        return _bond(rows[0]) if rows else None

    async def said_since(self, person_id: int, after_id: int, limit: int = 500) -> list[Message]:
        rows = await self._rows(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE person_id = ? AND id > ?"
            " AND role = 'user' ORDER BY id LIMIT ?",
            (person_id, after_id, limit),
        )
        return [Message(*row) for row in rows]

    async def shared_count(self, person_id: int) -> int:
        rows = await self._rows(
            "SELECT count(*) FROM memories WHERE person_id = ? AND superseded_by IS NULL",
            (person_id,),
        )
        return int(rows[0][0])

    async def keep_bond(self, bond: Bond, milestones: Sequence[Milestone]) -> list[Milestone]:
        def run(db: sqlite3.Connection) -> list[Milestone]:
            if (
                db.execute("SELECT 1 FROM people WHERE id = ?", (bond.person_id,)).fetchone()
                is None
            ):
                return []  # deleted meanwhile: nothing of them is written again
            _put_bond(db, bond)
            return [m for m in milestones if _put_milestone(db, bond.person_id, m)]

        return await self._write(run, later=True)

    async def milestones(self, person_id: int) -> list[Milestone]:
        rows = await self._rows(
            f"SELECT {MILESTONE_COLUMNS} FROM milestones WHERE person_id = ? ORDER BY at, rowid",
            (person_id,),
        )
        return [Milestone(*row) for row in rows]

    async def stage_counts(self) -> dict[str, int]:
        rows = await self._scan("SELECT stage, count(*) FROM relationships GROUP BY stage")
        return {str(stage): int(n) for stage, n in rows}

    async def theme_counts(
        self, themes: Mapping[str, Sequence[str]], since: float
    ) -> dict[str, tuple[int, int]]:
        def run(db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
            found = {}
            for theme, words in themes.items():
                people, messages = db.execute(
                    "SELECT count(DISTINCT m.person_id), count(*) FROM turn_fts f"
                    " JOIN messages m ON m.id = f.rowid & ?"
                    " WHERE turn_fts MATCH ? AND m.role = 'user' AND m.created_at >= ?",
                    (ID_MASK, _words(words), since),
                ).fetchone()
                found[theme] = (int(people), int(messages))
            return found

        return await self._read(run)

    async def active_people(self, since: float) -> int:
        rows = await self._scan(
            "SELECT count(DISTINCT person_id) FROM messages WHERE role = 'user'"
            " AND created_at >= ?",
            (since,),
        )
        return int(rows[0][0])

    async def add_inner_life(self, state: dict[str, Any], material: dict[str, Any]) -> InnerLife:
        now = self.now()

        def run(db: sqlite3.Connection) -> InnerLife:
            cur = db.execute(
                "INSERT INTO inner_life (created_at, state, material) VALUES (?, ?, ?)",
                (now, json.dumps(state, sort_keys=True), json.dumps(material, sort_keys=True)),
            )
            return InnerLife(int(cur.lastrowid or 0), now, state, material)

        return await self._write(run)

    async def inner_life(self, limit: int = 20) -> list[InnerLife]:
        rows = await self._rows(
            "SELECT version, created_at, state, material FROM inner_life"
            " ORDER BY version DESC LIMIT ?",
            (limit,),
        )
        return [InnerLife(int(v), t, json.loads(s), json.loads(m)) for v, t, s, m in rows]
