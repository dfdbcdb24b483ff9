"""The voice socket, ``/v1/voice``: talk with her, and hear her answer as she thinks.

The protocol (audio format, every event, errors and close codes) is in docs/voice.md.
Browsers cannot set headers on a WebSocket, so the token may come as a subprotocol,
``bearer.<token>``, offered beside ``samantha.voice``; other clients send the usual
``Authorization: Bearer`` header. The token never goes in the address, where logs keep it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from samantha.auth import person_for_token
from samantha.errors import DEPARTING, NotFound
from samantha.store import Conversation, Message, Person
from samantha.system import Samantha
from samantha.voice import LISTEN_RATE, AudioError, Voice
from samantha.voice.session import VoiceSession
from samantha.web.schemas import LARGEST_ID, MessageOut

router = APIRouter(tags=["voice"])
SUBPROTOCOL = "samantha.voice"
TOKEN_PREFIX = "bearer."
MAX_FRAME_BYTES = 64 * 1024  # two seconds of 16 kHz audio; a client sends far less at once
UNAUTHORIZED, BAD_REQUEST, NOT_FOUND, UNAVAILABLE, TOO_BIG = 4401, 4400, 4404, 4503, 1009
MODES = ("hands-free", "hold")


class SocketChannel:
    """A session's events as JSON text frames and her audio as binary frames, in order."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._lock = asyncio.Lock()

    @property
    def open(self) -> bool:
        return self.websocket.application_state == WebSocketState.CONNECTED

    async def send(self, event: str, **fields: Any) -> None:
        body = {"type": event, **{k: _plain(v) for k, v in fields.items()}}
        async with self._lock:
            if self.open:
                await self.websocket.send_text(json.dumps(body, ensure_ascii=False))

    async def send_audio(self, pcm: bytes) -> None:
        async with self._lock:
            if self.open:
                await self.websocket.send_bytes(pcm)

    async def refuse(self, code: int, error: str, message: str) -> None:
        await self.send("error", code=error, message=message)
        async with self._lock:
            if self.open:
                await self.websocket.close(code)


def _plain(value: Any) -> Any:
    return MessageOut.of(value).model_dump() if isinstance(value, Message) else value


def _token(websocket: WebSocket) -> str | None:
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    for offered in websocket.scope.get("subprotocols", []):
        if offered.startswith(TOKEN_PREFIX):
            return str(offered[len(TOKEN_PREFIX) :])
    return None


@router.websocket("/v1/voice")
async def voice_socket(
    websocket: WebSocket, conversation_id: int | None = None, mode: str = "hands-free"
) -> None:
    """Talk with her: 16 kHz mono PCM in, events and her voice out (see docs/voice.md).

    ``mode=hands-free`` (the default): a pause ends the person's turn; ``mode=hold``: only
    an ``end`` message does (a hold-to-talk button)."""
    sam: Samantha = websocket.app.state.samantha
    voice: Voice = websocket.app.state.voice
    wanted = SUBPROTOCOL if SUBPROTOCOL in websocket.scope.get("subprotocols", []) else None
    await websocket.accept(subprotocol=wanted)
    channel = SocketChannel(websocket)
    token = _token(websocket)
    person = await person_for_token(sam.store, token) if token else None
    if person is None:
        await channel.refuse(
            UNAUTHORIZED,
            "unauthorized",
            "send your token as `Authorization: Bearer <token>` or as the subprotocol "
            f"{TOKEN_PREFIX}<token>",
        )
        return
    if not await voice.ready():
        await channel.refuse(UNAVAILABLE, "voice_unavailable", voice.error or "no voice")
        return
    if await sam.store.departure() is not None:
        await channel.refuse(UNAVAILABLE, "departing", DEPARTING)
        return
    if mode not in MODES:
        await channel.refuse(BAD_REQUEST, "bad_mode", f"mode is one of {', '.join(MODES)}")
        return
    try:
        conversation = await _conversation(sam, person, conversation_id)
    except NotFound as exc:
        await channel.refuse(NOT_FOUND, exc.code, str(exc))
        return
    hands_free = mode == "hands-free"
    session = VoiceSession(
        sam.companion, voice, person, conversation.id, channel, hands_free=hands_free
    )
    await channel.send(
        "ready",
        conversation_id=conversation.id,
        sample_rate=LISTEN_RATE,
        format="pcm_s16le",
        max_frame_bytes=MAX_FRAME_BYTES,
        end_silence_ms=sam.settings.voice_end_silence_ms,
        max_utterance_s=sam.settings.voice_max_utterance_s,
        voice=voice.tts.name,
        mode=mode,
    )
    try:
        await _converse(websocket, channel, session)
    finally:
        await session.close()


async def _conversation(sam: Samantha, person: Person, wanted: int | None) -> Conversation:
    if wanted is not None and not 1 <= wanted <= LARGEST_ID:  # SQLite could not even look
        raise NotFound(f"conversation {wanted} not found")
    if wanted is not None:
        return await sam.store.conversation(person.id, wanted)
    latest = await sam.store.latest_conversation(person.id)
    return latest or await sam.store.create_conversation(person.id)


async def _converse(websocket: WebSocket, channel: SocketChannel, session: VoiceSession) -> None:
    while True:
        frame = await websocket.receive()
        if frame["type"] == "websocket.disconnect":
            return
        data, text = frame.get("bytes"), frame.get("text")
        if data is not None:
            if len(data) > MAX_FRAME_BYTES:
                await channel.refuse(
                    TOO_BIG, "frame_too_large", f"audio frames are at most {MAX_FRAME_BYTES} bytes"
                )
                return
            try:
                await session.hear(data)
            except AudioError as exc:
                await channel.send("error", code=exc.code, message=str(exc))
        elif text is not None:
            await _signal(channel, session, text)


async def _signal(channel: SocketChannel, session: VoiceSession, text: str) -> None:
    try:
        kind = json.loads(text).get("type")
    except (ValueError, AttributeError):
        kind = None
    if kind == "end":
        await session.end_of_turn()
    elif kind == "cancel":
        await session.stop_speaking()
    else:
        await channel.send(
            "error",
            code="bad_message",
            message='text frames are JSON: {"type": "end"} or {"type": "cancel"}; '
            "audio goes in binary frames",
        )
