"""Fewer and shorter pauses of the garbage collector, for a process holding many objects
for long: a server with thousands of open event streams, or the load generator driving it.

Python's collector walks every object it tracks in a full pass, and starts one whenever
the objects promoted out of the young generations since the last reach a quarter of
those it kept then. With the default young threshold (700 new objects) everything living
past a few milliseconds, which is all of a reply while it streams, was promoted; with
8,316 event streams open the server tracked 1.8 million objects, and it walked them all
every 6-10 s, for 0.8-1.2 s each time, holding every reply (issue 4: 16 s of 120). With a
young generation of 100,000 a reply's objects mostly die young, by their counts, and
are never promoted. Garbage in cycles still counts towards the young threshold, so it
is still collected: at most that many objects wait for it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 100_000  # new objects between collections of the young generation (default 700)
OLDER = (20, 10)  # young collections per middle one, and middle ones per full pass


def settle() -> None:
    """Set what is loaded now aside for good (never walked, never collected), and let
    the young generation grow as above. For the rest of the process's life."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *OLDER)


@contextmanager
def settled() -> Iterator[None]:
    """:func:`settle` for a block, then the collector as it was."""
    before = gc.get_threshold()
    settle()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
