from __future__ import annotations

import io
import os
import socket
import subprocess
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from samantha.config import Settings
from samantha.llm import load_llm
from samantha.llm.embedded import EmbeddedLLM
from samantha.system import Samantha, running
from samantha.voice import LISTEN_RATE, Voice
from samantha.voice.audio import from_pcm, resample, to_pcm, trimmed
from tests.fakes import ScriptedLLM, register

register()
SMALL_MODEL = "embedded:smollm2-135m"


def make_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "home": home,
        "llm": "fake:",
        "llm_parallel": 2,
        "llm_ctx": 2048,
        "max_reply_tokens": 40,
        "llm_threads": 2,
        "embedder": "hash:",
        "memory_llm_extraction": False,
        "stt": "none",  # the voice tests load her voice once, and share it
        "recall_processes": 0,  # recall in the test's process (tests/memory/test_workers.py)
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def fake() -> ScriptedLLM:
    return ScriptedLLM()


@pytest.fixture
async def sam(settings: Settings, fake: ScriptedLLM) -> AsyncIterator[Samantha]:
    async with running(settings, llm=fake) as system:
        yield system


@pytest.fixture(scope="session")
async def small_model(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedLLM]:
    """The smallest bundled model, really running, shared by the tests that need it."""
    settings = make_settings(tmp_path_factory.mktemp("model-home"), llm=SMALL_MODEL)
    llm = load_llm(SMALL_MODEL, settings)
    assert isinstance(llm, EmbeddedLLM)
    await llm.start()
    assert llm.available, llm.error
    yield llm
    await llm.close()


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the ``samantha`` command against a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMANTHA_")}
    env.update(
        SAMANTHA_HOME=str(tmp_path / "cli-home"),
        SAMANTHA_LLM=SMALL_MODEL,
        SAMANTHA_LLM_PARALLEL="2",
        SAMANTHA_LLM_CTX="2048",
        SAMANTHA_MAX_REPLY_TOKENS="40",
        SAMANTHA_LETTER_TOKENS="64",
        SAMANTHA_EMBEDDER="hash:",
        SAMANTHA_RECALL_PROCESSES="0",
        SAMANTHA_MEMORY_LLM_EXTRACTION="false",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, path: str = "/healthz", tries: int = 300) -> bool:
    """Poll a local server until ``path`` answers 200; False if it never does."""
    for _ in range(tries):
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
async def voice(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Voice]:
    """Her real ears and voice (Whisper tiny.en, Silero, Piper or espeak-ng), loaded once."""
    settings = make_settings(tmp_path_factory.mktemp("voice-home"), stt="whisper:tiny.en")
    loaded = Voice(settings)
    await loaded.start()
    assert loaded.available, loaded.error
    yield loaded


def spoken(text: str, voice: str = "en-us") -> bytes:
    """``text`` said by a person (espeak-ng's plain voice), as 16 kHz mono s16le PCM, with
    no silence before or after it."""
    said = subprocess.run(
        ["espeak-ng", "--stdout", "-v", voice], input=text.encode(), capture_output=True, check=True
    )
    with wave.open(io.BytesIO(said.stdout)) as w:
        samples = resample(from_pcm(w.readframes(w.getnframes())), w.getframerate(), LISTEN_RATE)
    return to_pcm(trimmed(samples))


def silence(seconds: float) -> bytes:
    return bytes(2 * int(LISTEN_RATE * seconds))
