"""Her persona card over HTTP, for people and the operator."""

from __future__ import annotations

from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.persona import import_card
from tests.web.test_api import admin, new_person


def test_the_persona_card_as_json_and_png(client: TestClient, settings: Settings) -> None:
    theo = new_person(client, settings, "Theo")
    as_json = client.get("/v1/persona/card", headers=theo)
    assert as_json.status_code == 200
    assert as_json.json()["data"]["name"] == "Samantha"
    assert 'filename="Samantha.json"' in as_json.headers["content-disposition"]
    as_png = client.get("/v1/persona/card?format=png", headers=admin(settings))
    assert as_png.status_code == 200 and as_png.headers["content-type"] == "image/png"
    assert import_card(as_png.content) == import_card(as_json.content)


def test_the_persona_card_needs_a_token_and_a_known_format(
    client: TestClient, settings: Settings
) -> None:
    assert client.get("/v1/persona/card").status_code == 401
    bad = client.get("/v1/persona/card", headers={"Authorization": "Bearer sam_forged"})
    assert bad.status_code == 401
    theo = new_person(client, settings, "Theo")
    res = client.get("/v1/persona/card?format=gif", headers=theo)
    assert res.status_code == 422 and res.json()["error"]["code"] == "invalid_request"
