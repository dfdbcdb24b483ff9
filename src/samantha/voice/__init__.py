"""Her voice: hearing a person (voice activity, speech to text) and speaking (text to speech).

Each backend family is a small abstract class with its implementations beside it, picked by
a ``provider:model`` string: :mod:`samantha.voice.stt` (``SAMANTHA_STT``) and
:mod:`samantha.voice.tts` (``SAMANTHA_TTS``). :class:`Voice` holds the loaded pair for a
process; :mod:`samantha.voice.session` runs spoken turns over any two-way channel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from samantha.config import Settings
from samantha.errors import ConfigError, SamanthaError
from samantha.voice.audio import LISTEN_RATE, AudioError, Sound, from_pcm, resample
from samantha.voice.stt import Heard, SpeechToText, load_stt
from samantha.voice.tts import TextToSpeech, load_tts
from samantha.voice.vad import Judge, Listener, silero

__all__ = [
    "LISTEN_RATE",
    "AudioError",
    "Heard",
    "Listener",
    "Sound",
    "SpeechToText",
    "TextToSpeech",
    "Voice",
]
log = logging.getLogger(__name__)
NOT_HEARD = "Sorry, I didn't catch that. Could you say it again?"
HOLD_MS = 3_600_000  # without hands-free, no pause is long enough to end a turn
SHORT_PHRASE_WORDS = 5  # phrases this short are kept once spoken
KEPT_PHRASES = 256  # about 16 MB of her voice
TOO_LONG = "That was a lot at once, and I lost you. Could you say it in shorter pieces?"


class Voice:
    """Her ears and her voice for this process: loaded once, shared by every conversation.

    ``stt`` and ``tts`` may be given (tests pass fakes); otherwise they come from the
    settings. Whatever fails to load is reported by ``error``, not raised.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.settings = settings
        self.error: str | None = None
        self._judge = judge
        self._said: dict[str, Sound] = {}
        self._phrases: OrderedDict[str, Sound] = OrderedDict()  # short phrases, newest last
        self.phrase_hits = self.phrase_misses = 0
        self._ready = asyncio.Event()
        self._stt, self._tts = stt, tts
        try:
            self._stt = stt or load_stt(settings.stt, settings.threads)
            self._tts = tts or load_tts(settings.tts)
        except ConfigError as exc:
            self.error = str(exc)
        if self._stt is None and self.error is None:
            self.error = "voice is switched off (SAMANTHA_STT=none)"

    @property
    def available(self) -> bool:
        return self.error is None

    def describe(self) -> dict[str, Any]:
        """For the status page: can she talk, and with what."""
        if not self.available:
            return {"available": False, "error": self.error}
        return {
            "available": True,
            "ready": self._ready.is_set(),
            "stt": self.stt.name,
            "tts": self.tts.name,
            "phrases_kept": {"hits": self.phrase_hits, "misses": self.phrase_misses},
        }

    @property
    def stt(self) -> SpeechToText:
        if self._stt is None or self.error:
            raise ConfigError(self.error or "no speech to text")
        return self._stt

    @property
    def tts(self) -> TextToSpeech:
        if self._tts is None or self.error:
            raise ConfigError(self.error or "no text to speech")
        return self._tts

    async def start(self) -> None:
        """Load both models and say the usual phrases once, so the first turn is quick."""
        if self.available:
            try:
                await self.stt.start()
                await self.tts.start()
                if self._judge is None:
                    self._judge = await asyncio.to_thread(silero)
                for text in (NOT_HEARD, TOO_LONG):
                    self._said[text] = await self.tts.speak(text)
                phrase = self._said[NOT_HEARD]
                await self.stt.transcribe(resample(from_pcm(phrase.pcm), phrase.rate, LISTEN_RATE))
            except (ImportError, SamanthaError) as exc:
                self.error = f"voice could not start: {exc}"
                log.error("%s", self.error)
        self._ready.set()

    async def ready(self) -> bool:
        """Wait for :meth:`start` (the server starts it in the background); say if usable."""
        await self._ready.wait()
        return self.available

    @property
    def judge(self) -> Judge:
        """Silero's speech probability, once started."""
        if self._judge is None:
            raise ConfigError("the voice is not started")
        return self._judge

    def listener(self, *, hands_free: bool = True) -> Listener:
        """A listener for one conversation. Hands-free, a pause ends the person's turn;
        otherwise only the client does (a released button, the end of a file)."""
        return Listener(
            self.judge,
            end_silence_ms=self.settings.voice_end_silence_ms if hands_free else HOLD_MS,
            max_utterance_s=self.settings.voice_max_utterance_s,
        )

    async def speak(self, text: str) -> Sound:
        """A phrase of her reply, spoken. Short ones (openers like "That's great!" come
        back often, and the first phrase is the one a person waits for) are kept, the
        most recently used :data:`KEPT_PHRASES` of them."""
        if len(text.split()) > SHORT_PHRASE_WORDS:
            return await self.tts.speak(text)
        sound = self._phrases.pop(text, None)
        if sound is None:
            sound = await self.tts.speak(text)
            self.phrase_misses += 1
        else:
            self.phrase_hits += 1
        self._phrases[text] = sound
        while len(self._phrases) > KEPT_PHRASES:
            self._phrases.popitem(last=False)
        return sound

    async def say(self, text: str) -> Sound:
        """A fixed phrase, spoken once and kept."""
        if text not in self._said:
            self._said[text] = await self.tts.speak(text)
        return self._said[text]
