"""The real app, store and auth with the scripted model, for every HTTP test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.web import create_app
from tests.fakes import ScriptedLLM


@pytest.fixture
def fake_model() -> ScriptedLLM:
    return ScriptedLLM()


@pytest.fixture
def client(settings: Settings, fake_model: ScriptedLLM) -> Iterator[TestClient]:
    with TestClient(create_app(settings, llm=fake_model)) as c:
        yield c
