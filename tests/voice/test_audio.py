"""Audio she is given is checked, not guessed at: wrong formats are refused with a way out."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from samantha.voice.audio import AudioError, Sound, from_pcm, read_wav, resample, to_pcm


def wav(rate: int = 16000, channels: int = 1, width: int = 2, frames: int = 1600) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames * channels * width))
    return out.getvalue()


def test_a_16khz_mono_wav_is_read() -> None:
    sound = read_wav(wav())
    assert sound.rate == 16000 and sound.seconds == pytest.approx(0.1)
    assert read_wav(sound.wav()) == sound


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (wav(rate=44100), "44100 Hz"),
        (wav(channels=2), "2 channel(s)"),
        (wav(width=1), "8-bit"),
        (b"RIFF not really a wave file", "not a WAV file"),
        (b"", "not a WAV file"),
    ],
)
def test_other_formats_are_refused_with_how_to_convert(data: bytes, said: str) -> None:
    with pytest.raises(AudioError) as refused:
        read_wav(data, "q.wav")
    assert said in str(refused.value)
    assert refused.value.code == "bad_audio"
    if "Hz" in said or "channel" in said or "bit" in said:
        assert "sox" in str(refused.value)


def test_pcm_must_be_whole_samples() -> None:
    with pytest.raises(AudioError, match="16-bit samples"):
        from_pcm(b"\x00\x01\x02")
    samples = from_pcm(to_pcm(np.array([0.0, 0.5, -0.5, 1.0], dtype=np.float32)))
    assert samples == pytest.approx([0.0, 0.5, -0.5, 1.0], abs=1e-4)


def test_resampling_keeps_the_duration() -> None:
    tone = np.sin(np.arange(22050) / 22050 * 2 * np.pi * 220).astype(np.float32)
    assert len(resample(tone, 22050, 16000)) == 16000
    assert Sound(to_pcm(tone), 22050).seconds == pytest.approx(1.0)
