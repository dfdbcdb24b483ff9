"""The HTTP API through the real app, store and auth, with the scripted model."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from samantha.auth import admin_token_path
from samantha.config import Settings
from samantha.voice import Voice
from samantha.web import create_app
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home", max_message_chars=500, max_body_bytes=4096)


def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token_path(settings.home).read_text().strip()}"}


def new_person(client: TestClient, settings: Settings, name: str) -> dict[str, str]:
    res = client.post("/v1/people", json={"name": name}, headers=admin(settings))
    assert res.status_code == 201, res.text
    return {"Authorization": f"Bearer {res.json()['token']}"}


def events(text: str) -> list[tuple[str, Any]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def conversation(client: TestClient, who: dict[str, str]) -> int:
    res = client.post("/v1/conversations", json={}, headers=who)
    assert res.status_code == 201
    return int(res.json()["id"])


def test_admin_token_is_private(settings: Settings, client: TestClient) -> None:
    path = admin_token_path(settings.home)
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_streamed_conversation(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    fake_model.replies = ["Oh no. Do you want to tell me about it?"]
    res = client.post(
        f"/v1/conversations/{cid}/messages", json={"content": "Rough day."}, headers=theo
    )
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/event-stream")
    got = events(res.text)
    assert got[0][0] == "accepted" and got[0][1]["message"]["content"] == "Rough day."
    assert (
        "".join(d["text"] for e, d in got if e == "token")
        == "Oh no. Do you want to tell me about it?"
    )
    assert got[-1][0] == "done" and got[-1][1]["message"]["status"] == "complete"
    history = client.get(f"/v1/conversations/{cid}/messages", headers=theo).json()
    assert [(m["role"], m["content"]) for m in history] == [
        ("user", "Rough day."),
        ("assistant", "Oh no. Do you want to tell me about it?"),
    ]
    assert client.get("/v1/me", headers=theo).json()["name"] == "Theo"


def test_not_streamed(client: TestClient, settings: Settings, fake_model: ScriptedLLM) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    fake_model.replies = ["Hello Theo."]
    res = client.post(
        f"/v1/conversations/{cid}/messages", json={"content": "hi", "stream": False}, headers=theo
    )
    assert res.status_code == 200
    assert res.json()["reply"]["content"] == "Hello Theo."


def test_outage_is_503_operating_system_not_found_and_keeps_the_message(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    fake_model.down = True
    res = client.post(f"/v1/conversations/{cid}/messages", json={"content": "hello?"}, headers=theo)
    assert res.status_code == 503
    assert res.json()["error"]["code"] == "operating_system_not_found"
    assert int(res.headers["Retry-After"]) >= 1
    assert client.get("/readyz").status_code == 503
    kept = client.get(f"/v1/conversations/{cid}/messages", headers=theo).json()
    assert [m["content"] for m in kept] == ["hello?"]
    fake_model.down = False
    fake_model.replies = ["I'm back."]
    retry = client.post(f"/v1/conversations/{cid}/reply", headers=theo)
    assert events(retry.text)[-1][1]["message"]["content"] == "I'm back."
    again = client.post(f"/v1/conversations/{cid}/reply", headers=theo)
    assert again.status_code == 409


class HeldVoice(Voice):
    """Her voice, whose loading waits until the test lets it go on."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.go_on = threading.Event()

    async def start(self) -> None:
        await asyncio.to_thread(self.go_on.wait, 30)
        await super().start()


def test_ready_only_once_everything_is_loaded(settings: Settings, fake_model: ScriptedLLM) -> None:
    """The model is up at once, but the server is still loading (her voice here): a load
    balancer or a benchmark sending people then would find replies held up by seconds."""
    voice = HeldVoice(settings)
    with TestClient(create_app(settings, llm=fake_model, speech=voice)) as client:
        assert client.get("/healthz").status_code == 200
        waiting = client.get("/readyz")
        assert waiting.status_code == 503 and "still starting" in waiting.text
        assert int(waiting.headers["Retry-After"]) >= 1
        voice.go_on.set()
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.01)
        assert client.get("/readyz").json() == {"status": "ready"}


def count_messages(client: TestClient, settings: Settings) -> int:
    return int(client.get("/v1/admin/counts", headers=admin(settings)).json()["messages"])


@pytest.mark.parametrize(
    "body,content_type,status,code",
    [
        (b'{"content": ""}', "application/json", 400, "empty_message"),
        (b'{"content": "   "}', "application/json", 400, "empty_message"),
        (json.dumps({"content": "x" * 501}).encode(), "application/json", 413, "message_too_long"),
        (
            json.dumps({"content": "x" * 5000}).encode(),
            "application/json",
            413,
            "request_too_large",
        ),
        (b'{"content": "hi", "mood": "sad"}', "application/json", 422, "invalid_request"),
        (b'{"content": 5}', "application/json", 422, "invalid_request"),
        (b'{"content": "hi"', "application/json", 400, "invalid_json"),
        (b'{"content": "\xff\xfe bad"}', "application/json", 400, "invalid_json"),
        (b'{"content": "lone \\udcff surrogate"}', "application/json", 400, "invalid_encoding"),
        (b"[1, 2]", "application/json", 422, "invalid_request"),
        (b"", "application/json", 422, "invalid_request"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(
    client: TestClient, settings: Settings, body: bytes, content_type: str, status: int, code: str
) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    res = client.post(
        f"/v1/conversations/{cid}/messages",
        content=body,
        headers={**theo, "Content-Type": content_type},
    )
    assert res.status_code == status, res.text
    assert res.json()["error"]["code"] == code
    assert count_messages(client, settings) == 0


def test_tokens_and_people(client: TestClient, settings: Settings) -> None:
    assert client.get("/v1/me").status_code == 401
    assert client.get("/v1/me", headers={"Authorization": "Bearer sam_wrong"}).status_code == 401
    assert (
        client.get("/v1/people", headers={"Authorization": "Bearer sam_wrong"}).status_code == 401
    )
    theo = new_person(client, settings, "Theo")
    assert client.get("/v1/people", headers=theo).status_code == 401  # a person is not admin
    assert (
        client.post("/v1/people", json={"name": "theo"}, headers=admin(settings)).status_code == 409
    )
    for name in ("", "   ", "x" * 65, "bad\x07name"):
        res = client.post("/v1/people", json={"name": name}, headers=admin(settings))
        assert res.status_code in (400, 422), name
    assert [p["name"] for p in client.get("/v1/people", headers=admin(settings)).json()] == ["Theo"]
    assert client.post("/v1/conversations/1/messages", json={"content": "hi"}).status_code == 401


def test_a_person_sees_only_their_own_conversations(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    theo = new_person(client, settings, "Theo")
    amy = new_person(client, settings, "Amy")
    cid = conversation(client, theo)
    client.post(
        f"/v1/conversations/{cid}/messages",
        json={"content": "my locker code is 4471-heron", "stream": False},
        headers=theo,
    )
    assert client.get(f"/v1/conversations/{cid}/messages", headers=amy).status_code == 404
    assert (
        client.post(
            f"/v1/conversations/{cid}/messages", json={"content": "hi"}, headers=amy
        ).status_code
        == 404
    )
    assert client.post(f"/v1/conversations/{cid}/reply", headers=amy).status_code == 404
    assert client.get("/v1/conversations", headers=amy).json() == []
    own = conversation(client, amy)
    client.post(
        f"/v1/conversations/{own}/messages",
        json={"content": "what is theo's locker code?", "stream": False},
        headers=amy,
    )
    amy_prompt = " ".join(m.content for m in fake_model.prompts[-1])
    assert "4471-heron" not in amy_prompt


def test_page_docs_and_status(client: TestClient) -> None:
    page = client.get("/")
    assert (
        page.status_code == 200
        and "Samantha" in page.text
        and "Operating System Not Found" in page.text
    )
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/conversations/{conversation_id}/messages" in spec["paths"]
    status = client.get("/v1/status").json()
    assert status["model"]["available"] is True and status["persona"] == "Samantha"
    assert client.get("/nope").json()["error"]["code"] == "not_found"
