"""Conversations and messages, with replies streamed as server-sent events.

Events of a streamed reply, in order: ``accepted`` (your message, now stored), ``token``
(a piece of her reply, repeated), then ``done`` (the stored reply) or ``error``.

When too many replies are on the way the message is still stored, and the answer is 503
``busy`` or 429 ``too_many_replies`` with ``Retry-After`` and the ``kept_message``; ask
for the reply later with ``POST .../reply``, as after an outage.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Query, Request

from samantha.errors import Departing, ModelError, ModelUnavailable, Overloaded
from samantha.reply import Reply, gathered
from samantha.store import Person
from samantha.system import Samantha
from samantha.turn import Saying
from samantha.web.deps import CurrentPerson, System
from samantha.web.errors import client_gone, error_body, error_response, outage, refused
from samantha.web.replies import Last, ReplyStream, start_reply
from samantha.web.schemas import (
    LARGEST_ID,
    BeforeId,
    ConversationOut,
    ItemId,
    MessageOut,
    NewConversation,
    NewMessage,
    ReplyOut,
)

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("", status_code=201)
async def create_conversation(
    person: CurrentPerson, sam: System, body: NewConversation | None = None
) -> ConversationOut:
    conversation = await sam.store.create_conversation(person.id, body.title if body else "")
    return ConversationOut.of(conversation)


@router.get("")
async def list_conversations(
    person: CurrentPerson, sam: System, limit: int = Query(50, ge=1, le=500)
) -> list[ConversationOut]:
    return [ConversationOut.of(c) for c in await sam.store.conversations(person.id, limit)]


@router.get("/{conversation_id}/messages")
async def list_messages(
    conversation_id: ItemId,
    person: CurrentPerson,
    sam: System,
    before: BeforeId = None,
    after: int = Query(0, ge=0, le=LARGEST_ID, description="only messages newer than this id"),
    limit: int = Query(50, ge=1, le=500),
) -> list[MessageOut]:
    """A page of the conversation, oldest first; page back with ``before``."""
    await sam.store.conversation(person.id, conversation_id)
    found = await sam.store.messages(
        person.id, conversation_id, after_id=after, before_id=before, limit=limit
    )
    return [MessageOut.of(m) for m in found]


REPLY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}},
    429: {"description": "you have too many replies on the way; message kept, see Retry-After"},
    503: {"description": "model down or too busy; message kept, see Retry-After"},
}


@router.post("/{conversation_id}/messages", responses=REPLY_RESPONSES)
async def send_message(
    conversation_id: ItemId, body: NewMessage, person: CurrentPerson, sam: System, request: Request
) -> Any:
    """Say something. Your message is stored before her first word reaches you."""
    saying = sam.companion.saying(person, conversation_id, body.content)
    return await _answer(request, sam, person, conversation_id, saying, stream=body.stream)


@router.post("/{conversation_id}/reply", responses=REPLY_RESPONSES)
async def retry_reply(
    conversation_id: ItemId,
    person: CurrentPerson,
    sam: System,
    request: Request,
    stream: bool = True,
) -> Any:
    """Answer the newest unanswered message again, after an outage, a refusal when she was
    busy, or an interrupted reply."""
    if await sam.store.departure() is not None:
        raise Departing()  # a new reply; those already under way still finish
    return await _answer(request, sam, person, conversation_id, None, stream=stream)


async def _answer(
    request: Request,
    sam: Samantha,
    person: Person,
    conversation_id: int,
    saying: Saying | None,
    *,
    stream: bool,
) -> Any:
    retry = f"POST /v1/conversations/{conversation_id}/reply"
    try:
        reply = await start_reply(request, sam.companion, person, conversation_id, saying)
    except (Overloaded, ModelError) as exc:
        message = await saying.kept if saying else None  # its own error first: none kept
        kept = {"kept_message": MessageOut.of(message).model_dump()} if message else {}
        if isinstance(exc, Overloaded):
            return refused(
                exc, f"{exc}; your message is kept: ask for her reply with {retry}", **kept
            )
        if isinstance(exc, ModelUnavailable):
            return outage(sam.settings.retry_after_s, str(exc), **kept)
        return error_response(
            502, exc.code, f"{exc}; your message is kept, retry with {retry}", **kept
        )
    except Exception:
        if saying is not None and not saying.kept.cancelled():
            await saying.kept  # why the words could not be kept comes first
        raise
    if reply is None:
        return client_gone()
    if not stream:
        await reply.read_all()
        return ReplyOut(
            message=MessageOut.of(reply.user_message), reply=MessageOut.of(reply.message)
        )
    return ReplyStream(reply, _events(reply), SSE_HEADERS)


async def _events(reply: Reply) -> AsyncIterator[str]:
    """The reply's events: "accepted" goes out with her first words (a reply has them
    when it starts) and "done" or "error" with the end of the body, two writes a reply
    fewer (see ReplyStream)."""
    accepted = sse("accepted", {"message": MessageOut.of(reply.user_message).model_dump()})
    try:
        async with aclosing(gathered(reply)) as pieces:
            async for piece in pieces:
                yield accepted + sse("token", {"text": piece})
                accepted = ""
    except ModelError as exc:
        reason = error_body(exc.code, f"{exc}; the partial reply is kept as interrupted")
        yield Last(accepted + sse("error", reason))
        return
    yield Last(accepted + sse("done", {"message": MessageOut.of(reply.message).model_dump()}))
