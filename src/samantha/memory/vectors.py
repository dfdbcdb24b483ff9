"""People's dense vectors held in memory, kept up to date a few rows at a time.

Every turn adds a vector or two to the person's memory. Reading all of them again for the
next turn (hundreds of rows of a kilobyte) cost more than the dense search itself, so the
cache asks the store only for what was added since the version it holds
(:meth:`Store.vectors_since`) and appends it; only a removal (a forgotten memory) makes it
read everything again. Each kind is kept in item id order, as a fresh read gives it, so a
ranking from an updated copy is the ranking a fresh read would give.

Everything is read through the store with the person's id and held under that id.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from samantha.config import VECTOR_CACHE_MB
from samantha.store import Store, VectorBlock, VectorChanges

log = logging.getLogger(__name__)
Ids = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.floating[Any]]  # 32-bit floats, or 16-bit for a short kind (below)
# a kind of at most this many rows is held in 16-bit floats: half the memory, and a
# cosine similarity moves by less than a thousandth. Widening them for the product
# (:func:`similarities`) costs under a nanosecond a part every recall: less than reading
# them again, as the recall of anyone not held does: 8,316 people's 32-bit vectors (3.4 GB)
# did not fit the default cache, two in five of them left out (issue 4). A long history
# keeps 32 bits, where widening would cost tens of milliseconds (300 against 95 ms a recall
# at 100,000 turns, all held in 16 bits, when widening took 3 ns a part)
HALF_ROWS = 1024
# 16-bit floats widened by their bits: shifted into a 32-bit float's places, the sign kept
# and the three bits above the exponent cleared, then scaled by the difference of the two
# exponent biases (15 against 127), which also makes a 16-bit subnormal a normal number
_HALF_PLACES = np.int32(-0x70002000)  # 0x8FFFE000: the sign, and 15 bits of the 16 moved up
_HALF_SCALE = np.float32(2.0**112)
# the smallest subnormal, a negative subnormal, a negative zero and the largest 16-bit float
_HALF_PROBE = np.array([2.0**-24, -(2.0**-15), -0.0, 65504.0], np.float16)
# rows of room left at the end of a kind when it is read: about four exchanges' turns. Only
# people who go on talking need more, and get an eighth more each time it runs out. Room
# for half as many again at every read (as before) made 8,316 people with 200 memories
# each need 2.6 GB a recall process instead of 1.8 GB, so that a 1 GB cache held a
# third of them and every other recall read its person's 400 vectors again (issue 4)
SPARE = 16


def similarities(matrix: Matrix, q: npt.NDArray[np.float32]) -> Matrix:
    """``matrix @ q`` in 32 bits, also for a matrix held in 16.

    NumPy widens 16-bit floats one part at a time here, about 3 ns each (0.33 ms for 400
    rows of 256 parts: a sixteenth of a recall at 8,316 people, issue 4); moved into place
    by whole-array integer steps they cost under 0.8 ns, and come out the same: every
    finite 16-bit float widens exactly (the tests try all of them). A processor told to
    take subnormal numbers for zero (DAZ, which some libraries set) would spoil the
    scaling: the probe finds that out, and NumPy's widening is used then."""
    if matrix.dtype != np.float16:
        return matrix @ q
    if not np.array_equal(_widened(_HALF_PROBE), _HALF_PROBE.astype(np.float32)):
        return matrix.astype(np.float32) @ q
    return _widened(matrix) @ q


def _widened(halves: npt.NDArray[np.float16]) -> npt.NDArray[np.float32]:
    bits = halves.view(np.int16).astype(np.int32)  # the sign copied into the top bits
    bits <<= 13
    bits &= _HALF_PLACES
    wide = bits.view(np.float32)
    wide *= _HALF_SCALE
    return wide


class _Room:
    """Arrays with room at the end, shared by the successive copies of one person's kind;
    ``used`` is how much of them the newest copy holds (only it may append in place)."""

    def __init__(self, ids: Ids, matrix: Matrix, used: int) -> None:
        self.ids, self.matrix, self.used = ids, matrix, used

    @classmethod
    def holding(cls, ids: Ids, matrix: Matrix, spare: int) -> _Room:
        n, dim = matrix.shape
        held = np.float16 if n + spare <= HALF_ROWS else np.float32
        room = cls(np.empty(n + spare, np.int64), np.empty((n + spare, dim), held), n)
        room.ids[:n], room.matrix[:n] = ids, matrix
        return room


@dataclass(frozen=True)
class Kind:
    """One kind of a person's vectors (turns or memories), in item id order."""

    room: _Room
    n: int

    @property
    def ids(self) -> Ids:
        return self.room.ids[: self.n]

    @property
    def matrix(self) -> Matrix:
        return self.room.matrix[: self.n]

    @classmethod
    def of(cls, ids: Ids, matrix: Matrix, spare: int = SPARE) -> Kind:
        return cls(_Room.holding(ids, matrix, spare), len(ids))

    def added(self, new_ids: Ids, new: Matrix) -> Kind:
        """This kind with ``new`` vectors brought in (replacing any with the same id)."""
        k, room = len(new_ids), self.room
        if not k:
            return self
        ids, n = self.ids, self.n
        later = not n or new_ids[0] > ids[-1]  # new_ids are sorted
        if later and room.used == n and n + k <= len(room.ids):
            room.ids[n : n + k], room.matrix[n : n + k] = new_ids, new
            room.used = n + k
            return Kind(room, n + k)
        kept = ~np.isin(ids, new_ids)  # a replaced vector leaves its old self behind
        merged = np.concatenate((ids[kept], new_ids))
        order = np.argsort(merged, kind="stable")
        matrix = np.concatenate((self.matrix[kept], new))[order]
        return Kind.of(merged[order], matrix, len(merged) // 8 + SPARE)  # they talk: room

    @property
    def nbytes(self) -> int:
        return int(self.room.ids.nbytes + self.room.matrix.nbytes)


@dataclass(frozen=True)
class Vectors:
    """One person's vectors as of ``version``."""

    version: int
    turns: Kind
    memories: Kind

    @classmethod
    def read(cls, changes: VectorChanges, dim: int) -> Vectors:
        return cls(
            changes.version,
            _kind(changes.blocks, "turn", dim),
            _kind(changes.blocks, "memory", dim),
        )

    def updated(self, changes: VectorChanges, dim: int) -> Vectors:
        """These vectors with what changed since brought in."""
        if changes.complete:
            return Vectors.read(changes, dim)
        return Vectors(
            changes.version,
            self.turns.added(*_rows(changes.blocks, "turn", dim)),
            self.memories.added(*_rows(changes.blocks, "memory", dim)),
        )

    @property
    def nbytes(self) -> int:
        return self.turns.nbytes + self.memories.nbytes


def _rows(blocks: Sequence[VectorBlock], kind: str, dim: int) -> tuple[Ids, Matrix]:
    """The ids and vectors of one kind, in id order. A vector of another size was made by
    another embedder (``SAMANTHA_EMBEDDER`` changed since it was learned): it cannot be
    compared with this one's, so it is left out, and that turn is found by its words until
    its person next learns (``Memory._learn_vectors`` makes it again)."""
    size = dim * 4  # float32
    block = next((b for b in blocks if b.item == kind), None)
    if block is None or not block.ids:
        return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
    ids, sizes = np.array(block.ids, dtype=np.int64), np.array(block.sizes, dtype=np.int64)
    joined = block.joined
    if (sizes != size).any():
        _warn_foreign()
        ends = np.cumsum(sizes)
        mine = sizes == size
        joined = b"".join(joined[e - size : e] for e in ends[mine].tolist())
        ids = ids[mine]
    matrix = np.frombuffer(joined, dtype=np.float32).reshape(-1, dim)
    if len(ids) > 1 and (ids[1:] < ids[:-1]).any():
        order = np.argsort(ids, kind="stable")
        ids, matrix = ids[order], matrix[order]
    return ids, matrix


def _kind(blocks: Sequence[VectorBlock], kind: str, dim: int) -> Kind:
    return Kind.of(*_rows(blocks, kind, dim))


@functools.cache
def _warn_foreign() -> None:
    log.warning(
        "some vectors were made by another embedder (SAMANTHA_EMBEDDER changed): they are"
        " left out of recall, and their turns and memories are found by their words alone"
        " until their people next learn, when they are made again"
    )


class VectorCache:
    """The vectors of the people who talked most recently, up to ``limit`` bytes."""

    def __init__(self, store: Store, dim: int, limit: int = VECTOR_CACHE_MB << 20) -> None:
        self.store, self.dim, self.limit = store, dim, limit
        self._held: OrderedDict[int, Vectors] = OrderedDict()
        self._bytes = 0

    def __contains__(self, person_id: object) -> bool:
        return person_id in self._held

    @property
    def nbytes(self) -> int:
        return self._bytes

    def forget(self, person_id: int) -> None:
        """Drop what is held of the person (they were deleted, or it is being renewed)."""
        dropped = self._held.pop(person_id, None)
        if dropped is not None:
            self._bytes -= dropped.nbytes

    async def warm(self, people: Iterable[int], seconds: float) -> int:
        """Read the vectors of ``people`` (the most recent first) until the next would not
        fit in fifteen sixteenths of the cache or ``seconds`` have passed, so that their
        first recall reads none; how many were read. Nothing held is dropped for them, and
        the most recent are the last to be dropped later. A recall that read a person's
        vectors took 5.1 ms of CPU against 3.1 ms for one that found them held (400 of
        8,316 people, issue 4), and a server that starts meets everyone's first."""
        until, room, read = time.monotonic() + seconds, self.limit * 15 // 16, 0
        for person_id in people:
            if time.monotonic() > until:
                break
            if person_id in self._held:
                continue
            changes = await self.store.vectors_since(person_id, 0)
            if changes.version == 0:
                continue
            entry = Vectors.read(changes, self.dim)
            if self._bytes + entry.nbytes > room:
                break
            self._held[person_id] = entry
            self._held.move_to_end(person_id, last=False)  # behind the more recent
            self._bytes += entry.nbytes
            read += 1
        return read

    async def get(self, person_id: int) -> Vectors | None:
        """The person's vectors as the store has them now; ``None`` if they have none."""
        held = self._held.get(person_id)
        changes = await self.store.vectors_since(person_id, held.version if held else 0)
        self.forget(person_id)
        if changes.version == 0:
            return None
        entry = held.updated(changes, self.dim) if held else Vectors.read(changes, self.dim)
        self._held[person_id] = entry
        self._bytes += entry.nbytes
        while self._bytes > self.limit and len(self._held) > 1:
            _, dropped = self._held.popitem(last=False)
            self._bytes -= dropped.nbytes
        return entry
