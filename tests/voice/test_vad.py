"""Silero finds where a person starts and stops speaking, and ignores silence and noise."""

from __future__ import annotations

import numpy as np
import pytest

from samantha.voice import Voice
from samantha.voice.audio import AudioError, to_pcm
from samantha.voice.vad import (
    Event,
    Listener,
    NothingSaid,
    Paused,
    Resumed,
    SpeechStarted,
    TooLong,
    Utterance,
)
from tests.conftest import silence, spoken

QUESTION = "Tell me something that will make me smile."


def listen(voice: Voice, pcm: bytes, *, step: int = 640) -> tuple[Listener, list[Event]]:
    """Feed ``pcm`` 20 ms at a time, as a microphone would; what the listener said."""
    listener = Listener(voice.judge, end_silence_ms=400, max_utterance_s=30)
    events: list[Event] = []
    for start in range(0, len(pcm), step):
        events += listener.feed(pcm[start : start + step])
    return listener, events


def noise(seconds: float, level: float = 0.2) -> bytes:
    rng = np.random.default_rng(7)
    return to_pcm((rng.standard_normal(int(16000 * seconds)) * level).astype(np.float32))


async def test_speech_then_a_pause_is_one_utterance(voice: Voice) -> None:
    question = spoken(QUESTION)
    _, events = listen(voice, silence(0.5) + question + silence(1.0))
    kinds = [type(e) for e in events]
    assert kinds[0] is SpeechStarted and kinds[-1] is Utterance
    assert set(kinds[1:-1]) <= {Paused, Resumed}  # breaths between words may be pauses
    utterance = events[-1]
    assert isinstance(utterance, Utterance)
    spoke = len(question) / 2 / 16000
    assert spoke - 0.3 < utterance.seconds < spoke + 0.8  # trimmed, with a little either side


async def test_the_end_is_found_after_the_pause_not_before(voice: Voice) -> None:
    question = spoken(QUESTION)
    _, events = listen(voice, silence(0.3) + question + silence(0.25))
    assert Utterance not in [type(e) for e in events]  # 250 ms is a breath, not an end
    assert isinstance(events[-1], Paused)  # but long enough to start listening to what was said


async def test_a_pause_that_ends_the_turn_holds_exactly_the_utterance(voice: Voice) -> None:
    """What is transcribed in the pause is reused only if the person said nothing more:
    the samples must be the very ones the utterance holds."""
    _, events = listen(voice, silence(0.3) + spoken(QUESTION) + silence(1.0))
    paused, utterance = events[-2], events[-1]
    assert isinstance(paused, Paused) and isinstance(utterance, Utterance)
    assert np.array_equal(paused.samples, utterance.samples)


async def test_speaking_on_after_a_pause_makes_a_longer_utterance(voice: Voice) -> None:
    first, second = spoken("I went for a run."), spoken("It rained the whole way.")
    _, events = listen(voice, silence(0.3) + first + silence(0.3) + second + silence(1.0))
    pauses = [e for e in events if isinstance(e, Paused)]
    utterance = events[-1]
    assert pauses and isinstance(utterance, Utterance)
    assert len(pauses[0].samples) < len(utterance.samples)  # a pause is not the end
    after = events.index(pauses[0]) + 1
    assert isinstance(events[after], Resumed)  # and the listener says so when they go on
    paused = False
    for event in events:  # each Resumed answers one Paused
        if isinstance(event, Resumed):
            assert paused
        paused = isinstance(event, Paused) or (paused and not isinstance(event, Resumed))


@pytest.mark.parametrize(
    "sound", [silence(2), noise(2), noise(2, 0.02)], ids=["silence", "loud-hiss", "soft-hiss"]
)
async def test_silence_and_noise_start_nothing(voice: Voice, sound: bytes) -> None:
    listener, events = listen(voice, sound)
    assert events == []
    assert isinstance(listener.finish(), NothingSaid)


async def test_a_held_turn_ends_only_when_the_client_says(voice: Voice) -> None:
    question = spoken(QUESTION)
    listener = Listener(voice.judge, end_silence_ms=3_600_000, max_utterance_s=30)
    events = listener.feed(silence(0.3) + question + silence(1.5))
    assert [type(e) for e in events if not isinstance(e, Paused | Resumed)] == [SpeechStarted]
    assert isinstance(listener.finish(), Utterance)


async def test_speaking_past_the_limit_is_too_long(voice: Voice) -> None:
    question = spoken(QUESTION + " " + QUESTION + " " + QUESTION)
    listener = Listener(voice.judge, end_silence_ms=3_600_000, max_utterance_s=2)
    events = listener.feed(question + silence(1.0))
    assert [type(e) for e in events if not isinstance(e, Paused | Resumed)] == [
        SpeechStarted,
        TooLong,
    ]
    assert listener.finish() is None  # already answered: nothing more to say about it


def test_half_a_sample_is_malformed(voice: Voice) -> None:
    listener = Listener(voice.judge, end_silence_ms=400, max_utterance_s=30)
    with pytest.raises(AudioError):
        listener.feed(b"\x00\x00\x00")
