"""A spoken conversation: the person's audio in; her words, and her voice, out.

The same turn as text chat runs underneath (:class:`samantha.turn.Companion`): what the
person said is transcribed and stored as their message before she answers, her reply is
admitted like any other (it may wait for a slot, or be refused with the message kept) and
stored when it ends. While it is being written it is cut into phrases, and each phrase is
spoken and sent as soon as it is complete, so she starts talking long before she is done.

When the person starts speaking while she talks (barge-in), her reply stops where it is
(stored as interrupted) and no more of her audio is sent; the client stops playing what it
has. Whenever the conversation is at rest (when the session opens, as soon as each of her
replies is written, and when the person starts to speak if it has not been done since), it
is read into one of the model's slots, so her next reply reads only the new words. When the person
pauses, what they said is transcribed at once and her reply to it begun, nothing stored,
while the listener waits to be sure they have finished: if they have, their words are kept
and so is the reply, already under way; if they go on speaking, it is dropped.

A :class:`Channel` carries the events (see docs/voice.md) and her audio; the web socket
and the ``samantha voice`` command each provide one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import anyio
import numpy as np

from samantha.errors import ModelError, ModelUnavailable, Overloaded, SamanthaError
from samantha.reply import Opening, Reply
from samantha.store import Message, Person
from samantha.turn import Companion, abandon
from samantha.voice import NOT_HEARD, TOO_LONG, Voice
from samantha.voice.audio import Samples, Sound
from samantha.voice.phrases import Phrases, speakable
from samantha.voice.stt import Heard
from samantha.voice.vad import (
    NothingSaid,
    Paused,
    Resumed,
    SpeechStarted,
    TooLong,
    Utterance,
)

log = logging.getLogger(__name__)


class Channel(Protocol):
    """Where a session's events and audio go. ``Message`` values are stored messages."""

    async def send(self, event: str, **fields: Any) -> None: ...

    async def send_audio(self, pcm: bytes) -> None: ...


@dataclass
class Timings:
    """One turn, in milliseconds from the moment the end of speech was detected. When her
    reply was begun in the pause before it (``begun_in_pause``), what was done before that
    moment counts as 0 for transcribing, and her first words are timed from the end too
    (negative if they came before it)."""

    stt_ms: float | None = None  # transcribing
    asked_ms: float | None = None  # until her reply is asked for (transcript stored, cache read)
    first_token_ms: float | None = None  # from asking for her reply to its first words
    first_sentence_ms: float | None = None  # from her first words (or her keeping them) to a phrase
    tts_ms: float | None = None  # speaking the first phrase
    first_audio_ms: float | None = None  # from the end of speech to her first sound sent
    begun_in_pause: bool = False


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 1)


class VoiceSession:
    """One person talking in one conversation; feed it audio and the client's signals."""

    def __init__(
        self,
        companion: Companion,
        voice: Voice,
        person: Person,
        conversation_id: int,
        channel: Channel,
        *,
        hands_free: bool = True,
    ) -> None:
        self.companion = companion
        self.voice = voice
        self.person = person
        self.conversation_id = conversation_id
        self.channel = channel
        self.listener = voice.listener(hands_free=hands_free)
        self.turns = 0
        self._turn: asyncio.Task[None] | None = None
        self._ahead: asyncio.Task[None] | None = None
        self._read = False  # the conversation as it stands is in the model's cache
        self._early: _Early | None = None  # heard in a pause, and answered
        self._dropping: set[asyncio.Task[None]] = set()
        self._read_ahead()

    async def hear(self, pcm: bytes) -> None:
        """More of the person's audio (16 kHz mono s16le). Raises AudioError if malformed."""
        for event in self.listener.feed(pcm):
            if isinstance(event, SpeechStarted):
                await self.channel.send("listening")
                await self.stop_speaking()
                self._read_ahead()
            elif isinstance(event, Paused):
                self._hear_early(event.samples)
            elif isinstance(event, Resumed):
                self._drop_early()
            elif isinstance(event, Utterance):
                await self._begin(self._answer(event.samples, time.perf_counter()))
            elif isinstance(event, TooLong):
                self._drop_early()
                await self._begin(self._apologise("too_long", TOO_LONG))

    async def end_of_turn(self) -> None:
        """The client says the person has finished (released the button, or the file ended)."""
        event = self.listener.finish()
        if isinstance(event, Utterance):
            await self._begin(self._answer(event.samples, time.perf_counter()))
        elif isinstance(event, NothingSaid):
            self._drop_early()
            await self._begin(self._apologise("no_speech", NOT_HEARD))

    async def stop_speaking(self) -> None:
        """Barge-in: her reply stops where it is (stored as interrupted)."""
        turn = self._turn
        if turn is not None and not turn.done():
            turn.cancel()
            await asyncio.wait((turn,))
            await self.channel.send("interrupted")

    async def finished(self) -> None:
        """Wait for the turn under way, if any (the command line waits for her answer), and
        stop reading ahead for a next turn that will not come."""
        if self._turn is not None:
            await asyncio.wait((self._turn,))
        await self.close()

    async def close(self) -> None:
        """The client left: stop what is under way; her reply so far is stored."""
        self._drop_early()
        for task in (self._turn, self._ahead):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait((task,))
        if self._dropping:
            await asyncio.wait(self._dropping)

    async def _begin(self, work: Coroutine[Any, Any, None]) -> None:
        await self.stop_speaking()
        self.turns += 1
        self._turn = asyncio.create_task(self._guarded(work))

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        """A turn that fails says so to the client, and the conversation goes on."""
        try:
            await work
        except SamanthaError as exc:
            await self._error(exc)
        except Exception:
            log.exception("a voice turn failed in conversation %s", self.conversation_id)
            with contextlib.suppress(Exception):
                await self.channel.send(
                    "error", code="voice_failed", message="something went wrong; say it again"
                )

    def _read_ahead(self) -> None:
        if not self._read and (self._ahead is None or self._ahead.done()):
            self._read = True
            self._ahead = asyncio.create_task(
                self.companion.read_ahead(self.person, self.conversation_id)
            )

    def _hear_early(self, samples: Samples) -> None:
        """The person paused: transcribe what they said and begin her reply to it. If they
        go on speaking, or pause again later, it is dropped."""
        self._drop_early()
        self._early = early = _Early(samples)
        early.task = asyncio.create_task(self._answer_early(early))

    async def _answer_early(self, early: _Early) -> tuple[Heard, Opening | None]:
        heard = await self.voice.stt.transcribe(early.samples)
        early.heard_at = time.perf_counter()
        if not heard.caught:
            return heard, None
        # one slot reads this conversation: after what it is reading, and after the reply
        # begun in an earlier pause has given it back
        waits = [*self._dropping, *([self._ahead] if self._ahead is not None else [])]
        if waits:
            await asyncio.wait(waits)
        try:
            opening = await self.companion.open(self.person, self.conversation_id, heard.text)
        except SamanthaError:  # asked again at the end, where the person is told what went wrong
            return heard, None
        early.opened_at = time.perf_counter()
        return heard, opening

    def _drop_early(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            dropping = asyncio.create_task(early.drop())
            self._dropping.add(dropping)
            dropping.add_done_callback(self._dropping.discard)

    async def _heard(
        self, samples: Samples, ended: float, timings: Timings
    ) -> tuple[Heard, Opening | None]:
        """What the person said, and her reply to it if it was begun in the pause before the
        end (the pause was the end when its samples are the utterance's)."""
        early, self._early = self._early, None
        if early is not None and np.array_equal(early.samples, samples):
            heard, opening = await early.task
            timings.stt_ms = max(0.0, round(1000 * (early.heard_at - ended), 1))
            if opening is not None:
                timings.begun_in_pause = True
                timings.first_token_ms = round(1000 * (early.opened_at - ended), 1)
            return heard, opening
        if early is not None:  # they went on speaking: what was heard in the pause is stale
            await early.drop()
        heard = await self.voice.stt.transcribe(samples)
        timings.stt_ms = _ms(ended)
        return heard, None

    async def _kept(self, heard: Heard) -> Message | None:
        """Keep what the person said and tell the client; None if it cannot be kept."""
        if not heard.caught:
            await self._apologise("unclear", NOT_HEARD)
            return None
        try:
            message = await self.companion.say(
                self.person, self.conversation_id, heard.text, learn=False
            )
        except SamanthaError as exc:
            await self._error(exc)
            return None
        self._read = False
        await self.channel.send("heard", text=heard.text, message=message)
        return message

    async def _apologise(self, reason: str, text: str) -> None:
        await self.channel.send("not_heard", reason=reason, text=text)
        await self._play(text, await self.voice.say(text))

    async def _play(self, text: str, sound: Sound) -> None:
        await self.channel.send("speaking", text=text, sample_rate=sound.rate, bytes=len(sound.pcm))
        await self.channel.send_audio(sound.pcm)

    async def _answer(self, samples: Samples, ended: float) -> None:
        timings = Timings()
        heard, opening = await self._heard(samples, ended, timings)
        try:
            message = await self._kept(heard)
        except BaseException:
            await _drop(opening)
            raise
        if message is None:
            await _drop(opening)
            return
        try:
            if opening is None and self._ahead is not None:  # the slot it filled: use it
                await asyncio.wait((self._ahead,))
            asked = time.perf_counter()
            timings.asked_ms = _ms(ended)
            reply = await self._reply(message, opening)
            if reply is not None:
                if opening is None:
                    timings.first_token_ms = _ms(asked)
                await self._speak(reply, ended, timings)
        finally:  # her reply has read its memories: now learn from what they said
            self.companion.learn_now(self.person)

    async def _reply(self, message: Message, opening: Opening | None) -> Reply | None:
        """Her reply to ``message``: the one begun in the pause, kept, or a new one."""
        companion = self.companion
        starting = asyncio.ensure_future(
            companion.keep(opening, message)
            if opening is not None
            else companion.reply(self.person, self.conversation_id)
        )
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            await abandon(starting)
            raise
        except SamanthaError as exc:
            await self._error(exc, kept_message=message)
            return None

    async def _speak(self, reply: Reply, ended: float, timings: Timings) -> None:
        speaker = _Speaker(self, ended, timings)
        phrases, first_words = Phrases(), time.perf_counter()
        try:
            try:
                async for piece in reply:
                    await self.channel.send("reply", text=piece)
                    for phrase in phrases.feed(piece):
                        if timings.first_sentence_ms is None:
                            timings.first_sentence_ms = _ms(first_words)
                        speaker.say(phrase)
            except ModelError as exc:
                await self._error(exc)
            finally:
                with anyio.CancelScope(shield=True):
                    await reply.close()
            self._read = False
            self._read_ahead()  # her reply is written: read it in while she is still speaking
            for phrase in phrases.flush():
                if timings.first_sentence_ms is None:  # her whole reply was one phrase
                    timings.first_sentence_ms = _ms(first_words)
                speaker.say(phrase)
            await speaker.done()
        finally:
            await speaker.cancel()
        await self.channel.send("done", message=reply.message, timings=asdict(timings))

    async def _error(self, exc: SamanthaError, **fields: Any) -> None:
        kept = " (your words are kept: she can answer them later)" if fields else ""
        if isinstance(exc, Overloaded):
            fields["retry_after"] = exc.retry_after
        if isinstance(exc, ModelUnavailable):
            text = f"Operating System Not Found: {exc}{kept}"
        else:
            text = f"{exc}{kept}"
        await self.channel.send("error", code=exc.code, message=text, **fields)


@dataclass
class _Early:
    """What the person said up to a pause, heard, and her reply to it begun."""

    samples: Samples
    task: asyncio.Task[tuple[Heard, Opening | None]] = field(init=False)
    heard_at: float = 0.0  # when the words were transcribed
    opened_at: float = 0.0  # when her reply's first words were written

    async def drop(self) -> None:
        """Stop it wherever it is; a reply it began is dropped, and nothing was stored."""
        self.task.cancel()
        await asyncio.wait((self.task,))
        if not self.task.cancelled() and self.task.exception() is None:
            await _drop(self.task.result()[1])


async def _drop(opening: Opening | None) -> None:
    if opening is not None:
        with anyio.CancelScope(shield=True):
            await opening.drop()


class _Speaker:
    """Speaks phrases in order, one after another, while the reply is still being written."""

    def __init__(self, session: VoiceSession, ended: float, timings: Timings) -> None:
        self.session = session
        self.ended = ended
        self.timings = timings
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    def say(self, phrase: str) -> None:
        self._queue.put_nowait(phrase)

    async def done(self) -> None:
        self._queue.put_nowait(None)
        await asyncio.wait((self._task,))
        self._task.result()

    async def cancel(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        voice = self.session.voice
        while (phrase := await self._queue.get()) is not None:
            text = speakable(phrase)
            if not text:
                continue
            started = time.perf_counter()
            try:
                sound = await voice.speak(text)
            except SamanthaError as exc:
                await self.session.channel.send("error", code=exc.code, message=str(exc))
                continue
            if self.timings.tts_ms is None:
                self.timings.tts_ms = _ms(started)
            await self.session._play(phrase, sound)
            if self.timings.first_audio_ms is None:
                self.timings.first_audio_ms = _ms(self.ended)
