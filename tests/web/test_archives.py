"""Archives over HTTP: your own to download; the operator's to export and import; bad
uploads refused with a clear code and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.system import Samantha
from tests.archive.conftest import document, members, rows
from tests.archive.test_bundle import zipped
from tests.archive.test_schema import example
from tests.conftest import make_settings
from tests.web.test_api import admin, conversation, new_person
from tests.web.test_memories import say

ZIP = {"Content-Type": "application/zip"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "home", max_body_bytes=4096, max_import_bytes=256 * 1024)


def person_with(client: TestClient, settings: Settings, name: str, secret: str) -> dict[str, str]:
    who = new_person(client, settings, name)
    cid = conversation(client, who)
    say(client, who, cid, f"My sister Ada keeps the {secret} in Porto.")
    say(client, who, cid, "I moved to York last month.")
    sam: Samantha = cast(FastAPI, client.app).state.samantha
    assert client.portal is not None
    client.portal.call(sam.companion.drain)  # everything learned: the rows stay as they are
    return who


def person_id(client: TestClient, who: dict[str, str]) -> int:
    return int(client.get("/v1/me", headers=who).json()["id"])


def test_a_person_downloads_their_own_archive_and_nobody_elses(
    client: TestClient, settings: Settings
) -> None:
    theo = person_with(client, settings, "Theo", "marmalade-47")
    amy = person_with(client, settings, "Amy", "quince-93")
    res = client.get("/v1/me/export", headers=theo)
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    assert res.headers["content-disposition"].startswith('attachment; filename="theo-')
    text = "\n".join(members(res.content).values())
    assert "marmalade-47" in text and "quince-93" not in text and "Amy" not in text
    theirs = "\n".join(members(client.get("/v1/me/export", headers=amy).content).values())
    assert "quince-93" in theirs and "marmalade-47" not in theirs
    for who in (theo, amy, {}):
        refused = client.get(f"/v1/people/{person_id(client, amy)}/export", headers=who)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert "quince" not in refused.text
    missing = client.get("/v1/people/999/export", headers=admin(settings))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    huge = client.get(f"/v1/people/{10**30}/export", headers=admin(settings))
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_request"


def test_the_operator_moves_a_person_and_recall_comes_along(
    client: TestClient, settings: Settings
) -> None:
    theo = person_with(client, settings, "Theo", "marmalade-47")
    exported = client.get(f"/v1/people/{person_id(client, theo)}/export", headers=admin(settings))
    assert exported.status_code == 200
    clash = client.post(
        "/v1/people/import", content=exported.content, headers=admin(settings) | ZIP
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "name_taken"
    made = client.post(
        "/v1/people/import",
        params={"as": "Theo Two"},
        content=exported.content,
        headers=admin(settings) | ZIP,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["person"]["name"] == "Theo Two" and body["messages"] == 4
    assert body["memories"] == len(document(exported.content)["memories"]) >= 3
    two = {"Authorization": f"Bearer {body['token']}"}
    hits = client.get("/v1/memories/search", params={"q": "Where is Ada?"}, headers=two).json()
    assert "marmalade-47" in hits[0]["message"]["content"]
    again = document(client.get("/v1/me/export", headers=two).content)
    first = document(exported.content)
    for doc in (first, again):
        doc.pop("exported_at"), doc.pop("person")
    assert again == first


def bodies() -> list[tuple[str, bytes, int, str]]:
    wrong_version = {**example(), "version": 99}
    bad_field = example()
    bad_field["conversations"][0]["messages"][0]["role"] = "system"
    bad_stage = example()
    bad_stage["relationship"]["stage"] = "soulmates"
    bad_count = example()
    bad_count["relationship"]["signals"]["words"] = 2**64
    return [
        ("not a zip", b"just some text, not a zip", 400, "not_an_archive"),
        ("no archive.json", zipped({"README.md": b"# Theo"}), 400, "not_an_archive"),
        ("path traversal", zipped({"../../archive.json": b"{}"}), 400, "not_an_archive"),
        ("newer version", zipped({"archive.json": json.dumps(wrong_version).encode()}), 400, ""),
        ("bad field", zipped({"archive.json": json.dumps(bad_field).encode()}), 422, ""),
        ("bad stage", zipped({"archive.json": json.dumps(bad_stage).encode()}), 422, ""),
        ("huge count", zipped({"archive.json": json.dumps(bad_count).encode()}), 422, ""),
        ("zip bomb", zipped({"archive.json": b" " * (4 << 20)}), 413, "archive_too_large"),
        ("name taken", zipped({"archive.json": json.dumps(example()).encode()}), 409, ""),
        ("empty body", b"", 400, "not_an_archive"),
    ]


BODIES = bodies()


@pytest.mark.parametrize("case,body,status,code", BODIES, ids=[b[0] for b in BODIES])
def test_a_bad_import_is_refused_and_writes_nothing(
    client: TestClient, settings: Settings, case: str, body: bytes, status: int, code: str
) -> None:
    person_with(client, settings, "Theo", "marmalade-47")
    before = rows(settings.db_path)
    res = client.post("/v1/people/import", content=body, headers=admin(settings) | ZIP)
    assert res.status_code == status, res.text
    expected = code or {409: "name_taken", 422: "invalid_archive"}.get(status, "")
    assert res.json()["error"]["code"] == (expected or "unsupported_archive")
    assert res.json()["error"]["message"]
    assert rows(settings.db_path) == before


def test_importing_needs_the_admin_token_and_has_its_own_size_limit(
    tmp_path: Path, client: TestClient, settings: Settings
) -> None:
    theo = person_with(client, settings, "Theo", "marmalade-47")
    archive = client.get("/v1/me/export", headers=theo).content
    before = rows(settings.db_path)
    for who in (theo, {}):
        refused = client.post("/v1/people/import", content=archive, headers=who | ZIP)
        assert refused.status_code == 401
    big = b"x" * 8192  # over the 4 KiB body limit of every other route, under the import's
    assert client.post("/v1/conversations/1/messages", content=big).status_code == 413
    res = client.post("/v1/people/import", content=big, headers=admin(settings) | ZIP)
    assert res.json()["error"]["code"] == "not_an_archive"
    over = client.post(
        "/v1/people/import", content=b"x" * (256 * 1024 + 1), headers=admin(settings) | ZIP
    )
    assert over.status_code == 413 and over.json()["error"]["code"] == "request_too_large"
    assert rows(settings.db_path) == before
