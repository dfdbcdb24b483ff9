"""Admission: which replies may use the model now, which wait in line, which are refused.

The model generates a fixed number of replies at once (llama.cpp's parallel slots, batched
together). Replies beyond that wait in a bounded line served round-robin by person, so one
person with many replies pending cannot delay anyone else's first. When the line is full a
new reply is refused at once (``Busy``, HTTP 503), and one person may have only a few
replies waiting or generating (``TooManyReplies``, HTTP 429). Both carry a retry time
estimated from how long recent replies held their slot: a quick, clear refusal instead of
a timeout, for a message that is already stored and can be answered later.

A reply takes a :class:`Ticket` as it begins (the only moment it can be refused), takes a
slot only when it needs the model, and gives both back when it ends, however it ends.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, OrderedDict, deque
from typing import Literal

from samantha.config import Settings
from samantha.errors import Busy, TooManyReplies
from samantha.llm import LLM

SERVER_SLOTS = 16  # a model server batches on its own side; send it this many at once
RECENT = 32  # slot times the retry estimate averages over
State = Literal["entered", "waiting", "running", "done"]


class Ticket:
    """One reply's place: counted against its person until released, holding a slot while
    the model generates it."""

    def __init__(self, admission: Admission, person_id: int) -> None:
        self.admission = admission
        self.person_id = person_id
        self.state: State = "entered"
        self.since = 0.0  # when it took its slot
        self.turn: asyncio.Future[None] | None = None  # resolved when a slot is handed over

    async def slot(self) -> None:
        """Wait for a slot: at once if one is free, else in line until it is this one's turn.

        Cancelled while in line, the ticket leaves the line without taking a slot.
        """
        await self.admission.wait_for_slot(self)

    def release(self) -> None:
        """Give back the slot (to the next in line) and the place; later calls do nothing."""
        self.admission.release(self)


class Admission:
    """``slots`` replies generate at once, ``queue`` more may wait, ``per_person`` each."""

    def __init__(self, slots: int, queue: int, per_person: int, *, guess: float = 5.0) -> None:
        self.slots = slots
        self.queue = queue
        self.per_person = per_person
        self.deepest = 0  # the longest the line has been; never above ``queue``
        self._guess = guess  # a reply's length in seconds, until some have been measured
        self._free = slots
        self._admitted = 0
        self._held: Counter[int] = Counter()  # tickets not yet released, by person
        self._line: OrderedDict[int, deque[Ticket]] = OrderedDict()  # by person, round-robin
        self._waiting = 0
        self._durations: deque[float] = deque(maxlen=RECENT)

    @classmethod
    def for_model(cls, settings: Settings, llm: LLM) -> Admission:
        """Sized to the model's own parallel slots, unless the operator says otherwise."""
        slots = settings.reply_concurrency or llm.parallel or SERVER_SLOTS
        queue = slots * settings.reply_queue_per_slot
        return cls(slots, queue, settings.replies_per_person, guess=settings.retry_after_s)

    @property
    def running(self) -> int:
        """Slots in use."""
        return self.slots - self._free

    @property
    def waiting(self) -> int:
        """Replies in line for a slot."""
        return self._waiting

    @property
    def admitted(self) -> int:
        """Replies let in and not yet ended: generating, in line, or about to be."""
        return self._admitted

    def enter(self, person_id: int, *, always: bool = False) -> Ticket:
        """A place for one more reply of ``person_id``, or a refusal with a retry time.

        ``always`` admits past every limit: only for answers the system writes itself (a
        person in crisis), which never take a slot.
        """
        if always:
            return self._admit(person_id)
        if self._held[person_id] >= self.per_person:
            raise TooManyReplies(
                f"you already have {self._held[person_id]} replies on the way; "
                f"wait for one to finish (about {self._reply_seconds():.0f} s)",
                retry_after=math.ceil(self._reply_seconds()),
            )
        if self._admitted >= self.slots + self.queue:
            wait = self._line_wait()
            raise Busy(
                f"she is talking with as many people as she can right now ({self.running} "
                f"replies, {self.waiting} waiting); try again in about {wait} s",
                retry_after=wait,
            )
        return self._admit(person_id)

    def _admit(self, person_id: int) -> Ticket:
        self._admitted += 1
        self._held[person_id] += 1
        return Ticket(self, person_id)

    async def wait_for_slot(self, ticket: Ticket) -> None:
        if ticket.state != "entered":
            raise RuntimeError(f"a {ticket.state} ticket cannot take a slot")
        if self._free:  # slots are only ever free while nobody is in line
            self._free -= 1
            self._run(ticket)
            return
        ticket.turn = asyncio.get_running_loop().create_future()
        ticket.state = "waiting"
        self._line.setdefault(ticket.person_id, deque()).append(ticket)
        self._waiting += 1
        self.deepest = max(self.deepest, self._waiting)
        try:
            await ticket.turn
        except asyncio.CancelledError:
            if ticket.state == "waiting":
                self._leave_line(ticket)
            raise  # a slot handed over meanwhile goes on when the caller releases the ticket

    def release(self, ticket: Ticket) -> None:
        if ticket.state == "done":
            return
        if ticket.state == "waiting":
            self._leave_line(ticket)
            if ticket.turn is not None:
                ticket.turn.cancel()
        elif ticket.state == "running":
            self._durations.append(time.monotonic() - ticket.since)
            self._hand_on()
        ticket.state = "done"
        self._admitted -= 1
        self._held[ticket.person_id] -= 1
        if self._held[ticket.person_id] <= 0:
            del self._held[ticket.person_id]

    def _hand_on(self) -> None:
        """Give a freed slot to the next person in line (round-robin), or keep it free."""
        while self._line:
            person_id, tickets = next(iter(self._line.items()))
            ticket = tickets[0]
            self._leave_line(ticket)
            if person_id in self._line:
                self._line.move_to_end(person_id)  # their next reply waits for everyone else's
            if ticket.turn is not None and not ticket.turn.done():
                self._run(ticket)
                ticket.turn.set_result(None)
                return
            # that waiter was cancelled and has not run yet: it has left the line
        self._free += 1

    def _run(self, ticket: Ticket) -> None:
        ticket.state = "running"
        ticket.since = time.monotonic()

    def _leave_line(self, ticket: Ticket) -> None:
        tickets = self._line[ticket.person_id]
        tickets.remove(ticket)
        if not tickets:
            del self._line[ticket.person_id]
        self._waiting -= 1
        ticket.state = "entered"

    def _reply_seconds(self) -> float:
        """How long a reply holds its slot, on average over the recent ones."""
        if not self._durations:
            return self._guess
        return sum(self._durations) / len(self._durations)

    def _line_wait(self) -> int:
        """Seconds until the line as it stands now has moved into the slots."""
        return math.ceil(self._reply_seconds() * max(1, self._waiting) / self.slots)
