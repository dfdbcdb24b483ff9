"""Recall in processes of its own, so that one server uses more than one core.

A Python process runs one thread of Python at a time (the GIL). Under load, the server's
reads spent most of their time waiting for it: the four reader threads were always busy
but used a fifth of their time, and the server never went past 1.3 cores on a machine with
two and a third of it idle (``bench load``, 1,000 people). Recall is most of those reads
and all of the scoring, and it only reads; so it runs here, in worker processes that each
open the same SQLite file read-only (WAL lets them read while the server writes) and hold
their own vector cache.

Each person is recalled by one worker (``person_id`` modulo their number), so a person's
vectors are cached once, in one process, and each worker holds an equal share of the cache.
A worker starts with the first recall sent its way. A worker that dies is replaced and its
call is recalled in the server's own process; so is every call while workers are starting.
When a person is deleted every worker is replaced, so no process goes on holding anything
of theirs; and workers end with the server, even one that is killed.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date

from samantha.embeddings import load_embedder
from samantha.memory.kinds import wordnet
from samantha.memory.recall import Recaller, Recollection, Weights
from samantha.store import Store

log = logging.getLogger(__name__)
DEATHS = 3  # workers dying in a row, none answering between, before recall stays at home


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to build the server's recaller: picklable, unlike the recaller."""

    store: Callable[[], Store]
    embedder: str | None  # the embedder's name (``onnx:minilm``), None for none
    weights: Weights
    cache_bytes: int


_here: tuple[asyncio.AbstractEventLoop, Recaller] | None = None  # in a worker: its recaller


def _start(recipe: Recipe) -> None:
    """In a new worker: open the store for reading and build the recaller, and end with
    the server, however it ends (killed, it cannot shut its workers down)."""
    global _here
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()
    wordnet()  # recall asks it whether a question asks after several things
    embedder = load_embedder(recipe.embedder) if recipe.embedder else None
    loop = asyncio.new_event_loop()
    _here = loop, Recaller(recipe.store(), embedder, recipe.weights, recipe.cache_bytes)


def _end_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _ready() -> bool:
    return _here is not None


def _recall(
    person_id: int,
    query: str,
    k: int,
    today: date | None,
    exclude: tuple[int, ...],
    speakers: dict[str, str] | None,
) -> list[Recollection]:
    assert _here is not None, "a recall worker runs _start first"
    loop, recaller = _here
    found = recaller.recall(person_id, query, k=k, today=today, exclude=exclude, speakers=speakers)
    return loop.run_until_complete(found)


class RecallWorkers:
    """``processes`` workers, each with one recall at a time; see the module's docstring."""

    def __init__(self, recipe: Recipe, processes: int) -> None:
        self.recipe = recipe
        self._pools = [self._pool() for _ in range(processes)]
        # a worker starts with the first recall sent its way: a command that never
        # recalls (``samantha people add``) starts none and does not wait for them to load
        self._started: list[Future[bool] | None] = [None] * processes
        self.served = 0  # recalls the workers answered (the rest: the server's own process)
        self.deaths = 0  # workers that died since one last answered

    async def started(self) -> None:
        """Wait until every worker has started (recalls go to them from then on)."""
        starting = [self._starting(i) for i in range(len(self._pools))]
        await asyncio.gather(*(asyncio.wrap_future(f) for f in starting))

    def _starting(self, i: int) -> Future[bool]:
        started = self._started[i]
        if started is None:
            started = self._started[i] = self._pools[i].submit(_ready)
        return started

    def _pool(self) -> ProcessPoolExecutor:
        # spawned, not forked: the server has threads (a fork copies their locks mid-use)
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(1, context, initializer=_start, initargs=(self.recipe,))

    async def recall(
        self,
        person_id: int,
        query: str,
        *,
        k: int,
        today: date | None,
        exclude: Sequence[int],
        speakers: Mapping[str, str] | None,
    ) -> list[Recollection] | None:
        """What the person's worker recalls; None when it cannot (starting, or it died):
        then the caller recalls in its own process."""
        i = person_id % len(self._pools)
        pool = self._pools[i]
        if self.deaths >= DEATHS or not self._starting(i).done():
            return None
        args = (person_id, query, k, today, tuple(exclude), dict(speakers or {}))
        try:
            found = await asyncio.wrap_future(pool.submit(_recall, *args))
        except BrokenProcessPool:  # the worker died (killed, out of memory) or never started
            if pool is self._pools[i]:  # not already replaced by a call beside this one
                self._died(i)
            return None
        self.served, self.deaths = self.served + 1, 0
        return found

    def _died(self, i: int) -> None:
        self.deaths += 1
        if self.deaths < DEATHS:
            log.warning("a recall worker died; starting another")
            self._replace(i)
        else:
            log.error(
                "recall workers died %d times in a row; recalling in the server's process "
                "from now on (the server's log and memory may say why)",
                self.deaths,
            )

    def _replace(self, i: int) -> None:
        self._pools[i].shutdown(wait=False)  # what it was given, it answers first
        self._pools[i] = self._pool()
        self._started[i] = self._pools[i].submit(_ready)

    def restart(self) -> None:
        """Replace every worker, dropping all they hold (a person was deleted). One still
        starting, or not started, has been given nothing yet, so it is kept: deleting many
        people at once replaces each worker once, not once a person."""
        for i, started in enumerate(self._started):
            if started is not None and started.done():
                self._replace(i)

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)
