"""Each person's event stream: what Samantha sends outside a reply, live and kept.

``publish`` stores the event first, then wakes that person's open streams; a stream reads
from the store after the last id it sent, so an event is never lost between the two and
never sent twice, and a client that reconnects with ``Last-Event-ID`` gets exactly what it
missed. Waiting streams cost one ``asyncio.Event`` each: thousands can be open at once.

An event stored some other way (inside a larger transaction, as a farewell is, or by another
process) reaches open streams through ``wake``, or at the latest with the next heartbeat.
``close`` ends every stream once it has sent what is kept, so a server can stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from collections.abc import AsyncGenerator
from typing import Any

from samantha.store import Event, Store

BATCH = 100


class Events:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._waiting: defaultdict[int, set[asyncio.Event]] = defaultdict(set)
        self.closed = False

    async def publish(self, person_id: int, kind: str, data: dict[str, Any]) -> Event:
        """Keep the event for the person, then hand it to their open streams."""
        event = await self.store.add_event(person_id, kind, data)
        self.wake(person_id)
        return event

    def wake(self, person_id: int) -> None:
        """Tell the person's open streams that something new was kept for them.

        For events stored by another write (a farewell or a follow-up is stored with its
        message in one transaction): call it after that write commits, and the streams read
        it once.
        """
        for wake in self._waiting.get(person_id, ()):
            wake.set()

    def close(self) -> None:
        """End every stream after it has sent what is kept; new streams end at once too."""
        self.closed = True
        for waiting in list(self._waiting.values()):
            for wake in waiting:
                wake.set()

    async def stream(
        self, person_id: int, after: int, heartbeat: float
    ) -> AsyncGenerator[Event | None, None]:
        """The person's events with ids above ``after``, then new ones as they come.

        Yields ``None`` when nothing happened for ``heartbeat`` seconds, so the caller can
        show it is alive.
        """
        wake = asyncio.Event()  # set by ``wake``: something new was kept for the person
        self._waiting[person_id].add(wake)
        # the first heartbeat at a random moment of the first ``heartbeat`` seconds: streams
        # opened together (everyone's app reconnecting after a restart, ``bench load``)
        # would otherwise beat together for as long as they stay open, thousands in the
        # same second; at 8,316 people that second's work held up every reply behind it
        # once every 15 s (issue 4)
        quiet = heartbeat * (1.0 - random.random())
        try:
            while True:
                wake.clear()  # before reading: what is kept after the read sets it again
                batch = await self.store.events_after(person_id, after, BATCH)
                for event in batch:
                    after = event.id
                    yield event
                if batch:  # read on until a read finds nothing more
                    continue
                if self.closed:
                    return
                # a quiet stream's heartbeats: one timer each, not a task, and the store
                # is read again only when woken or once a heartbeat (another process's
                # events: see the module's docstring)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(quiet):
                        await wake.wait()
                if not wake.is_set():
                    yield None
                quiet = heartbeat
        finally:
            self._discard(person_id, wake)

    def _discard(self, person_id: int, wake: asyncio.Event) -> None:
        waiting = self._waiting.get(person_id)
        if waiting is not None:
            waiting.discard(wake)
            if not waiting:
                del self._waiting[person_id]
