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
A worker starts with the first recall sent its way; a server starts them as it starts, and
each then reads its people's vectors, the most recent first, before it says it is ready. A
worker that dies is replaced and its calls are recalled in the server's own process; so is
every call while workers are starting.
When a person is deleted every worker is replaced, so no process goes on holding anything
of theirs; and workers end with the server, even one that is killed (they read the end of
their socket then). A worker that is up also draws what learning will write for its people
(``memory.draw``); drawing never starts one.

The server and a worker talk over a socket pair that the server's event loop reads and
writes itself: a call is one pickled frame out, its answer one frame back. A process pool
(``concurrent.futures``) did this before through three threads of its own in the server (one
feeding its queue, one reading answers, one waking the loop), each of which had to win the
GIL from the event loop for every recall: at 8,316 people they cost 0.44 ms of the server's
CPU a reply, in a process whose single core of Python is what bounds it (issue 4).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import multiprocessing
import pickle
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from samantha import pauses
from samantha.embeddings import load_embedder
from samantha.memory.draw import Drawer, Drawn
from samantha.memory.kinds import wordnet
from samantha.memory.recall import Recaller, Recollection, Weights, inline
from samantha.store import Store
from samantha.store.relationship import Bond, Milestone
from samantha.tasks import retrieved

log = logging.getLogger(__name__)
DEATHS = 3  # workers dying in a row, none answering between, before recall stays at home
HEADER = 8  # bytes of a frame's length, before the frame
END_WAIT_S = 30.0  # how long an ending worker may take to answer what it was given
WARM_S = 30.0  # the longest a starting worker spends reading its people's vectors
Share = tuple[int, int]  # a worker's people: those whose id is the first modulo the second


class WorkerGone(Exception):
    """The worker ended (killed, out of memory, or it could not start) before answering."""


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to build the server's recaller and drawer: picklable, unlike
    them."""

    store: Callable[[], Store]
    embedder: str | None  # its name (``onnx:minilm+e5:small``), None for none
    weights: Weights
    cache_bytes: int
    self_name: str = "Samantha"  # her name, and the roles memories are drawn from, for
    extract_from: tuple[str, ...] = ("user",)  # drawing what learning writes (memory.draw)


def _frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(data).to_bytes(HEADER, "big") + data


def _serve(connection: socket.socket, recipe: Recipe, share: Share | None) -> None:
    """A worker's life: build the server's recaller and drawer, hold the vectors of its
    ``share`` of the people (when given one), say so, then answer each call in turn until
    the server closes its end (it is done with this worker, or it died)."""
    from samantha import relationship  # it asks this module's workers to count for it

    wordnet()  # recall asks it whether a question asks after several things
    embedder = load_embedder(recipe.embedder) if recipe.embedder else None
    store = recipe.store()
    recaller = Recaller(store, embedder, recipe.weights, recipe.cache_bytes, inline)
    drawer = Drawer(store, embedder, recipe.self_name, recipe.extract_from)
    answers: dict[str, Callable[..., Awaitable[Any]]] = {
        "recall": functools.partial(_recall, recaller),
        "draw": drawer.draw,
        "tally": functools.partial(relationship.tally, store),
    }
    loop = asyncio.new_event_loop()
    held = 0
    if share is not None:
        i, n = share
        people = loop.run_until_complete(store.people_by_recency())
        held = loop.run_until_complete(recaller.warm((p for p in people if p % n == i), WARM_S))
    pauses.settle()  # WordNet and the embedder, walked by every full collection otherwise
    with connection, connection.makefile("rb") as calls:
        connection.sendall(_frame((0, True, held)))  # ready, holding ``held`` people's vectors
        while len(header := calls.read(HEADER)) == HEADER:
            call, kind, args = pickle.loads(calls.read(int.from_bytes(header, "big")))
            try:
                answer = _frame((call, True, loop.run_until_complete(answers[kind](*args))))
            except Exception as exc:  # the caller's to raise, as it would have at home
                try:
                    answer = _frame((call, False, exc))
                except Exception:  # an exception that cannot be pickled
                    answer = _frame((call, False, RuntimeError(repr(exc))))
            connection.sendall(answer)


async def _recall(
    recaller: Recaller,
    person_id: int,
    query: str,
    k: int,
    today: date | None,
    exclude: tuple[int, ...],
    speakers: dict[str, str] | None,
) -> list[Recollection]:
    return await recaller.recall(
        person_id, query, k=k, today=today, exclude=exclude, speakers=speakers
    )


class _Worker:
    """One worker process and the server's end of the socket to it. Its answers are read
    as they arrive (:class:`_Answers`), each settling its call's future there and then."""

    def __init__(
        self, recipe: Recipe, on_end: Callable[[_Worker], None], share: Share | None = None
    ) -> None:
        ours, theirs = socket.socketpair()
        # spawned, not forked: the server has threads (a fork copies their locks mid-use)
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_serve, args=(theirs, recipe, share), daemon=True)
        self.process.start()
        theirs.close()
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.held = 0  # the people whose vectors it read as it started
        self.ready.add_done_callback(retrieved)  # a worker nobody waited for may fail
        self._calls: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._transport: asyncio.Transport | None = None
        self._on_end = on_end
        self.ended = loop.create_task(self._run(ours))

    def call(self, kind: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Send a call (the worker is ready); its future is settled with the answer."""
        assert self._transport is not None, "calls go to a ready worker"
        call = next(self._ids)
        self._calls[call] = answer = asyncio.get_running_loop().create_future()
        self._transport.write(_frame((call, kind, args)))
        return answer

    @property
    def answering(self) -> bool:
        return self.ready.done() and self.ready.exception() is None

    def end(self) -> None:
        """Close the server's end for writing: the worker answers what it was given, then
        reads the end and exits."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write_eof()
        elif self._transport is None:
            self.process.kill()  # still starting: it holds nothing yet

    def answered(self, call: int, ok: bool, value: Any) -> None:
        """An answer has come (call 0: the worker is ready, holding ``value`` people)."""
        if call == 0:
            self.held = value
            log.info("recall worker %d ready, holding %d people", self.process.pid, value)
            self.ready.set_result(None)
            return
        answer = self._calls.pop(call)
        if answer.done():  # its caller went away
            return
        if ok:
            answer.set_result(value)
        else:
            answer.set_exception(value)

    async def _run(self, ours: socket.socket) -> None:
        """Read the worker's answers until it ends; then fail what it did not answer."""
        lost = asyncio.get_running_loop().create_future()
        try:
            self._transport, _ = await asyncio.get_running_loop().create_connection(
                lambda: _Answers(self, lost), sock=ours
            )
            await lost
        except OSError:
            pass  # the worker ended as it started
        finally:
            gone = WorkerGone(f"recall worker {self.process.pid} ended")
            for answer in [self.ready, *self._calls.values()]:
                if not answer.done():
                    answer.set_exception(gone)
            self._calls.clear()
            if self._transport is not None:
                self._transport.close()
            self._on_end(self)
            await asyncio.to_thread(self._reap)

    def _reap(self) -> None:
        self.process.join(END_WAIT_S)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _Answers(asyncio.Protocol):
    """The server's end of a worker's socket: each whole frame that arrives is an answer,
    settled as soon as it is read. A stream reader took one more turn of the event loop
    for every answer (its reading task woken, then the caller): under load a turn of the
    loop took tens of milliseconds, and an answer waited 72 ms for it at the median after
    its worker had finished (``bench load``, 8,316 people, issue 4)."""

    def __init__(self, worker: _Worker, lost: asyncio.Future[None]) -> None:
        self._worker, self._lost = worker, lost
        self._buffer = bytearray()
        self._transport: asyncio.Transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= HEADER:
            end = HEADER + int.from_bytes(buffer[:HEADER], "big")
            if len(buffer) < end:
                return
            frame = buffer[HEADER:end]  # a copy: the buffer goes on
            del buffer[:end]
            try:
                self._worker.answered(*pickle.loads(frame))
            except Exception:  # not an answer to a call it was given: it is ended
                log.exception(
                    "recall worker %d answered what cannot be read", self._worker.process.pid
                )
                self._transport.close()  # its end reads the close, and it exits
                return

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def eof_received(self) -> bool:
        return False  # the worker closed its end: close ours

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)


class RecallWorkers:
    """``processes`` workers, each answering its calls in turn; see the module's docstring."""

    def __init__(self, recipe: Recipe, processes: int) -> None:
        self.recipe = recipe
        # a worker starts with the first recall sent its way: a command that never
        # recalls (``samantha people add``) starts none and does not wait for them to load
        self._workers: list[_Worker | None] = [None] * processes
        self._ending: set[_Worker] = set()  # replaced, answering what they were given
        self.served = 0  # recalls the workers answered (the rest: the server's own process)
        self.drawn = 0  # and draws for learning
        self.deaths = 0  # workers that died since one last answered

    def start(self) -> None:
        """Start every worker now, without waiting for them (a server: it will recall).
        Each holds the vectors of its people, the most recent first, before it says it is
        ready (``started``): a server's first minute is everyone's first recall."""
        if self.deaths < DEATHS:
            for i in range(len(self._workers)):
                self._starting(i, warm=True)

    async def started(self) -> None:
        """Wait until every worker has started (recalls go to them from then on); raises
        :class:`WorkerGone` if one could not start, or they have been given up."""
        if self.deaths >= DEATHS:
            raise WorkerGone(f"recall workers died {self.deaths} times in a row")
        await asyncio.gather(*(self._starting(i).ready for i in range(len(self._workers))))

    def pids(self) -> list[int | None]:
        """Each worker's process id (None: not started)."""
        return [w.process.pid if w is not None else None for w in self._workers]

    def _starting(self, i: int, *, warm: bool = False) -> _Worker:
        worker = self._workers[i]
        if worker is None:
            share = (i, len(self._workers)) if warm else None
            worker = self._workers[i] = _Worker(self.recipe, self._ended, share)
        return worker

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
        if self.deaths >= DEATHS:
            return None
        worker = self._starting(person_id % len(self._workers))
        if not worker.answering:
            return None
        args = (person_id, query, k, today, tuple(exclude), dict(speakers or {}))
        try:
            found: list[Recollection] = await worker.call("recall", args)
        except WorkerGone:
            return None
        self.served, self.deaths = self.served + 1, 0
        return found

    async def draw(self, person_id: int, person_name: str, other_name: str) -> Drawn | None:
        """What learning draws from the person's next unlearned turns (``memory.draw``),
        drawn by their worker; None when they have none. Raises :class:`WorkerGone` when
        the worker cannot (not started: drawing starts none; or it died): the caller draws
        in its own process."""
        drawn: Drawn | None = await self._up(person_id).call(
            "draw", (person_id, person_name, other_name)
        )
        self.drawn += 1
        return drawn

    async def tally(self, person_id: int, now: float) -> tuple[Bond, list[Milestone]]:
        """The person's relationship counted by their worker (``relationship.tally``);
        raises :class:`WorkerGone` as :meth:`draw` does."""
        counted: tuple[Bond, list[Milestone]] = await self._up(person_id).call(
            "tally", (person_id, now)
        )
        return counted

    def _up(self, person_id: int) -> _Worker:
        """The person's worker, if it is up and answering; else :class:`WorkerGone`
        (drawing and counting never start a worker; recall does)."""
        worker = self._workers[person_id % len(self._workers)]
        if self.deaths >= DEATHS or worker is None or not worker.answering:
            raise WorkerGone("no recall worker is answering")
        return worker

    def _ended(self, worker: _Worker) -> None:
        """A worker's process has ended: one replaced or closed was meant to; one still in
        its place died."""
        self._ending.discard(worker)
        if worker not in self._workers:
            return
        i = self._workers.index(worker)
        self._workers[i] = None
        self.deaths += 1
        if self.deaths < DEATHS:
            log.warning("a recall worker died; starting another")
            self._starting(i)
        else:
            log.error(
                "recall workers died %d times in a row; recalling in the server's process "
                "from now on (the server's log and memory may say why)",
                self.deaths,
            )

    def restart(self) -> None:
        """Replace every worker, dropping all they hold (a person was deleted). One still
        starting, or not started, has been given nothing yet, so it is kept: deleting many
        people at once replaces each worker once, not once a person."""
        for i, worker in enumerate(self._workers):
            if worker is not None and worker.ready.done():
                self._workers[i] = None
                self._ending.add(worker)
                worker.end()  # what it was given, it answers first
                self._starting(i)

    async def close(self, *, at_once: bool = False) -> None:
        """End every worker once it has answered what it was given, or ``at_once`` (they
        only read: nothing of theirs is left half-done)."""
        ending = [w for w in self._workers if w is not None] + list(self._ending)
        self._workers = [None] * len(self._workers)
        for worker in ending:
            if at_once:
                worker.process.kill()
            else:
                worker.end()
        await asyncio.gather(*(w.ended for w in ending))  # each ends once its worker has
