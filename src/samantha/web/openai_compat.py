"""OpenAI-compatible chat: any OpenAI client talks to a Samantha who remembers.

``POST /v1/chat/completions`` with model ``samantha``. The bearer token names the person
(or the admin token plus ``user``). The server keeps the state: only the client's newest
user message is taken; a request whose messages hold a single user message starts a new
conversation, as a fresh chat in the client does. The client's own system prompt is not
used: Samantha's persona and honesty rules stay hers.

When she is too busy (503 ``busy``, 429 ``too_many_replies``, both with ``Retry-After``)
or the model is down, the person's words are kept; OpenAI clients retry by sending the
same request again, and those words are then answered, not stored a second time.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from samantha.auth import is_admin, person_for_token
from samantha.errors import (
    AuthError,
    InputError,
    ModelError,
    ModelUnavailable,
    NotFound,
    Overloaded,
)
from samantha.reply import Reply, gathered
from samantha.store import Person
from samantha.system import Samantha
from samantha.web.deps import Credentials, System
from samantha.web.errors import client_gone, error_response, outage, refused
from samantha.web.replies import Last, ReplyStream, start_reply

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
MODEL = "samantha"


class Part(BaseModel):
    type: str
    text: str = ""


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[Part] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content if p.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """The OpenAI request; sampling fields clients send are accepted and left to Samantha."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=10_000)
    stream: bool = False
    user: str | None = Field(default=None, max_length=64)


async def _who(sam: Samantha, credentials: Credentials, user: str | None) -> Person:
    if credentials is None:
        raise AuthError("send your Samantha token as the API key")
    token = credentials.credentials
    if is_admin(token, sam.settings.home):
        if not user:
            raise InputError("with the admin token, name the person in `user`")
        person = await sam.person_named(user)
        if person is None:
            raise NotFound(f"no person named {user!r}")
        return person
    person = await person_for_token(sam.store, token)
    if person is None:
        raise AuthError("that API key is not a valid Samantha token")
    return person


@router.get("/models")
async def models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "samantha"}],
    }


async def _conversation(sam: Samantha, person: Person, said: str, fresh: bool) -> int:
    """The conversation this request speaks in, with the person's words stored there once.

    A request that repeats the words left unanswered at the end of the latest conversation
    (kept when she was busy or down) is the client's retry: they are answered as they are.
    """
    latest = await sam.store.latest_conversation(person.id)
    if latest is not None:
        last = await sam.store.messages(person.id, latest.id, limit=2)
        resent = bool(last) and last[-1].role == "user" and last[-1].content == said
        if resent and (not fresh or len(last) == 1):
            return latest.id
    if fresh or latest is None:
        latest = await sam.store.create_conversation(person.id, "OpenAI client")
    await sam.companion.say(person, latest.id, said)
    return latest.id


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatRequest, sam: System, credentials: Credentials, request: Request
) -> Any:
    person = await _who(sam, credentials, body.user)
    said = next((m.text() for m in reversed(body.messages) if m.role == "user"), "")
    if body.messages[-1].role != "user":
        raise InputError("the last message must be the person's (role user)")
    fresh = sum(1 for m in body.messages if m.role == "user") == 1
    conversation_id = await _conversation(sam, person, said, fresh)
    try:
        reply = await start_reply(request, sam.companion, person, conversation_id)
    except Overloaded as exc:
        return refused(exc, f"{exc}; your message is kept: send the same request again")
    except ModelUnavailable as exc:
        return outage(sam.settings.retry_after_s, str(exc))
    except ModelError as exc:
        return error_response(502, exc.code, f"{exc}; your message is kept")
    if reply is None:
        return client_gone()
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        return ReplyStream(reply, _chunks(ident, reply), {"Cache-Control": "no-cache"})
    text = await reply.read_all()
    return {
        "id": ident,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": len(said) // 4 + 1,
            "completion_tokens": len(text) // 4 + 1,
            "total_tokens": (len(said) + len(text)) // 4 + 2,
        },
    }


def _chunk(ident: str, delta: dict[str, str], finish: str | None = None) -> str:
    data = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _chunks(ident: str, reply: Reply) -> AsyncIterator[str]:
    role = _chunk(ident, {"role": "assistant", "content": ""})  # sent with the first words
    try:
        async with aclosing(gathered(reply)) as pieces:
            async for piece in pieces:
                yield role + _chunk(ident, {"content": piece})
                role = ""
    except ModelError as exc:
        error = {"error": {"message": str(exc), "type": "server_error", "code": exc.code}}
        yield Last(role + f"data: {json.dumps(error)}\n\n")
        return
    yield Last(role + _chunk(ident, {}, "stop") + "data: [DONE]\n\n")  # with the body's end
