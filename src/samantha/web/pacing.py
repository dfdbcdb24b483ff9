"""Event streams opened in a crowd are let in a few at each turn of the event loop.

When the server restarts, or the network comes back, every person's app opens its event
stream again in the same second. Each opening costs the event loop about half a
millisecond (the web stack, the person's token, their newest event), and 8,316 of them
came in together: four seconds of the loop, during which nothing else moved. What waited
was the replies already on their way, and the other requests those apps send as they come
back (a new conversation), which then came through together, 290 messages in half a
second, and their replies were the slowest of the run (``bench load`` at 8,316 people,
issue 4: in three 30 s runs, 71, 191 and 275 replies over 200 ms in the first 20 s,
against 11, 0 and 2 with :data:`OPEN_PER_TURN` at 4).

So a request on one of the paced paths (:class:`Paced`) waits its turn at a
:class:`Turnstile`, which lets at most :data:`OPEN_PER_TURN` through each time the loop
goes round, in the order they came. Everything else waits for one turn's openings at
most, instead of for all of them. A stream opened alone waits for the next turn,
microseconds; a crowd with nothing else to do opens as fast as before (8,316 in 4.9 s
either way), and beside replies under way it takes a few seconds longer.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PER_TURN = 4  # event streams begun each turn of the event loop, at most


class Turnstile:
    """Lets those who wait through, ``per_turn`` at most each turn of the event loop,
    first come first through."""

    def __init__(self, per_turn: int = OPEN_PER_TURN) -> None:
        if per_turn < 1:
            raise ValueError("a turnstile must let at least one through each turn")
        self.per_turn = per_turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turning = False  # a turn is scheduled
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop its line is on

    @property
    def waiting(self) -> int:
        """How many are in line (one given up counts until its turn would have come)."""
        return len(self._waiting)

    async def through(self) -> None:
        """Wait until it is this caller's turn. Cancelled meanwhile, it gives up its place."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a line left on a loop that has ended went with it
            self._waiting.clear()
            self._turning, self._loop = False, loop
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append(turn)
        if not self._turning:
            self._turning = True
            loop.call_soon(self._turn)
        await turn

    def _turn(self) -> None:
        let = 0
        while self._waiting and let < self.per_turn:
            turn = self._waiting.popleft()
            if not turn.done():  # one cancelled while it waited takes no place
                turn.set_result(None)
                let += 1
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._turn)  # the next turn of the loop
        else:
            self._turning = False


class Paced:
    """ASGI middleware: requests for ``paths`` go through a :class:`Turnstile` first."""

    def __init__(self, app: ASGIApp, paths: Collection[str], per_turn: int = OPEN_PER_TURN):
        self.app = app
        self.paths = frozenset(paths)
        self.turnstile = Turnstile(per_turn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            await self.turnstile.through()
        await self.app(scope, receive, send)
