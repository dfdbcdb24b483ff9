"""Short phrases of her replies are spoken once and kept: openers come back often, and the
first phrase is the one a person waits for."""

from __future__ import annotations

from pathlib import Path

import pytest

import samantha.voice as voice_module
from samantha.voice import Voice
from samantha.voice.audio import Samples, Sound
from samantha.voice.stt import Heard, SpeechToText
from samantha.voice.tts import TextToSpeech
from tests.conftest import make_settings


class CountingTTS(TextToSpeech):
    name = "counting"

    def __init__(self) -> None:
        self.spoken: list[str] = []

    async def speak(self, text: str) -> Sound:
        self.spoken.append(text)
        return Sound(text.encode(), 16000)


class DeafSTT(SpeechToText):
    name = "deaf"

    async def transcribe(self, samples: Samples) -> Heard:
        return Heard("", no_speech=1.0)


@pytest.fixture
def tts() -> CountingTTS:
    return CountingTTS()


@pytest.fixture
def voice(tmp_path: Path, tts: CountingTTS) -> Voice:
    return Voice(make_settings(tmp_path), stt=DeafSTT(), tts=tts)


async def test_a_short_phrase_is_spoken_once(voice: Voice, tts: CountingTTS) -> None:
    first = await voice.speak("That's great!")
    again = await voice.speak("That's great!")
    assert first == again and tts.spoken == ["That's great!"]
    assert (voice.phrase_hits, voice.phrase_misses) == (1, 1)


async def test_a_long_phrase_is_spoken_each_time(voice: Voice, tts: CountingTTS) -> None:
    long = "Painting can be a wonderful way to slow down."
    await voice.speak(long)
    await voice.speak(long)
    assert tts.spoken == [long, long]


async def test_the_least_recently_used_goes_first(
    voice: Voice, tts: CountingTTS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice_module, "KEPT_PHRASES", 2)
    for text in ("Oh!", "Yes.", "Oh!", "Mm."):  # "Yes." is the oldest when "Mm." comes
        await voice.speak(text)
    await voice.speak("Oh!")
    await voice.speak("Yes.")
    assert tts.spoken == ["Oh!", "Yes.", "Mm.", "Yes."]
