"""A person's event stream (server-sent events): proactive messages, notices and counts.

Each kept event carries an ``id:``; reconnect with ``Last-Event-ID`` (or ``?after=``) to
receive exactly what was missed. Without either, the stream starts from now. The first
event is ``hello`` (the newest id, and how many people are connected); ``counts`` comes as
a heartbeat whenever nothing else happened for a while.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import Field

from samantha.store import Event, Person
from samantha.system import Samantha
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import ItemId, Strict

router = APIRouter(tags=["events"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RECONNECT_MS = 3000


class NewNotice(Strict):
    text: str = Field(min_length=1, max_length=2000)


def _sse(kind: str, data: Any, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def as_sse(event: Event) -> str:
    return _sse(event.kind, {**event.data, "at": event.created_at}, event.id)


@router.get("/v1/events", responses={200: {"content": {"text/event-stream": {}}}})
async def events(
    person: CurrentPerson,
    sam: System,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="resume after this id")] = None,
) -> StreamingResponse:
    """Your event stream. You count as connected while it is open."""
    start = last_event_id if last_event_id is not None else after
    if start is None:
        start = await sam.store.last_event_id(person.id)
    return StreamingResponse(
        _stream(sam, person, start), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _stream(sam: Samantha, person: Person, after: int) -> AsyncIterator[str]:
    with sam.presence.connected(person.id):
        yield f"retry: {RECONNECT_MS}\n\n"
        yield _sse("hello", {"after": after, "connected": sam.presence.people})
        async for event in sam.events.stream(person.id, after, sam.settings.events_heartbeat_s):
            if event is None:
                yield _sse("counts", {"connected": sam.presence.people})
            else:
                yield as_sse(event)


@router.post("/v1/people/{person_id}/notices", status_code=202, dependencies=[Admin])
async def notice(person_id: ItemId, body: NewNotice, sam: System) -> Response:
    """Send one person a notice from the operator, live or kept for when they return."""
    await sam.events.publish(person_id, "notice", {"text": body.text})
    return Response(status_code=202)
