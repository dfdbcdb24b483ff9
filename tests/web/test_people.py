"""Deleting a person over HTTP: by the operator, or by the person themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM
from tests.web.test_api import admin, conversation, new_person


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, llm=ScriptedLLM())) as c:
        yield c


def chat(client: TestClient, who: dict[str, str], text: str) -> int:
    cid = conversation(client, who)
    res = client.post(
        f"/v1/conversations/{cid}/messages", json={"content": text, "stream": False}, headers=who
    )
    assert res.status_code == 200, res.text
    return cid


def test_the_operator_deletes_a_person(client: TestClient, settings: Settings) -> None:
    theo = new_person(client, settings, "Theo")
    amy = new_person(client, settings, "Amy")
    chat(client, theo, "My sister Ada lives in Porto.")
    kept = chat(client, amy, "I like boats.")
    people = client.get("/v1/people", headers=admin(settings)).json()
    theo_id = next(p["id"] for p in people if p["name"] == "Theo")
    assert client.delete(f"/v1/people/{theo_id}", headers=theo).status_code == 401  # not admin
    res = client.delete(f"/v1/people/{theo_id}", headers=admin(settings))
    assert res.status_code == 204 and res.content == b""
    assert client.get("/v1/me", headers=theo).status_code == 401
    again = client.delete(f"/v1/people/{theo_id}", headers=admin(settings))
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"
    assert [p["name"] for p in client.get("/v1/people", headers=admin(settings)).json()] == ["Amy"]
    history = client.get(f"/v1/conversations/{kept}/messages", headers=amy).json()
    assert history[0]["content"] == "I like boats."


@pytest.mark.parametrize("person_id,status", [(999, 404), (0, 422), (2**70, 422)])
def test_deleting_someone_unknown(
    client: TestClient, settings: Settings, person_id: int, status: int
) -> None:
    new_person(client, settings, "Theo")
    res = client.delete(f"/v1/people/{person_id}", headers=admin(settings))
    assert res.status_code == status
    assert len(client.get("/v1/people", headers=admin(settings)).json()) == 1


def test_a_person_deletes_themselves(client: TestClient, settings: Settings) -> None:
    theo = new_person(client, settings, "Theo")
    amy = new_person(client, settings, "Amy")
    cid = chat(client, theo, "My locker code is heron-4471.")
    chat(client, amy, "I like boats.")
    assert client.delete("/v1/me").status_code == 401
    assert client.delete("/v1/me", headers=theo).status_code == 204
    assert client.get("/v1/me", headers=theo).status_code == 401
    assert client.delete("/v1/me", headers=theo).status_code == 401
    assert client.get(f"/v1/conversations/{cid}/messages", headers=amy).status_code == 404
    counts = client.get("/v1/admin/counts", headers=admin(settings)).json()
    assert counts == {"people": 1, "conversations": 1, "messages": 2}
    assert client.get("/v1/me", headers=amy).json()["name"] == "Amy"
