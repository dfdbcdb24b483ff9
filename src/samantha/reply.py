"""A reply on its way: begun (an :class:`Opening`, nothing stored yet), then kept and
streamed (a :class:`Reply`, which stores itself as it ends).

The reply row is created when the first words are there (so an outage adds no half-reply),
filled in when the stream ends, and marked ``interrupted`` if the stream breaks or its
reader goes away.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import anyio

from samantha.admission import Ticket
from samantha.errors import ModelError
from samantha.mood import Mood
from samantha.store import Message, Person
from samantha.store.base import MessageStatus
from samantha.summary import estimate_tokens

if TYPE_CHECKING:
    from samantha.turn import Companion


@dataclass
class Reply:
    """A reply being streamed. Iterate it once, or close it; it stores itself as it ends.

    It holds one of the model's slots until it ends, so whoever starts a reply must see it
    read to its end or closed.
    """

    companion: Companion
    person: Person
    user_message: Message
    row: Message
    mood: Mood
    _first: str
    _rest: AsyncIterator[str]
    _ticket: Ticket
    asked: float = field(default_factory=time.perf_counter)
    told: int | None = None  # estimated tokens of the conversation it answers (see Opening)
    text: str = ""
    status: MessageStatus = "streaming"
    _consumed: bool = field(default=False, repr=False)
    _pieces: AsyncGenerator[str, None] | None = field(default=None, repr=False)

    def __aiter__(self) -> AsyncIterator[str]:
        if self._consumed:
            raise RuntimeError("a reply can be read only once")
        self._consumed = True
        self._pieces = self._stream()
        return self._pieces

    async def close(self) -> None:
        """Stop the reply where it is and store it, for a reader that left or never came.

        Generation stops and the slot goes to the next reply in line. Closing a reply that
        has ended does nothing.
        """
        if self._pieces is not None:
            await self._pieces.aclose()  # its own ending stores it
        elif not self._consumed:
            self._consumed = True
            await self._end([self._first])

    async def _stream(self) -> AsyncGenerator[str, None]:
        pieces = [self._first]
        companion = self.companion
        companion.metrics.generating.inc()
        try:
            with companion.presence.connected(self.person.id):
                yield self._first
                async for piece in self._rest:
                    pieces.append(piece)
                    yield piece
            self.status = "complete"
        finally:
            companion.metrics.generating.dec()
            await self._end(pieces)

    async def _end(self, pieces: list[str]) -> None:
        self._count(len(pieces))
        self.text = "".join(pieces).strip()
        if self.status != "complete":
            self.status = "interrupted"
        with anyio.CancelScope(shield=True):
            await self._finish()

    def _count(self, pieces: int) -> None:
        metrics = self.companion.metrics
        metrics.turns.labels(self.status if self.status == "complete" else "interrupted").inc()
        metrics.tokens.labels("reply").inc(pieces)
        metrics.reply_time.observe(time.perf_counter() - self.asked)

    async def _finish(self) -> None:
        try:
            try:
                await close_stream(self._rest)  # stops generation when the reader left early
            finally:
                self._ticket.release()  # the model is done with it: the next in line may start
            store = self.companion.store
            await store.finish_message(self.person.id, self.row.id, self.text, self.status)
        finally:
            self.companion.flight.landed()
        if self.status == "complete":
            told = None if self.told is None else self.told + estimate_tokens(self.text)
            self.companion.after_reply(self.person, self.user_message.conversation_id, told)

    @property
    def message(self) -> Message:
        """The stored reply as it stands now."""
        return replace(self.row, content=self.text, status=self.status)

    async def read_all(self) -> str:
        async for _ in self:
            pass
        return self.text


@dataclass
class Opening:
    """A reply begun and nothing of it stored: its first words, the stream of the rest and
    the slot it holds. Keep it (:meth:`Companion.keep`) or drop it."""

    companion: Companion
    person: Person
    said: Message  # what it answers (id 0 if it was not kept yet)
    mood: Mood
    first: str
    rest: AsyncIterator[str]
    ticket: Ticket
    asked: float = field(default_factory=time.perf_counter)
    # estimated tokens of the conversation since its summary, up to the words it answers
    told: int | None = None

    async def drop(self) -> None:
        """Stop writing it and give its slot back; nothing was stored, nothing is."""
        try:
            await close_stream(self.rest)
        finally:
            self.ticket.release()
            self.companion.flight.landed()


async def first_words(stream: AsyncIterator[str]) -> str:
    first = ""
    async for piece in stream:
        first = piece
        if first.strip():
            break
    if not first.strip():
        raise ModelError("the model returned an empty reply; try again")
    return first.lstrip()


SEND_EVERY_S = 0.1  # pieces that come faster than this go out together


async def gathered(
    pieces: AsyncIterable[str], every: float = SEND_EVERY_S
) -> AsyncGenerator[str, None]:
    """The pieces of a reply for the wire: the first at once, then those that come within
    ``every`` seconds of the last one sent joined into one.

    Each event sent costs the server a pass through the web stack and a write to the
    socket: with one event a token, sending was the largest single cost of the server's
    event loop under load (issue 4), and nobody reads faster than ten updates a second.
    A piece is held only while pieces come faster than ``every``: the next one carries it
    (a model that stalls right after it holds it back for that stall). Nothing is dropped:
    the last pieces go when the stream ends, and an error is raised after what came before
    it was sent."""
    clock = time.monotonic
    held: list[str] = []
    sent = -every
    try:
        async for piece in pieces:
            held.append(piece)
            now = clock()
            if now - sent >= every:
                sent = now
                yield "".join(held)
                held.clear()
    except Exception:
        if held:
            yield "".join(held)
        raise
    if held:
        yield "".join(held)


async def close_stream(stream: AsyncIterator[str]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()
