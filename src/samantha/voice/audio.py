"""Sound as Samantha hears and speaks it: 16-bit PCM, checked, converted, kept in WAV files.

She listens to 16 kHz mono 16-bit little-endian PCM (what Whisper was trained on) and
speaks at her voice's own rate. Anything else is refused with an :class:`AudioError` that
says what was wrong and how to convert it, never guessed at.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from samantha.errors import InputError

LISTEN_RATE = 16_000  # samples/s of what she hears
Samples = npt.NDArray[np.float32]  # mono, -1.0 to 1.0
CONVERT = "sox IN.wav -r 16000 -c 1 -b 16 OUT.wav"


class AudioError(InputError):
    """Audio she cannot take: the wrong format, or malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_audio", status=422)


def from_pcm(pcm: bytes) -> Samples:
    """16-bit little-endian PCM as float samples; an odd number of bytes is malformed."""
    if len(pcm) % 2:
        raise AudioError(
            f"{len(pcm)} bytes is not whole 16-bit samples: send 16 kHz mono s16le PCM"
        )
    return (np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def to_pcm(samples: Samples) -> bytes:
    """Float samples as 16-bit little-endian PCM (clipped)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def resample(samples: Samples, rate: int, to: int) -> Samples:
    """Linear resampling: enough for speech going to a recogniser or a test."""
    if rate == to or not len(samples):
        return samples
    count = round(len(samples) * to / rate)
    where = np.linspace(0, len(samples) - 1, count)
    return np.interp(where, np.arange(len(samples)), samples).astype(np.float32)


@dataclass(frozen=True)
class Sound:
    """Mono 16-bit PCM at a sample rate."""

    pcm: bytes
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def wav(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.pcm)
        return out.getvalue()


def read_wav(data: bytes, name: str = "the recording") -> Sound:
    """A WAV file's PCM, if it is mono 16-bit 16 kHz; else an error saying how to convert."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            pcm = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"{name} is not a WAV file she can read ({exc})") from None
    if (channels, width, rate) != (1, 2, LISTEN_RATE):
        raise AudioError(
            f"{name} is {rate} Hz, {channels} channel(s), {8 * width}-bit; she listens to "
            f"16000 Hz mono 16-bit WAV. Convert it first, e.g. `{CONVERT}`"
        )
    if len(pcm) % 2:
        raise AudioError(f"{name} ends part-way through a sample")
    return Sound(pcm, rate)


def trimmed(samples: Samples, floor: float = 0.01) -> Samples:
    """Without the silence before and after the sound (below ``floor``)."""
    loud = np.flatnonzero(np.abs(samples) >= floor)
    return samples[loud[0] : loud[-1] + 1] if loud.size else samples[:0]


def loudness(samples: Samples) -> float:
    """Root-mean-square level, 0.0 to 1.0."""
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
