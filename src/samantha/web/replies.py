"""Her replies over HTTP: nothing waits or generates for a client that has gone away.

A reply may wait in line for one of the model's slots before its first word. The ASGI
server does not cancel a handler when its client disconnects, so :func:`start_reply`
watches for the disconnect itself and takes the reply out of the line. Once a reply has
started, :class:`ReplyStream` closes it however the response ends, even when the client
left before the body began, so its slot always goes to the next person.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from samantha.reply import Reply
from samantha.store import Person
from samantha.turn import Companion, Saying, abandon


async def start_reply(
    request: Request,
    companion: Companion,
    person: Person,
    conversation_id: int,
    saying: Saying | None = None,
) -> Reply | None:
    """Start her reply (to ``saying``, when given: see :meth:`Companion.reply`), or return
    ``None`` if the client disconnects before it starts.

    Errors from :meth:`Companion.reply` (a refusal, an outage) are raised as they are.
    """
    starting = asyncio.ensure_future(companion.reply(person, conversation_id, saying))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((starting, gone), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # this handler itself was cancelled
        gone.cancel()
        await abandon(starting)
        raise
    gone.cancel()
    if starting.done():
        return starting.result()
    await abandon(starting)
    return None


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


class Last(str):
    """The last part of a streamed reply's body: :class:`ReplyStream` sends it with the
    body's end."""


class ReplyStream(StreamingResponse):
    """A streamed reply that is closed (stored, its slot given back) however it ends.

    Its body's :class:`Last` part goes out with the end of the body, in one write to the
    socket where Starlette makes two: every write passes through the whole web stack, and
    writing was the largest single cost of the server's event loop under load (issue 4).
    """

    def __init__(self, reply: Reply, body: AsyncIterator[str], headers: Mapping[str, str]) -> None:
        super().__init__(body, media_type="text/event-stream", headers=headers)
        self.reply = reply

    async def stream_response(self, send: Send) -> None:
        headers = self.raw_headers
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        async for part in self.body_iterator:
            last = isinstance(part, Last)
            body = part.encode(self.charset) if isinstance(part, str) else bytes(part)
            await send({"type": "http.response.body", "body": body, "more_body": not last})
            if last:
                return  # the body iterator is closed on the way out (__call__)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                closer = getattr(self.body_iterator, "aclose", None)
                if closer is not None:
                    await closer()
                await self.reply.close()
