"""One clock for the heartbeats of every open stream.

A stream that has sent nothing for a while sends a heartbeat, so its client (and any proxy
between) knows it is alive. With a timer of its own, a quiet stream woke every 15 s and
made a timeout, a timer, a coroutine, a future and the steps of every generator between it
and the socket, all of which lived until its next beat. At 8,316 open streams that was
more than 100,000 objects alive at every young collection of the garbage collector, each
walked and each kept: 180-215 ms a collection, every 15 s, with every reply held (issue 4).

Here the streams wait only for their own events. One clock keeps them on a wheel of
:data:`SLOTS` slots an interval, and at each tick beats those of the slot that were quiet
for a whole interval, each beat in a task of its own that ends once it is written (a
client that stops reading holds up only its own beats). Nothing of a beat outlives it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

Beat = Callable[[], Coroutine[Any, Any, None]]
SLOTS = 64  # slots an interval: a beat comes at most 1/64 of an interval late

log = logging.getLogger(__name__)


class Beating:
    """One stream on the clock."""

    __slots__ = ("beat", "last", "slot", "task")

    def __init__(self, beat: Beat, last: float) -> None:
        self.beat = beat
        self.last = last  # when the stream last sent something (loop time)
        self.slot = 0
        self.task: asyncio.Future[None] | None = None  # the beat being written

    def sent(self) -> None:
        """Note that the stream sent something: its next beat is an interval from now."""
        self.last = asyncio.get_running_loop().time()

    def _written(self, task: asyncio.Future[None]) -> None:
        self.task = None
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.debug("a heartbeat was not sent: %r", exc)


class Heartbeats:
    def __init__(self, every: float) -> None:
        if every <= 0:
            raise ValueError(f"a heartbeat interval must be positive, not {every}")
        self.every = every
        self._tick = every / SLOTS
        self._wheel: list[set[Beating]] = [set() for _ in range(SLOTS)]
        self._streams = 0
        self._clock: asyncio.Task[None] | None = None
        self._seen = 0  # the last tick whose slot the clock went through
        self._closed = False

    @property
    def streams(self) -> int:
        """How many streams are on the clock."""
        return self._streams

    @contextmanager
    def beating(self, beat: Beat) -> Iterator[Beating]:
        """Call ``beat`` for as long as the block runs, whenever the stream was quiet for an
        interval; tell the clock of what else it sent through :meth:`Beating.sent`.

        The first beat comes at a random moment of the first interval: streams opened
        together (everyone's app reconnecting after a restart, ``bench load``) would
        otherwise beat together for as long as they stay open, thousands in one tick.
        """
        now = asyncio.get_running_loop().time()
        beating = Beating(beat, now - self.every * random.random())
        self._place(beating, beating.last + self.every)
        self._streams += 1
        self._started(now)
        try:
            yield beating
        finally:
            self._streams -= 1
            self._wheel[beating.slot].discard(beating)
            if beating.task is not None:  # a beat not yet written is not written after
                beating.task.cancel()

    def close(self) -> None:
        """Stop the clock: no stream beats again."""
        self._closed = True
        if self._clock is not None:
            self._clock.cancel()

    def _place(self, beating: Beating, due: float) -> None:
        """Put the stream in the slot of the first tick at or after ``due``."""
        beating.slot = math.ceil(due / self._tick) % SLOTS
        self._wheel[beating.slot].add(beating)

    def _started(self, now: float) -> None:
        if (self._clock is None or self._clock.done()) and not self._closed:
            self._seen = int(now / self._tick)
            self._clock = asyncio.create_task(self._ticking(), name="heartbeats")

    async def _ticking(self) -> None:
        loop = asyncio.get_running_loop()
        while self._streams:
            await asyncio.sleep(max(0.0, (self._seen + 1) * self._tick - loop.time()))
            now = loop.time()
            due = int(now / self._tick)
            # every slot come due, once each, however late the loop woke
            for tick in range(self._seen + 1, min(due, self._seen + SLOTS) + 1):
                self._beat(tick % SLOTS, now, loop)
            self._seen = max(self._seen, due)

    def _beat(self, slot: int, now: float, loop: asyncio.AbstractEventLoop) -> None:
        due_here, self._wheel[slot] = self._wheel[slot], set()
        for beating in due_here:
            due = beating.last + self.every
            if due > now:  # it sent something since it was placed
                self._place(beating, due)
                continue
            if beating.task is None:  # one beat at a time: a slow client gets no queue
                task = loop.create_task(beating.beat())
                beating.task = task
                task.add_done_callback(beating._written)
            beating.last = now
            self._place(beating, now + self.every)
