"""``samantha voice`` as a person runs it: a spoken question in a WAV file gets a spoken
answer, from the real small model, the real ears and the real voice."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest

from samantha.voice import LISTEN_RATE, Sound, Voice
from samantha.voice.audio import Samples, from_pcm, resample
from tests.conftest import silence, spoken
from tests.test_cli import samantha

QUESTION = "Hi Samantha, I had a long day at work. Can you cheer me up?"


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def wav(path: Path, pcm: bytes, rate: int = LISTEN_RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def heard_at_16k(path: Path) -> Samples:
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return resample(from_pcm(w.readframes(w.getnframes())), w.getframerate(), LISTEN_RATE)


def said(stdout: str) -> dict[str, str]:
    """Who said what: ``you: ...`` then ``Samantha: ...`` (which may run over lines)."""
    you, _, her = stdout.partition("\nSamantha: ")
    return {"you": you.removeprefix("you: "), "Samantha": " ".join(her.split())}


async def test_a_spoken_question_gets_a_spoken_answer(
    cli_env: dict[str, str], tmp_path: Path, voice: Voice
) -> None:
    question = wav(tmp_path / "question.wav", silence(0.3) + spoken(QUESTION) + silence(0.5))
    answer = tmp_path / "answer.wav"
    done = samantha(cli_env, "voice", "--in", str(question), "--out", str(answer), "--new")
    assert done.returncode == 0, done.stderr
    lines = said(done.stdout)
    assert words(lines["you"]) >= {"long", "day", "work", "cheer"}
    heard = await voice.stt.transcribe(heard_at_16k(answer))
    assert heard.caught, heard
    spoken_words = words(heard.text)
    # three words at least, or all of a shorter reply (the model once said only "I'm sorry")
    assert len(spoken_words) >= min(3, len(words(lines["Samantha"]))), lines["Samantha"]
    # her voice says her words: most of what is heard in the file is in her stored reply
    assert len(spoken_words & words(lines["Samantha"])) / len(spoken_words) > 0.6, (
        heard.text,
        lines["Samantha"],
    )


async def test_silence_gets_an_apology_and_no_turn(cli_env: dict[str, str], tmp_path: Path) -> None:
    quiet = wav(tmp_path / "quiet.wav", silence(2))
    answer = tmp_path / "answer.wav"
    done = samantha(cli_env, "voice", "--in", str(quiet), "--out", str(answer), "--person", "ada")
    assert done.returncode == 1, done.stderr
    assert "didn't catch that" in done.stdout
    assert Sound(answer.read_bytes(), 1).pcm  # the apology, spoken


@pytest.mark.parametrize(
    ("rate", "channels", "seconds", "why"),
    [
        (44100, 1, 1, "44100 Hz"),
        (16000, 2, 1, "2 channel(s)"),
        (16000, 1, 31, "at most 30 s"),
    ],
    ids=["44.1kHz", "stereo", "too-long"],
)
def test_wrong_recordings_are_refused_before_anything_starts(
    cli_env: dict[str, str], tmp_path: Path, rate: int, channels: int, seconds: int, why: str
) -> None:
    recording = wav(tmp_path / "q.wav", bytes(2 * rate * channels * seconds), rate, channels)
    answer = tmp_path / "answer.wav"
    done = samantha(cli_env, "voice", "--in", str(recording), "--out", str(answer))
    assert done.returncode == 2
    assert why in " ".join(done.stderr.split())
    assert not answer.exists()
