"""Her voice and her ears agree: what she says is transcribed back to the same words."""

from __future__ import annotations

import re

import pytest

from samantha.voice import Voice
from samantha.voice.audio import LISTEN_RATE, from_pcm, resample
from samantha.voice.stt import Heard, without_echo
from samantha.voice.tts import EspeakTTS, PiperTTS, TextToSpeech, piper_installed
from tests.conftest import silence, spoken

SENTENCES = [
    "Tell me something that will make me smile.",
    "My sister is coming to visit next week.",
    "Do you like music?",
]
BACKENDS = [
    pytest.param("espeak", id="espeak-ng"),
    pytest.param(
        "piper",
        id="piper",
        marks=pytest.mark.skipif(not piper_installed(), reason="the piper extra is not installed"),
    ),
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


async def hear(voice: Voice, tts: TextToSpeech, text: str) -> Heard:
    sound = await tts.speak(text)
    return await voice.stt.transcribe(resample(from_pcm(sound.pcm), sound.rate, LISTEN_RATE))


@pytest.mark.parametrize("backend", BACKENDS)
async def test_what_she_says_is_heard_back_word_for_word(voice: Voice, backend: str) -> None:
    tts = PiperTTS("joe") if backend == "piper" else EspeakTTS("en-us+f3")
    for sentence in SENTENCES:
        heard = await hear(voice, tts, sentence)
        assert heard.caught, heard
        assert words(heard.text) == words(sentence), heard.text


async def test_a_person_is_heard(voice: Voice) -> None:
    heard = await voice.stt.transcribe(from_pcm(spoken(SENTENCES[1])))
    assert words(heard.text) == words(SENTENCES[1])


def test_a_transcript_that_starts_over_is_cut() -> None:
    assert without_echo("Do you like music? Do you like music?") == "Do you like music?"
    assert without_echo("I went for a run. I went for") == "I went for a run."
    assert without_echo("I said I said it twice.") == "I said I said it twice."
    assert without_echo("No. No. No.") == "No."


async def test_silence_is_not_caught(voice: Voice) -> None:
    assert not (await voice.stt.transcribe(from_pcm(silence(2)))).caught
    assert not (await voice.stt.transcribe(from_pcm(silence(0.01)))).caught
