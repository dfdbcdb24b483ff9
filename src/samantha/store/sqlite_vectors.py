"""A person's vectors made by another embedder, found and made again.

A vector's size says which embedder made it. When ``SAMANTHA_EMBEDDER`` changes (MiniLM's
384 parts became the blend's 768), recall leaves the old ones out, and their turns and
records are found by their words alone until learning embeds the texts again
(``Memory._learn_vectors``). Every statement names the person.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from samantha.store.sqlite_core import SQLiteCore
from samantha.store.sqlite_memory import bump_vectors


class SQLiteVectors(SQLiteCore):
    async def foreign_vectors(
        self, person_id: int, size: int, limit: int = 256
    ) -> list[tuple[str, int, str]]:
        def run(db: sqlite3.Connection) -> list[tuple[str, int, str]]:
            rows = db.execute(
                "SELECT v.item, v.item_id, coalesce(m.content, r.text) FROM vectors v"
                " LEFT JOIN messages m"
                "   ON v.item = 'turn' AND m.id = v.item_id AND m.person_id = v.person_id"
                " LEFT JOIN memories r"
                "   ON v.item = 'memory' AND r.id = v.item_id AND r.person_id = v.person_id"
                " WHERE v.person_id = ? AND length(v.vector) != ?"
                "   AND coalesce(m.content, r.text) IS NOT NULL"
                " ORDER BY v.item, v.item_id LIMIT ?",
                (person_id, size, limit),
            ).fetchall()
            return [(str(item), int(item_id), str(text)) for item, item_id, text in rows]

        return await self._read(run)

    async def replace_vectors(
        self, person_id: int, vectors: Sequence[tuple[str, int, bytes]]
    ) -> None:
        def run(db: sqlite3.Connection) -> None:
            version = bump_vectors(db, person_id)
            db.executemany(  # only vectors still there: an item forgotten meanwhile stays gone
                "UPDATE vectors SET vector = ?, added = ?"
                " WHERE person_id = ? AND item = ? AND item_id = ?",
                [(blob, version, person_id, item, item_id) for item, item_id, blob in vectors],
            )

        await self._write(run, later=True)
