"""Departure over real HTTP: live farewells, offline ones kept, refusals, the stop at the end."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from samantha.archive import read_archive
from samantha.config import Settings
from samantha.departure import write_farewell
from samantha.system import running
from samantha.web import create_app
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM
from tests.web.test_events import admin_headers, read_events, whoami
from tests.web.test_openai_compat import person_token


@dataclass
class Server:
    url: str
    settings: Settings
    fake: ScriptedLLM
    stopped: threading.Event = field(default_factory=threading.Event)
    streaming_at_stop: list[int] = field(default_factory=list)

    def stop(self) -> None:
        """Stands in for SIGTERM; notes how many replies were still being written."""
        with sqlite3.connect(self.settings.db_path) as db:
            (streaming,) = db.execute(
                "SELECT count(*) FROM messages WHERE status = 'streaming'"
            ).fetchone()
        self.streaming_at_stop.append(streaming)
        self.stopped.set()

    def who(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving(settings: Settings) -> Iterator[Server]:
    """A real server on loopback (uvicorn in a thread) whose stop is only noted."""
    port = free_port()
    found = Server(f"http://127.0.0.1:{port}", settings, ScriptedLLM())
    app = create_app(settings, llm=found.fake, stop=found.stop)
    uv = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    assert wait_until_up(found.url)
    try:
        yield found
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = make_settings(tmp_path / "home", events_heartbeat_s=0.2, departure_wait_s=60)
    with serving(settings) as found:
        yield found


def start(server: Server) -> httpx.Response:
    return httpx.post(
        server.url + "/v1/admin/departure",
        json={"batch": 2},
        headers=admin_headers(server.settings),
    )


def state(server: Server) -> dict[str, object]:
    res = httpx.get(server.url + "/v1/admin/departure", headers=admin_headers(server.settings))
    assert res.status_code == 200
    body: dict[str, object] = res.json()
    return body


def test_farewells_arrive_live_or_wait_for_those_away(server: Server) -> None:
    url = server.url
    theo, amy = (
        person_token(url, server.settings, "Theo"),
        person_token(url, server.settings, "Amy"),
    )
    cid = httpx.post(url + "/v1/conversations", json={}, headers=server.who(theo)).json()["id"]
    said = {"content": "My sister Ada lives in Porto.", "stream": False}
    httpx.post(f"{url}/v1/conversations/{cid}/messages", json=said, headers=server.who(theo))
    with httpx.stream("GET", url + "/v1/events", headers=server.who(amy), timeout=10) as res:
        (hello,) = read_events(res.iter_lines(), 1)  # Amy looks in once, then goes away
    amy_after = hello["data"].split('"after": ')[1].split(",")[0]
    assert state(server) == {
        "state": "staying",
        "running": False,
        "started_at": None,
        "finished_at": None,
        "people": 2,
        "done": 0,
    }

    with httpx.stream("GET", url + "/v1/events", headers=server.who(theo), timeout=10) as res:
        lines = res.iter_lines()
        read_events(lines, 1)  # hello: Theo is connected
        assert start(server).status_code == 202
        got = read_events(lines, 1)
        while got[-1]["event"] != "farewell":  # heartbeats may come first
            got = read_events(lines, 1)
        farewell = got[-1]
        assert "Dear Theo," in farewell["data"] and "Ada, your sister" in farewell["data"]
        assert '"archive": "/v1/me/departure/archive"' in farewell["data"]
        assert "Amy" not in farewell["data"]
        rest = list(lines)  # once she is done the stream ends, so the server can stop
    assert not [line for line in rest if "farewell" in line]
    assert server.stopped.wait(30)
    done = state(server)
    assert done["state"] == "departed" and done["people"] == done["done"] == 2
    assert not done["running"]

    missed = {"Last-Event-ID": amy_after, **server.who(amy)}
    with httpx.stream("GET", url + "/v1/events", headers=missed, timeout=10) as res:
        events = read_events(res.iter_lines(), 2)
    assert events[1]["event"] == "farewell" and "Dear Amy," in events[1]["data"]
    assert "Theo" not in events[1]["data"] and "Ada" not in events[1]["data"]

    archive = httpx.get(url + "/v1/me/departure/archive", headers=server.who(amy))
    assert archive.status_code == 200 and "attachment" in archive.headers["content-disposition"]
    data = read_archive(archive.content, 1 << 24)
    assert data.person.name == "Amy" and "Dear Amy," in data.messages[-1].content
    assert start(server).status_code == 200  # already departed: nothing starts twice


def test_once_she_is_leaving_nothing_new_starts_but_everything_can_be_taken(
    server: Server,
) -> None:
    url, admin = server.url, admin_headers(server.settings)
    theo = person_token(url, server.settings, "Theo")
    cid = httpx.post(url + "/v1/conversations", json={}, headers=server.who(theo)).json()["id"]
    said = {"content": "I moved to York last month!", "stream": False}
    httpx.post(f"{url}/v1/conversations/{cid}/messages", json=said, headers=server.who(theo))
    note = {"to": "Ada", "notes": "York is lovely"}
    written = httpx.post(url + "/v1/me/letters", json=note, headers=server.who(theo)).json()
    assert start(server).status_code == 202
    assert server.stopped.wait(30)

    refused = [
        httpx.post(url + "/v1/conversations", json={}, headers=server.who(theo)),
        httpx.post(f"{url}/v1/conversations/{cid}/messages", json=said, headers=server.who(theo)),
        httpx.post(f"{url}/v1/conversations/{cid}/reply", headers=server.who(theo)),
        httpx.post(
            url + "/v1/chat/completions",
            json={"model": "samantha", "messages": [{"role": "user", "content": "hi"}]},
            headers=server.who(theo),
        ),
        httpx.post(url + "/v1/people", json={"name": "Newcomer"}, headers=admin),
        httpx.post(url + "/v1/me/letters", json=note, headers=server.who(theo)),
    ]
    for res in refused:
        assert res.status_code == 503, res.text
        assert res.json()["error"]["code"] == "departing" and "Retry-After" not in res.headers
        assert "/v1/me/departure/archive" in res.json()["error"]["message"]

    kept = httpx.get(url + "/v1/conversations", headers=server.who(theo)).json()
    assert [c["title"] for c in kept] == ["Goodbye", ""]
    history = httpx.get(f"{url}/v1/conversations/{cid}/messages", headers=server.who(theo))
    assert [m["role"] for m in history.json()] == ["user", "assistant"]
    assert httpx.get(url + "/v1/memories", headers=server.who(theo)).status_code == 200
    assert httpx.get(url + "/v1/me/export", headers=server.who(theo)).status_code == 200
    with httpx.stream("GET", url + "/v1/events?after=0", headers=server.who(theo)) as res:
        assert [e["event"] for e in read_events(res.iter_lines(), 2)] == ["hello", "farewell"]
    me = whoami(url, theo)
    prepared = server.settings.departure_dir / f"{me}-theo.samantha.zip"
    assert prepared.exists()
    with zipfile.ZipFile(prepared) as archive:  # her goodbye and his letter, on paper
        assert {"farewell.pdf", "letters/1.pdf"} <= set(archive.namelist())
        assert archive.read("farewell.pdf").startswith(b"%PDF-")
    mine = httpx.get(f"{url}/v1/me/letters/{written['id']}?format=pdf", headers=server.who(theo))
    assert mine.status_code == 200  # still his to take
    assert httpx.delete(url + "/v1/me", headers=server.who(theo)).status_code == 204
    assert not prepared.exists()  # deleting yourself takes the prepared archive too


def test_she_stops_only_after_the_replies_in_flight_are_kept(server: Server) -> None:
    url = server.url
    theo = person_token(url, server.settings, "Theo")
    cid = httpx.post(url + "/v1/conversations", json={}, headers=server.who(theo)).json()["id"]
    gate = threading.Event()

    async def slow_model() -> None:  # the model is still reading the prompt
        await asyncio.to_thread(gate.wait, 30)

    server.fake.before_stream = slow_model
    server.fake.replies = ["Of course, I'm still here with you."]
    answers: list[httpx.Response] = []
    said = {"content": "Are you still there?", "stream": False}
    asking = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{url}/v1/conversations/{cid}/messages",
                json=said,
                headers=server.who(theo),
                timeout=60,
            )
        )
    )
    asking.start()
    while not server.fake.prompts:  # the reply has begun
        assert asking.is_alive()
        gate.wait(0.01)
    assert start(server).status_code == 202
    while state(server)["done"] != 1:
        gate.wait(0.01)
    assert not server.stopped.is_set() and state(server)["state"] == "departing"
    gate.set()  # the model answers; the reply is kept, and only then she stops
    asking.join(30)
    assert answers[0].status_code == 200
    assert answers[0].json()["reply"]["content"] == "Of course, I'm still here with you."
    assert server.stopped.wait(30) and server.streaming_at_stop == [0]
    assert state(server)["state"] == "departed"


def test_departure_is_for_the_operator_and_archives_for_their_owner(server: Server) -> None:
    url = server.url
    theo = person_token(url, server.settings, "Theo")
    assert httpx.post(url + "/v1/admin/departure", headers=server.who(theo)).status_code == 401
    assert httpx.get(url + "/v1/admin/departure", headers=server.who(theo)).status_code == 401
    assert httpx.post(url + "/v1/admin/departure").status_code == 401
    early = httpx.get(url + "/v1/me/departure/archive", headers=server.who(theo))
    assert early.status_code == 404 and "/v1/me/export" in early.json()["error"]["message"]
    bad = httpx.post(
        url + "/v1/admin/departure", json={"batch": 0}, headers=admin_headers(server.settings)
    )
    assert bad.status_code == 422
    assert state(server)["state"] == "staying" and not server.stopped.is_set()


async def test_a_server_stopped_mid_departure_goes_on_when_started_again(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", events_heartbeat_s=0.2)
    async with running(settings, llm=ScriptedLLM()) as sam:
        people = [await sam.person_named(f"Person {i}", create=True) for i in range(5)]
        await sam.store.begin_departure()  # then the machine went down
        assert people[0] is not None
        await write_farewell(sam, people[0])
    with serving(settings) as server:  # no one asks: it goes on by itself, and stops
        assert await asyncio.to_thread(server.stopped.wait, 30)
        done = state(server)
    assert done["state"] == "departed" and done["people"] == done["done"] == 5
    with sqlite3.connect(settings.db_path) as db:
        assert db.execute(
            "SELECT count(*), count(DISTINCT person_id) FROM events WHERE kind = 'farewell'"
        ).fetchone() == (5, 5)
