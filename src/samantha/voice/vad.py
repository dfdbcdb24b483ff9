"""Voice activity: where a person starts speaking, and where they have finished.

A :class:`Listener` is fed 16 kHz audio as it arrives and says what happened: speech began
(she stops talking: barge-in), the person paused (a short silence that may be the end:
what they said can be transcribed, and her answer begun, while the listener waits to be
sure), they went on after such a pause, an utterance ended (enough silence after speech),
an utterance ran too long, or, when the client says it is done, that nothing was said.

Speech is told from silence and noise by Silero VAD (the model bundled with
faster-whisper, run on ONNX): unlike an energy or WebRTC detector it does not take steady
noise or hum for a voice, so a fan or a hiss never starts a turn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from samantha.voice.audio import LISTEN_RATE, Samples, from_pcm

CHUNK = 512  # samples Silero judges at a time (32 ms)
CHUNK_S = CHUNK / LISTEN_RATE
THRESHOLD = 0.5  # speech at or above this probability
SILENT = 0.35  # silence below it; in between keeps the state it is in
ONSET_CHUNKS = 3  # about 100 ms of speech starts an utterance
PRE_ROLL_CHUNKS = 10  # keep 320 ms before the onset: the first sound is often soft
TAIL_CHUNKS = 3  # keep about 100 ms after the last speech (and pause after as long)

Judge = Callable[[Samples], float]
"""The probability that the last CHUNK samples of the given audio are speech."""


def silero() -> Judge:
    """Silero VAD from faster-whisper's assets (needs the ``voice`` extra)."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()

    def judge(window: Samples) -> float:
        # two chunks, so the second is judged with its context, as Silero runs on a file
        return float(np.ravel(model(window))[-1])

    return judge


@dataclass(frozen=True)
class SpeechStarted:
    """The person began to speak."""


@dataclass(frozen=True)
class Utterance:
    """What the person said, from a little before they began to a little after they ended."""

    samples: Samples

    @property
    def seconds(self) -> float:
        return len(self.samples) / LISTEN_RATE


@dataclass(frozen=True)
class Paused:
    """The person stopped for a moment; if the utterance ends here, it is these samples
    (the same array :class:`Utterance` will hold), so work on them can start early."""

    samples: Samples


@dataclass(frozen=True)
class Resumed:
    """The person spoke again after a pause: what was said before it was not all."""


@dataclass(frozen=True)
class TooLong:
    """The person spoke past the limit; what follows is ignored until they pause."""

    limit_s: float


@dataclass(frozen=True)
class NothingSaid:
    """The client ended a turn (released the button, or a file ended) with no speech in it."""


Event = SpeechStarted | Paused | Resumed | Utterance | TooLong | NothingSaid


class Listener:
    """Finds utterances in a stream of audio. Not thread-safe: one per conversation."""

    def __init__(self, judge: Judge, *, end_silence_ms: int, max_utterance_s: float) -> None:
        self.judge = judge
        self.end_chunks = max(1, round(end_silence_ms / 1000 / CHUNK_S))
        self.max_chunks = int(max_utterance_s / CHUNK_S)
        self.max_utterance_s = max_utterance_s
        self.state = "quiet"  # "quiet", "speaking" or "overflow"
        self._pending = np.zeros(0, dtype=np.float32)
        self._previous = np.zeros(CHUNK, dtype=np.float32)
        self._before: deque[Samples] = deque(maxlen=PRE_ROLL_CHUNKS)
        self._chunks: list[Samples] = []
        self._voiced = 0  # chunks of speech in a row, towards an onset
        self._quiet = 0  # chunks of silence since the last speech
        self._last_voice = 0  # index in _chunks just after the last speech

    def feed(self, pcm: bytes) -> list[Event]:
        """Take more audio (16 kHz mono s16le); an odd byte count raises AudioError."""
        samples = from_pcm(pcm)
        if self._pending.size:
            samples = np.concatenate([self._pending, samples])
        whole = len(samples) - len(samples) % CHUNK
        self._pending = samples[whole:]
        events: list[Event] = []
        for start in range(0, whole, CHUNK):
            event = self._chunk(samples[start : start + CHUNK])
            if event is not None:
                events.append(event)
        return events

    def finish(self) -> Event | None:
        """The client says the turn is over: what they said, or that they said nothing."""
        state, self.state = self.state, "quiet"
        if state == "speaking":
            return self._utterance()
        self._reset()
        return None if state == "overflow" else NothingSaid()

    def _chunk(self, chunk: Samples) -> Event | None:
        probability = self.judge(np.concatenate([self._previous, chunk]))
        self._previous = chunk
        speech, silent = probability >= THRESHOLD, probability < SILENT
        if self.state == "quiet":
            return self._while_quiet(chunk, speech, silent)
        if self.state == "overflow":
            self._quiet = self._quiet + 1 if silent else 0
            if self._quiet >= self.end_chunks:
                self.state = "quiet"
                self._reset()
            return None
        self._chunks.append(chunk)
        resumed = speech and self._quiet >= TAIL_CHUNKS  # after a pause was told
        if speech:
            self._quiet = 0
            self._last_voice = len(self._chunks)
        elif silent:
            self._quiet += 1
        if self._quiet >= self.end_chunks:
            self.state = "quiet"
            return self._utterance()
        if silent and self._quiet == TAIL_CHUNKS:  # all of it, if the silence goes on
            return Paused(self._spoken())
        if len(self._chunks) >= self.max_chunks:
            self.state = "overflow"
            self._chunks = []
            self._quiet = 0
            return TooLong(self.max_utterance_s)
        return Resumed() if resumed else None

    def _while_quiet(self, chunk: Samples, speech: bool, silent: bool) -> Event | None:
        self._before.append(chunk)
        self._voiced = self._voiced + 1 if speech else (0 if silent else self._voiced)
        if self._voiced < ONSET_CHUNKS:
            return None
        self.state = "speaking"
        self._chunks = list(self._before)
        self._last_voice = len(self._chunks)
        self._quiet = 0
        return SpeechStarted()

    def _utterance(self) -> Utterance:
        samples = self._spoken()
        self._reset()
        return Utterance(samples)

    def _spoken(self) -> Samples:
        kept = self._chunks[: self._last_voice + TAIL_CHUNKS]
        samples = np.concatenate(kept) if kept else np.zeros(0, dtype=np.float32)
        return samples.astype(np.float32)

    def _reset(self) -> None:
        self._chunks = []
        self._before.clear()
        self._voiced = self._quiet = self._last_voice = 0
