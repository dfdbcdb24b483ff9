"""Every id in a path or query: one SQLite cannot hold (2^63 and over), zero, a negative
or not a number gets a clear 4xx, never a 500; the largest id SQLite holds is just not found."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from samantha.config import Settings
from tests.web.test_api import admin, conversation, new_person
from tests.web.test_memories import say

BAD = [str(2**64), str(2**63), str(10**30), "0", "-1", "abc", "1.5"]
LARGEST = str(2**63 - 1)
# method, path, body, whose token: every route with an id in its path
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/v1/memories/{}", None, "person"),
    ("PATCH", "/v1/memories/{}", {"text": "Ada is my twin"}, "person"),
    ("DELETE", "/v1/memories/{}", None, "person"),
    ("GET", "/v1/conversations/{}/messages", None, "person"),
    ("POST", "/v1/conversations/{}/messages", {"content": "hi", "stream": False}, "person"),
    ("POST", "/v1/conversations/{}/reply", None, "person"),
    ("GET", "/v1/me/letters/{}", None, "person"),
    ("PATCH", "/v1/me/letters/{}", {"text": "Dear Ada"}, "person"),
    ("POST", "/v1/me/letters/{}/redraft", {"note": "shorter"}, "person"),
    ("DELETE", "/v1/me/letters/{}", None, "person"),
    ("GET", "/v1/people/{}/export", None, "admin"),
    ("DELETE", "/v1/people/{}", None, "admin"),
    ("POST", "/v1/people/{}/notices", {"text": "Back soon"}, "admin"),
]
# an id in the query, on a path that exists ({} is the person's conversation)
QUERIES = [
    ("/v1/memories", "before"),
    ("/v1/me/letters", "before"),
    ("/v1/conversations/{}/messages", "before"),
    ("/v1/conversations/{}/messages", "after"),
]


def test_every_route_with_an_id_in_its_path_is_checked_here(client: TestClient) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    with_ids = set()
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            for param in operation.get("parameters", []):
                if param["in"] == "path" and param["schema"].get("type") == "integer":
                    with_ids.add((method.upper(), path.replace("{" + param["name"] + "}", "{}")))
    assert with_ids == {(method, path) for method, path, _, _ in ROUTES}


@pytest.mark.parametrize(
    ("method", "path", "body", "who"), ROUTES, ids=[" ".join(r[:2]) for r in ROUTES]
)
def test_an_id_sqlite_cannot_hold_is_refused_clearly(
    client: TestClient,
    settings: Settings,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    who: str,
) -> None:
    headers = admin(settings) if who == "admin" else new_person(client, settings, "Theo")
    for bad in BAD:
        res = client.request(method, path.format(bad), json=body, headers=headers)
        assert res.status_code == 422, (bad, res.text)
        assert res.json()["error"]["code"] == "invalid_request"
    res = client.request(method, path.format(LARGEST), json=body, headers=headers)
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found", res.text


@pytest.mark.parametrize(("path", "name"), QUERIES, ids=[f"{p} {n}" for p, n in QUERIES])
def test_an_id_in_the_query_sqlite_cannot_hold_is_refused_clearly(
    client: TestClient, settings: Settings, path: str, name: str
) -> None:
    theo = new_person(client, settings, "Theo")
    cid = conversation(client, theo)
    say(client, theo, cid, "My sister Ada lives in Porto.")
    path = path.format(cid)
    for bad in BAD:
        if bad == "0" and name == "after":
            continue  # after=0: from the start
        res = client.get(path, params={name: bad}, headers=theo)
        assert res.status_code == 422, (bad, res.text)
        assert res.json()["error"]["code"] == "invalid_request"
    res = client.get(path, params={name: LARGEST}, headers=theo)
    assert res.status_code == 200, res.text
