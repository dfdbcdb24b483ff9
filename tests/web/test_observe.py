"""/metrics in Prometheus format, presence while a reply streams, and structured logs."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message, Receive, Scope, Send

from samantha.config import Settings
from samantha.logs import JsonFormatter
from samantha.presence import Presence
from samantha.system import Samantha
from samantha.web import create_app
from samantha.web.observe import Observe
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM
from tests.web.test_api import admin, conversation, new_person


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_turns_tokens_errors_and_requests(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    fake = fake_model
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    fake.replies = ["I'm glad you told me.", "Tell me more."]
    for text in ("Rough day.", "My boss yelled."):
        res = client.post(f"/v1/conversations/{cid}/messages", json={"content": text}, headers=theo)
        assert res.status_code == 200
    assert client.get("/v1/conversations", headers={"Authorization": "Bearer nope"}).status_code
    client.post(f"/v1/conversations/{cid}/messages", json={"content": ""}, headers=theo)

    assert client.get("/metrics").status_code == 401  # the operator's, not the public's
    page = client.get("/metrics", headers=admin(settings))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    got = samples(page.text)
    assert got[("samantha_turns_total", (("outcome", "complete"),))] == 2
    assert got[("samantha_tokens_total", (("kind", "reply"),))] >= 2
    assert got[("samantha_tokens_total", (("kind", "prompt"),))] > 20
    assert got[("samantha_first_token_seconds_count", ())] == 2
    assert got[("samantha_reply_seconds_count", ())] == 2
    assert got[("samantha_errors_total", (("code", "unauthorized"),))] >= 1
    assert got[("samantha_errors_total", (("code", "empty_message"),))] == 1
    route = "/v1/conversations/{conversation_id}/messages"
    key = (("method", "POST"), ("route", route), ("status", "200"))
    assert got[("samantha_http_requests_total", key)] == 2
    assert got[("samantha_http_request_seconds_count", (("route", route),))] == 3
    assert got[("samantha_connected_people", ())] == 0
    assert got[("samantha_queue_depth", ())] == 0  # replies in line for a slot
    assert got[("samantha_reply_slots", ())] == 16  # the fake is a "server": no slots of its own
    assert got[("samantha_reply_slots_busy", ())] == 0
    assert got[("samantha_queue_wait_seconds_count", ())] == 2
    for reason in ("busy", "too_many_replies"):
        assert got[("samantha_replies_refused_total", (("reason", reason),))] == 0
    assert got[("samantha_model_up", ())] == 1
    assert "Theo" not in page.text and "Rough" not in page.text  # counts, never content


def test_metrics_can_be_public(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", metrics_public=True)
    with TestClient(create_app(settings, llm=ScriptedLLM())) as client:
        assert client.get("/metrics").status_code == 200


async def test_a_person_is_present_while_her_reply_streams(
    sam: Samantha, fake: ScriptedLLM
) -> None:
    theo = await sam.person_named("Theo", create=True)
    amy = await sam.person_named("Amy", create=True)
    assert theo and amy
    fake.replies = ["one two three", "four five six"]
    replies = []
    for who in (theo, amy):
        c = await sam.store.create_conversation(who.id)
        await sam.companion.say(who, c.id, "hello")
        replies.append(aiter(await sam.companion.reply(who, c.id)))
    for r in replies:
        await anext(r)
    assert (sam.presence.people, sam.presence.streams) == (2, 2)
    assert sam.presence.is_connected(theo.id)
    assert samples(sam.metrics.render().decode())[("samantha_connected_people", ())] == 2
    for r in replies:
        async for _ in r:
            pass
    assert (sam.presence.people, sam.presence.streams) == (0, 0)
    assert not sam.presence.is_connected(theo.id)


def test_presence_counts_people_not_streams() -> None:
    presence = Presence()
    with presence.connected(1), presence.connected(1), presence.connected(2):
        assert (presence.people, presence.streams) == (2, 3)
    assert (presence.people, presence.streams) == (0, 0)


def test_json_logs_carry_structured_fields() -> None:
    record = logging.LogRecord(
        "samantha.http", logging.INFO, __file__, 1, "%s done", ("GET",), None
    )
    record.route = "/v1/status"
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET done" and line["level"] == "info"
    assert line["route"] == "/v1/status" and line["status"] == 200
    assert line["logger"] == "samantha.http" and line["ts"].endswith("+00:00")


def test_history_for_the_operator_page(client: TestClient, settings: Settings) -> None:
    assert client.get("/v1/admin/history").status_code == 401
    theo = new_person(client, settings, "Theo")
    assert client.get("/v1/admin/history", headers=theo).status_code == 401
    kept = client.app.state.trends  # type: ignore[attr-defined]
    kept.sample()  # the server samples once a minute; the test does not wait for it
    cid = conversation(client, theo)
    client.post(f"/v1/conversations/{cid}/messages", json={"content": "Hi."}, headers=theo)
    kept.sample()
    res = client.get("/v1/admin/history", headers=admin(settings))
    assert res.status_code == 200
    body = res.json()
    assert body["every_s"] == 60
    started, now = body["samples"][0], body["samples"][-1]
    assert set(now) == {"at", "connected", "replies_per_min", "first_token_s"}
    assert started["replies_per_min"] == 0.0 and now["replies_per_min"] > 0
    assert now["first_token_s"] > 0 and now["at"] >= started["at"]


async def test_the_app_keeps_what_it_adds_to_a_scope_of_its_own() -> None:
    """The server keeps a connection's last scope until its next request, a minute later
    for a person talking at a human pace: what the app hangs on it must not stay (issue 4)."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["fastapi_inner_astack"] = object()  # FastAPI's exit stacks, the route...
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/v1/me", "headers": []}
    await Observe(app)(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert "fastapi_inner_astack" not in scope
