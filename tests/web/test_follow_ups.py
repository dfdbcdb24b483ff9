"""Follow-ups over HTTP: each person's settings, strictly checked; what she sent and plans;
the scheduler in the server delivering to a stream, live or on reconnect."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM
from tests.test_proactive import ASKED, INTERVIEW, Clock
from tests.web.test_events import admin_headers, read_events

DEFAULTS = {
    "proactive": True,
    "quiet_start": "22:00",
    "quiet_end": "08:00",
    "per_day": 1,
    "window_days": 3,
    "session_reminder_min": 0,
    "session_reminder_default": True,
}


def sign_up(client: TestClient | httpx.Client, settings: Settings, name: str) -> dict[str, str]:
    res = client.post("/v1/people", json={"name": name}, headers=admin_headers(settings))
    assert res.status_code == 201, res.text
    return {"Authorization": f"Bearer {res.json()['token']}"}


def tell(client: TestClient | httpx.Client, who: dict[str, str], text: str) -> int:
    """Say ``text`` in a new conversation, wait for her reply; return the conversation."""
    conversation = client.post("/v1/conversations", json={}, headers=who).json()["id"]
    res = client.post(
        f"/v1/conversations/{conversation}/messages",
        json={"content": text, "stream": False},
        headers=who,
    )
    assert res.status_code == 200, res.text
    return int(conversation)


def local_iso(moment: str) -> str:
    """A local server time as the API writes times (UTC, ISO 8601)."""
    return datetime.fromtimestamp(datetime.fromisoformat(moment).timestamp(), UTC).isoformat()


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-03-02 10:00")  # a Monday


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[tuple[TestClient, Settings]]:
    """The app on a simulated clock, its scheduler off: the test runs passes itself."""
    settings = make_settings(tmp_path / "home", proactive_interval_s=0)
    with TestClient(create_app(settings, llm=ScriptedLLM(), clock=clock)) as client:
        yield client, settings


def test_settings_show_the_defaults_and_keep_each_change(
    timed: tuple[TestClient, Settings],
) -> None:
    client, settings = timed
    theo = sign_up(client, settings, "Theo")
    assert client.get("/v1/me/settings", headers=theo).json() == DEFAULTS
    changed = client.patch("/v1/me/settings", json={"quiet_start": "23:30"}, headers=theo)
    assert changed.status_code == 200
    assert changed.json() == {**DEFAULTS, "quiet_start": "23:30"}
    off = client.patch("/v1/me/settings", json={"proactive": False}, headers=theo).json()
    assert off == {**DEFAULTS, "quiet_start": "23:30", "proactive": False}
    assert client.get("/v1/me/settings", headers=theo).json() == off
    amy = sign_up(client, settings, "Amy")
    assert client.get("/v1/me/settings", headers=amy).json() == DEFAULTS  # Theo's are his


def test_the_operator_sets_the_defaults(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "home",
        proactive=False,
        quiet_start="21:00",
        quiet_end="07:30",
        session_reminder_min=45,
    )
    with TestClient(create_app(settings, llm=ScriptedLLM())) as client:
        theo = sign_up(client, settings, "Theo")
        shown = client.get("/v1/me/settings", headers=theo).json()
    assert shown == {
        **DEFAULTS,
        "proactive": False,
        "quiet_start": "21:00",
        "quiet_end": "07:30",
        "session_reminder_min": 45,
    }


def test_a_person_chooses_their_own_session_reminder(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", session_reminder_min=30)
    default = {**DEFAULTS, "session_reminder_min": 30}
    with TestClient(create_app(settings, llm=ScriptedLLM())) as client:
        theo, amy = sign_up(client, settings, "Theo"), sign_up(client, settings, "Amy")
        assert client.get("/v1/me/settings", headers=theo).json() == default
        mine = {"session_reminder_default": False}
        twenty = client.patch("/v1/me/settings", json={"session_reminder_min": 20}, headers=theo)
        assert twenty.json() == {**default, **mine, "session_reminder_min": 20}
        off = client.patch("/v1/me/settings", json={"session_reminder_min": 0}, headers=theo)
        assert off.json() == {**default, **mine, "session_reminder_min": 0}
        kept = client.patch("/v1/me/settings", json={"proactive": False}, headers=theo).json()
        assert kept == {**default, **mine, "session_reminder_min": 0, "proactive": False}
        assert client.get("/v1/me/settings", headers=amy).json() == default  # Theo's are his
        wellbeing = {
            name: client.get("/v1/me/wellbeing", headers=who).json()["session_reminder_min"]
            for name, who in (("Theo", theo), ("Amy", amy))
        }
        assert wellbeing == {"Theo": 0, "Amy": 30}


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"proactive": "yes"}, 422, "proactive"),
        ({"proactive": 1}, 422, "proactive"),
        ({"proactive": None}, 422, "cannot be null"),
        ({"quiet_start": "25:00"}, 422, "'25:00' is not a time of day; write it as HH:MM"),
        ({"quiet_end": "8:00"}, 422, "HH:MM"),
        ({"quiet_end": "08:60"}, 422, "HH:MM"),
        ({"quiet_start": 2200}, 422, "quiet_start"),
        ({"proactive": False, "quiet_start": "25:00"}, 422, "HH:MM"),
        ({"session_reminder_min": -1}, 422, "give whole minutes from 1 to 1440, or 0 for none"),
        ({"session_reminder_min": 1441}, 422, "from 1 to 1440"),
        ({"session_reminder_min": 10**30}, 422, "whole minutes"),
        ({"session_reminder_min": "abc"}, 422, "session_reminder_min"),
        ({"session_reminder_min": "30"}, 422, "session_reminder_min"),
        ({"session_reminder_min": 1.5}, 422, "session_reminder_min"),
        ({"session_reminder_min": 20.0}, 422, "session_reminder_min"),
        ({"session_reminder_min": True}, 422, "session_reminder_min"),
        ({"session_reminder_min": None}, 422, "cannot be null"),
        ({"proactive": False, "session_reminder_min": 1441}, 422, "whole minutes"),
        (b'{"session_reminder_min": 1e400}', 422, "session_reminder_min"),
        (b'{"session_reminder_min": 99999999999999999999999999999}', 422, "whole minutes"),
        ({"quiet": "22:00-08:00"}, 422, "quiet"),
        ({}, 422, "nothing to change"),
        ([], 422, "body"),
        (b"", 422, "body"),
        (b"{not json", 400, "not valid JSON"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(
    timed: tuple[TestClient, Settings], body: Any, status: int, says: str
) -> None:
    client, settings = timed
    theo = sign_up(client, settings, "Theo")
    if isinstance(body, bytes):
        headers = {**theo, "Content-Type": "application/json"}
        res = client.patch("/v1/me/settings", content=body, headers=headers)
    else:
        res = client.patch("/v1/me/settings", json=body, headers=theo)
    assert res.status_code == status, res.text
    assert says in res.json()["error"]["message"]
    assert client.get("/v1/me/settings", headers=theo).json() == DEFAULTS
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute("SELECT count(*) FROM person_settings").fetchone() == (0,)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/me/settings"), ("PATCH", "/v1/me/settings"), ("GET", "/v1/me/follow-ups")],
)
def test_only_the_person_themselves_may_look(
    timed: tuple[TestClient, Settings], method: str, path: str
) -> None:
    client, settings = timed
    body = {"proactive": False} if method == "PATCH" else None
    for headers in ({}, {"Authorization": "Bearer nope"}, admin_headers(settings)):
        res = client.request(method, path, json=body, headers=headers)
        assert res.status_code == 401, res.text
        assert res.json()["error"]["code"] == "unauthorized"


def test_she_shows_what_she_plans_and_what_she_sent(
    timed: tuple[TestClient, Settings], clock: Clock
) -> None:
    client, settings = timed
    theo, amy = sign_up(client, settings, "Theo"), sign_up(client, settings, "Amy")
    conversation = tell(client, theo, INTERVIEW)
    (planned,) = client.get("/v1/me/follow-ups", headers=theo).json()
    assert planned["state"] == "planned" and planned["text"] == ASKED
    assert planned["due_at"] == local_iso("2026-03-06 08:00")  # Friday, when quiet hours end
    assert [m["text"] for m in planned["memories"]] == [f"{INTERVIEW} (Thursday 05 March 2026)"]
    assert client.get("/v1/me/follow-ups", headers=amy).json() == []
    client.patch("/v1/me/settings", json={"proactive": False}, headers=theo)
    assert [f["state"] for f in client.get("/v1/me/follow-ups", headers=theo).json()] == ["off"]
    client.patch("/v1/me/settings", json={"proactive": True}, headers=theo)

    clock.at("2026-03-06 09:00")
    sam = client.app.state.samantha  # type: ignore[attr-defined]
    assert client.portal is not None
    assert len(client.portal.call(sam.follow_ups.run)) == 1
    (sent,) = client.get("/v1/me/follow-ups", headers=theo).json()
    assert sent["state"] == "sent" and sent["text"] == ASKED
    assert sent["conversation_id"] == conversation and sent["due_at"] is None
    history = client.get(f"/v1/conversations/{conversation}/messages", headers=theo).json()
    assert history[-1]["id"] == sent["message_id"] and history[-1]["content"] == ASKED
    assert client.get("/v1/me/follow-ups", headers=amy).json() == []


@pytest.fixture
def served(tmp_path: Path, clock: Clock) -> Iterator[tuple[httpx.Client, Settings]]:
    """A real server on a simulated clock, its scheduler running a pass every 50 ms."""
    settings = make_settings(tmp_path / "home", events_heartbeat_s=0.2, proactive_interval_s=0.05)
    port = free_port()
    app = create_app(settings, llm=ScriptedLLM(), clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    assert wait_until_up(url)
    with httpx.Client(base_url=url, timeout=10) as client:
        yield client, settings
    server.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()  # the scheduler stopped with the server


def sent(client: httpx.Client, who: dict[str, str]) -> list[dict[str, Any]]:
    """The follow-ups sent to ``who``, once the server's scheduler has sent one."""
    for _ in range(200):
        found = [f for f in client.get("/v1/me/follow-ups", headers=who).json()]
        if any(f["state"] == "sent" for f in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"no follow-up was sent: {found}")


def test_the_server_sends_it_to_an_offline_person_who_gets_it_on_reconnect(
    served: tuple[httpx.Client, Settings], clock: Clock
) -> None:
    client, settings = served
    theo = sign_up(client, settings, "Theo")
    with client.stream("GET", "/v1/events", headers=theo) as res:
        (hello,) = read_events(res.iter_lines(), 1)
    last_seen = hello["data"].split('"after": ')[1].split(",")[0]
    conversation = tell(client, theo, INTERVIEW)
    clock.at("2026-03-06 09:00")  # Friday: Theo is offline
    (done,) = sent(client, theo)
    headers = {**theo, "Last-Event-ID": last_seen}
    with client.stream("GET", "/v1/events", headers=headers) as res:
        got = read_events(res.iter_lines(), 2)
    message = next(e for e in got if e["event"] == "message")
    assert ASKED in message["data"] and f'"id": {done["message_id"]}' in message["data"]
    assert f'"conversation_id": {conversation}' in message["data"]


def test_the_server_sends_it_live_to_a_connected_person(
    served: tuple[httpx.Client, Settings], clock: Clock
) -> None:
    client, settings = served
    theo = sign_up(client, settings, "Theo")
    tell(client, theo, INTERVIEW)
    with client.stream("GET", "/v1/events", headers=theo) as res:
        lines = res.iter_lines()
        read_events(lines, 1)  # hello
        clock.at("2026-03-06 09:00")
        for _ in range(100):  # heartbeats until the scheduler's pass
            (event,) = read_events(lines, 1)
            if event["event"] == "message":
                break
    assert event["event"] == "message" and ASKED in event["data"]
