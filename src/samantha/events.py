"""Each person's event stream: what Samantha sends outside a reply, live and kept.

``publish`` stores the event first, then wakes that person's open streams; a stream reads
from the store after the last id it sent, so an event is never lost between the two and
never sent twice, and a client that reconnects with ``Last-Event-ID`` gets exactly what it
missed. Waiting streams cost one ``asyncio.Event`` each: thousands can be open at once.

An event stored some other way reaches open streams through ``wake`` (one stored inside a
larger transaction, as a farewell is) or through the watch (one stored by another process,
say ``samantha`` on the command line): once every :data:`WATCH_S` while streams are open, one
read finds the people with events newer than the newest seen, and their streams are woken
unless this process told them already. A quiet stream's heartbeat reads nothing: at 8,316
open streams, 15 s apart, those reads were 554 a second, each a point read on the event
loop (issue 4), and another process's event waited up to 15 s for one.

Event ids are reused once the newest events are deleted (a person deleted). When the watch
finds the newest id lower than it was, it wakes every stream; an event another process
keeps in the same moment above the old newest may wait for the person's next event, or
their next connection, to be sent.

A quiet stream waits for its events only: its heartbeats come from one clock for all
(:mod:`samantha.heartbeats`, in :attr:`Events.heartbeats`), which its sender joins.

``close`` ends every stream once it has sent what is kept, so a server can stop.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import defaultdict
from collections.abc import AsyncGenerator
from typing import Any

from samantha.errors import StoreError
from samantha.heartbeats import Heartbeats
from samantha.store import Event, Store

BATCH = 100
WATCH_S = 1.0  # how often the events other processes keep are looked for
HEARTBEAT_S = 15.0

log = logging.getLogger(__name__)


class Events:
    def __init__(
        self, store: Store, watch_s: float = WATCH_S, heartbeat_s: float = HEARTBEAT_S
    ) -> None:
        self.store = store
        self.watch_s = watch_s
        self.heartbeats = Heartbeats(heartbeat_s)
        self._waiting: defaultdict[int, set[asyncio.Event]] = defaultdict(set)
        self._told: dict[int, int] = {}  # person -> their newest event this process woke for
        self._watch: asyncio.Task[None] | None = None
        self.closed = False

    async def publish(self, person_id: int, kind: str, data: dict[str, Any]) -> Event:
        """Keep the event for the person, then hand it to their open streams."""
        event = await self.store.add_event(person_id, kind, data)
        self._told[person_id] = max(event.id, self._told.get(person_id, 0))
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
        self.heartbeats.close()
        if self._watch is not None:
            self._watch.cancel()
        self._wake_all()

    def _wake_all(self) -> None:
        for waiting in list(self._waiting.values()):
            for wake in waiting:
                wake.set()

    async def _watching(self) -> None:
        """Wake the streams of those for whom another process kept events, while any is
        open (see the module's docstring)."""
        newest = -1  # not looked for yet
        while not self.closed and self._waiting:
            try:
                if newest < 0:
                    newest, _ = await self.store.newest_events(None)
                    self._wake_all()  # what was kept before this first look
                await asyncio.sleep(self.watch_s)
                now, newer = await self.store.newest_events(newest)
            except (StoreError, sqlite3.Error) as exc:  # closing, say: the next look may do
                log.warning("events kept elsewhere were not looked for: %s", exc)
                await asyncio.sleep(self.watch_s)
                continue
            if now < newest:  # ids went back (events deleted): look again from the start
                newest = -1
                continue
            for person_id, last in newer.items():
                if self._told.get(person_id, 0) < last:
                    self.wake(person_id)
            newest = now
            self._told = {p: last for p, last in self._told.items() if last > now}
        self._watch = None

    def _watched(self) -> None:
        if (self._watch is None or self._watch.done()) and not self.closed:
            self._watch = asyncio.create_task(self._watching(), name="events-watch")

    async def stream(self, person_id: int, after: int) -> AsyncGenerator[Event, None]:
        """The person's events with ids above ``after``, then new ones as they come, until
        :meth:`close`."""
        wake = asyncio.Event()  # set by ``wake``: something new was kept for the person
        self._waiting[person_id].add(wake)
        self._watched()
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
                await wake.wait()  # the store is read again only when woken
        finally:
            self._discard(person_id, wake)

    def _discard(self, person_id: int, wake: asyncio.Event) -> None:
        waiting = self._waiting.get(person_id)
        if waiting is not None:
            waiting.discard(wake)
            if not waiting:
                del self._waiting[person_id]
