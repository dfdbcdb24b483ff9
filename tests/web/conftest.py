"""The real app, store and auth with the scripted model, for every HTTP test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM


@pytest.fixture
def fake_model() -> ScriptedLLM:
    return ScriptedLLM()


@pytest.fixture
def client(settings: Settings, fake_model: ScriptedLLM) -> Iterator[TestClient]:
    with TestClient(create_app(settings, llm=fake_model)) as c:
        yield c


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Settings, ScriptedLLM]]:
    """A real server on loopback (uvicorn in a thread) with the scripted model."""
    settings = make_settings(tmp_path / "home", events_heartbeat_s=0.2)
    fake = ScriptedLLM()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, llm=fake), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    assert wait_until_up(url)
    yield url, settings, fake
    server.should_exit = True
    thread.join(timeout=10)
