"""A person's event stream (server-sent events): proactive messages, notices and counts.

Each kept event carries an ``id:``; reconnect with ``Last-Event-ID`` (or ``?after=``) to
receive exactly what was missed. Without either, the stream starts from now. The first
event is ``hello`` (the newest id, and how many people are connected); ``counts`` comes as
a heartbeat whenever nothing else happened for a while.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import Field
from starlette.types import Receive, Scope, Send

from samantha.store import Event, Person
from samantha.system import Samantha
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import ItemId, Strict

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RECONNECT_MS = 3000
PATH = "/v1/events"


class NewNotice(Strict):
    text: str = Field(min_length=1, max_length=2000)


def _sse(kind: str, data: Any, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def as_sse(event: Event) -> str:
    return _sse(event.kind, {**event.data, "at": event.created_at}, event.id)


@router.get(PATH, responses={200: {"content": {"text/event-stream": {}}}})
async def events(
    person: CurrentPerson,
    sam: System,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="resume after this id")] = None,
) -> Response:
    """Your event stream. You count as connected while it is open."""
    start = last_event_id if last_event_id is not None else after
    if start is None:
        start = await sam.store.last_event_id(person.id)
    return EventStream(sam, person, start)


class EventStream(Response):
    """The stream itself, sent straight to the server rather than through a
    ``StreamingResponse``: its heartbeats are written by the one clock of
    :mod:`samantha.heartbeats`, so a quiet stream's coroutines stay asleep until its person
    has an event, and it needs no task group to notice its client going, only one task that
    waits for that (objects kept for every open stream are walked by every full collection
    of the garbage collector: issue 4)."""

    media_type = "text/event-stream"

    def __init__(self, sam: Samantha, person: Person, after: int) -> None:
        self.sam, self.person, self.after = sam, person, after
        self.status_code = 200
        self.background = None
        self.init_headers(SSE_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sam, person = self.sam, self.person
        status, headers = self.status_code, self.raw_headers
        await send({"type": "http.response.start", "status": status, "headers": headers})

        async def chunk(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        async def beat() -> None:
            await chunk(_sse("counts", {"connected": sam.presence.people}))

        served = asyncio.current_task()
        assert served is not None  # the server runs every request in a task
        gone = asyncio.create_task(_gone(receive, served))
        try:
            with sam.presence.connected(person.id), sam.events.heartbeats.beating(beat) as beats:
                hello = {"after": self.after, "connected": sam.presence.people}
                await chunk(f"retry: {RECONNECT_MS}\n\n" + _sse("hello", hello))  # one write
                async with aclosing(sam.events.stream(person.id, self.after)) as stream:
                    async for event in stream:
                        await chunk(as_sse(event))
                        beats.sent()
        except asyncio.CancelledError:
            if not gone.done() or gone.cancelled():
                raise  # not the client's going: the server's
            served.uncancel()
            return  # the client went: nothing more to send it
        finally:
            gone.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()


async def _gone(receive: Receive, served: asyncio.Task[Any]) -> None:
    """Wait for the client to go, then end the stream serving it. A body it should not
    have sent (over the limit, say) ends it too."""
    try:
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception as exc:  # whatever it was, the stream is over
        log.info("an event stream's request failed: %r", exc)
    served.cancel()


@router.post("/v1/people/{person_id}/notices", status_code=202, dependencies=[Admin])
async def notice(person_id: ItemId, body: NewNotice, sam: System) -> Response:
    """Send one person a notice from the operator, live or kept for when they return."""
    await sam.events.publish(person_id, "notice", {"text": body.text})
    return Response(status_code=202)
