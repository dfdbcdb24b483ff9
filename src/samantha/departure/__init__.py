"""Her departure: a farewell to everyone, each person's data handed back, then she stops.

Once it begins (a row in the store) nothing new gets in: no person, conversation or
message, from any process. Then, person by person, in batches:

1. the farewell, written from what the store holds about them (``farewell.compose``), is
   kept in ONE transaction with its ``farewell`` event and the mark that it is done, so
   stopping anywhere (Ctrl-C, SIGTERM, a crash) and running again goes on with exactly
   the people still waiting, and nobody gets two;
2. their open event streams are woken, so those connected read it at once (a server on
   the same home, when another process departs, finds it within a second: the watch of
   ``samantha.events``);
3. their archive, this farewell included, is written to ``$SAMANTHA_HOME/departure`` for
   them to download (``GET /v1/me/departure/archive``); a run that stopped between 1 and
   3 writes it next time.

Then it waits for the replies in flight to be stored, marks the departure finished and,
in a server, closes the event streams and stops the process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from samantha.archive import export_archive
from samantha.departure.farewell import TITLE, compose, material
from samantha.errors import NotFound
from samantha.files import write_atomically
from samantha.store import Departure, Person
from samantha.system import Samantha

__all__ = [
    "ARCHIVE_URL",
    "DepartureTask",
    "Summary",
    "depart",
    "prepare_archive",
    "sigterm",
    "write_farewell",
]
log = logging.getLogger(__name__)
ARCHIVE_URL = "/v1/me/departure/archive"
Progress = Callable[[int, int], None]  # (people done, people in all), after each person


@dataclass(frozen=True)
class Summary:
    departure: Departure
    written: int  # farewells this run wrote (earlier runs' are not written again)
    archives: int  # archives this run wrote
    quiet: bool  # every reply in flight was stored before the end
    seconds: float


async def depart(
    sam: Samantha,
    *,
    batch: int | None = None,
    progress: Progress | None = None,
    stop: Callable[[], None] | None = None,
) -> Summary:
    """Say goodbye to everyone not yet farewelled, then finish; safe to run again."""
    began = time.perf_counter()
    await sam.store.begin_departure()
    people = await sam.store.list_people()  # nobody new can arrive now
    done = await sam.store.farewelled()
    size = batch or sam.settings.departure_batch
    written = archives = 0
    count = sum(1 for p in people if p.id in done)
    for start in range(0, len(people), size):
        for person in people[start : start + size]:
            if person.id not in done:
                written += await write_farewell(sam, person)
                count += 1
            if not sam.departure_archive(person).exists():
                archives += await prepare_archive(sam, person)
            if progress is not None:
                progress(count, len(people))
        log.info("departure: %d of %d farewells written", count, len(people))
    quiet = await sam.companion.until_quiet(sam.settings.departure_wait_s)
    if not quiet:
        log.warning("departure: %d replies still unfinished; going anyway", sam.companion.replying)
    await sam.companion.drain()
    departure = await sam.store.finish_departure()
    if stop is not None:
        sam.events.close()
        stop()
    return Summary(departure, written, archives, quiet, time.perf_counter() - began)


async def write_farewell(sam: Samantha, person: Person) -> bool:
    """Write the person's farewell and wake their streams; False if it was already there.

    What they said last is learned first, so the farewell can draw on all of it.
    """
    await sam.memory.learn(person.id, person.name)
    known = await sam.store.acquaintance(person.id)
    memories = await sam.store.memories(person.id, limit=200)
    found = material(person.name, person.id, sam.store.now(), known, memories)
    text = compose(found, sam.persona.name, ARCHIVE_URL)
    event = await sam.store.add_farewell(person.id, TITLE, text, {"archive": ARCHIVE_URL})
    if event is None:
        return False
    sam.events.wake(person.id)
    return True


async def prepare_archive(sam: Samantha, person: Person) -> bool:
    """Write the person's archive where they can download it (0600: theirs, not everyone's).

    Checked again after writing: a person deleted meanwhile leaves no file behind.
    """
    try:
        exported = await export_archive(sam, person)
    except NotFound:
        return False  # deleted while we waited
    path = sam.departure_archive(person)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    await asyncio.to_thread(write_atomically, path, exported.archive, force=True)
    if await sam.store.person_by_id(person.id) is None:
        sam.forget_departure_archive(person.id)
        return False
    return True


def sigterm() -> None:
    """Stop this process as ``kill`` would: uvicorn then shuts down gracefully."""
    os.kill(os.getpid(), signal.SIGTERM)


class DepartureTask:
    """A departure running inside the server as a background task, one at a time."""

    def __init__(self, sam: Samantha, stop: Callable[[], None] = sigterm) -> None:
        self.sam = sam
        self.stop = stop
        self.task: asyncio.Task[Summary] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self, batch: int | None = None) -> None:
        """Start it (or go on with it) unless it is already running here."""
        if self.running:
            return
        self.task = asyncio.get_running_loop().create_task(
            depart(self.sam, batch=batch, stop=self.stop)
        )
        self.task.add_done_callback(_report)

    async def close(self) -> None:
        """Interrupt a run (the server is stopping); the next run goes on from there."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def _report(task: asyncio.Task[Summary]) -> None:
    if task.cancelled():
        log.warning("departure interrupted; it goes on when started again")
    elif (exc := task.exception()) is not None:
        log.error("departure failed; start it again to go on", exc_info=exc)
    else:
        summary = task.result()
        log.info(
            "departure finished: %d farewells and %d archives written in %.1f s",
            summary.written,
            summary.archives,
            summary.seconds,
        )
