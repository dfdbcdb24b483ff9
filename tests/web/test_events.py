"""The event stream over real HTTP: live notices, Last-Event-ID resume, presence, privacy."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import httpx
import pytest

from samantha.auth import admin_token_path
from samantha.config import Settings
from tests.fakes import ScriptedLLM
from tests.web.test_openai_compat import person_token

Served = tuple[str, Settings, ScriptedLLM]


def read_events(lines: Iterator[str], want: int) -> list[dict[str, str]]:
    """The next ``want`` events (fields by name) from an SSE line iterator."""
    events, current = [], dict[str, str]()
    for line in lines:
        if line == "":
            if "event" in current:
                events.append(current)
                if len(events) == want:
                    return events
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    raise AssertionError(f"the stream ended after {events}")


def admin_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token_path(settings.home).read_text().strip()}"}


def whoami(url: str, token: str) -> int:
    return int(httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["id"])


def test_notices_arrive_live_and_a_reconnect_gets_what_it_missed(served: Served) -> None:
    url, settings, _ = served
    theo, amy = person_token(url, settings, "Theo"), person_token(url, settings, "Amy")
    theo_id, amy_id = whoami(url, theo), whoami(url, amy)
    admin = admin_headers(settings)

    def notice(person: int, text: str) -> None:
        res = httpx.post(f"{url}/v1/people/{person}/notices", json={"text": text}, headers=admin)
        assert res.status_code == 202

    notice(theo_id, "before you came")  # a fresh stream starts from now, not from history
    with httpx.stream(
        "GET", url + "/v1/events", headers={"Authorization": f"Bearer {theo}"}, timeout=10
    ) as res:
        assert res.status_code == 200
        lines = res.iter_lines()
        (hello,) = read_events(lines, 1)
        assert hello["event"] == "hello" and '"connected": 1' in hello["data"]
        metrics = httpx.get(url + "/metrics", headers=admin).text
        assert "samantha_connected_people 1.0" in metrics
        notice(amy_id, "secret-for-amy")
        notice(theo_id, "hello Theo")
        got = read_events(lines, 2)  # a heartbeat may come first
        live = next(e for e in got if e["event"] == "notice")
        assert "hello Theo" in live["data"] and "secret-for-amy" not in str(got)
        last_id = live["id"]
    notice(theo_id, "while you were away")
    notice(theo_id, "and this too")
    with httpx.stream(
        "GET",
        url + "/v1/events",
        headers={"Authorization": f"Bearer {theo}", "Last-Event-ID": last_id},
        timeout=10,
    ) as res:
        got = read_events(res.iter_lines(), 3)
    missed = [e for e in got if e["event"] == "notice"]
    assert ["away" in missed[0]["data"], "too" in missed[1]["data"]] == [True, True]
    assert int(missed[0]["id"]) > int(last_id)
    heartbeat_or_nothing = [e["event"] for e in got if e["event"] not in ("hello", "notice")]
    assert set(heartbeat_or_nothing) <= {"counts"}


def test_quiet_streams_get_counts_as_heartbeats(served: Served) -> None:
    url, settings, _ = served
    theo = person_token(url, settings, "Theo")
    with httpx.stream(
        "GET", url + "/v1/events", headers={"Authorization": f"Bearer {theo}"}, timeout=10
    ) as res:
        hello, beat = read_events(res.iter_lines(), 2)
    assert hello["event"] == "hello" and beat["event"] == "counts" and "id" not in beat


def connected(url: str, settings: Settings, want: int, within_s: float = 4.0) -> bool:
    """Whether ``want`` people are connected, by the operator's metrics, within
    ``within_s``."""
    line = f"samantha_connected_people {want:.1f}"
    for _ in range(round(within_s / 0.02)):
        if line in httpx.get(url + "/metrics", headers=admin_headers(settings)).text:
            return True
        time.sleep(0.02)
    return False


def test_a_stream_whose_client_goes_ends_and_no_longer_counts(served: Served) -> None:
    url, settings, _ = served
    theo = person_token(url, settings, "Theo")
    for _ in range(3):  # quiet streams (heartbeats only) and their going, again and again
        with httpx.stream(
            "GET", url + "/v1/events", headers={"Authorization": f"Bearer {theo}"}, timeout=10
        ) as res:
            lines = res.iter_lines()  # kept: httpx closes the stream with its last iterator
            hello, beat = read_events(lines, 2)
            assert (hello["event"], beat["event"]) == ("hello", "counts")
            assert connected(url, settings, 1)
        assert connected(url, settings, 0)


def test_a_stream_asked_for_with_a_body_over_the_limit_ends(served: Served) -> None:
    """Hostile: a GET whose chunked body outgrows the limit after the stream began."""
    url, settings, _ = served
    theo = person_token(url, settings, "Theo")

    def body() -> Iterator[bytes]:
        for _ in range(17):
            yield b"x" * 4096  # 68 KiB in all, over the 64 KiB limit

    with httpx.stream(
        "GET",
        url + "/v1/events",
        headers={"Authorization": f"Bearer {theo}"},
        content=body(),
        timeout=10,
    ) as res:
        assert res.status_code == 200  # the stream began before the body was read
        beats = 0
        with contextlib.suppress(httpx.RemoteProtocolError):  # ended without its last chunk
            for chunk in res.iter_raw():  # to its end, without streaming on
                beats += chunk.count(b"event: counts")
                assert beats < 20, "the stream went on after its request failed"
    assert connected(url, settings, 0)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/people/999/notices", {"text": "hi"}, 404),
        ("/v1/people/1/notices", {"text": ""}, 422),
        ("/v1/people/1/notices", {"text": "x" * 2001}, 422),
        ("/v1/people/1/notices", {"words": "hi"}, 422),
        ("/v1/people/0/notices", {"text": "hi"}, 422),
        (f"/v1/people/{2**70}/notices", {"text": "hi"}, 422),
    ],
)
def test_bad_notices_are_refused(served: Served, path: str, body: object, status: int) -> None:
    url, settings, _ = served
    person_token(url, settings, "Theo")
    res = httpx.post(url + path, json=body, headers=admin_headers(settings))
    assert res.status_code == status, res.text
    assert res.json()["error"]["code"]


def test_event_streams_need_a_person_and_a_sane_id(served: Served) -> None:
    url, settings, _ = served
    assert httpx.get(url + "/v1/events").status_code == 401
    theo = person_token(url, settings, "Theo")
    res = httpx.get(
        url + "/v1/events", headers={"Authorization": f"Bearer {theo}", "Last-Event-ID": "abc"}
    )
    assert res.status_code == 422
    person = httpx.post(
        url + "/v1/people/1/notices",
        json={"text": "hi"},
        headers={"Authorization": f"Bearer {theo}"},
    )
    assert person.status_code == 401  # only the operator sends notices
