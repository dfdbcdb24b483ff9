"""Who is here right now: a person counts as connected while one of their streams is open.

Presence lives in the server process and holds only ids and counts. Samantha may tell a
person how many people are connected; she never learns who they are from this.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


class Presence:
    def __init__(self) -> None:
        self._open: Counter[int] = Counter()

    @contextmanager
    def connected(self, person_id: int) -> Iterator[None]:
        """Count ``person_id`` as present for as long as the block runs."""
        self._open[person_id] += 1
        try:
            yield
        finally:
            self._open[person_id] -= 1
            if self._open[person_id] <= 0:
                del self._open[person_id]

    def is_connected(self, person_id: int) -> bool:
        return self._open.get(person_id, 0) > 0

    @property
    def people(self) -> int:
        """How many different people have a stream open."""
        return len(self._open)

    @property
    def streams(self) -> int:
        """How many streams are open, all people together."""
        return sum(self._open.values())
