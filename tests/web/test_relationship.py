"""Relationship, wellbeing and her inner life over HTTP: each person sees their own, the
operator sees counts, and a secret planted by one person reaches nobody else."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM
from tests.test_proactive import Clock
from tests.web.test_events import admin_headers
from tests.web.test_follow_ups import sign_up, tell

SECRET = "zebra-4471"


def test_a_person_sees_their_relationship_and_only_theirs(
    client: TestClient, settings: Settings
) -> None:
    theo = sign_up(client, settings, "Theo")
    amy = sign_up(client, settings, "Amy")
    tell(client, theo, f"My sister Ada knows my locker code {SECRET}. Thank you for listening!")
    mine = client.get("/v1/me/relationship", headers=theo).json()
    assert mine["stage"] == "met" and mine["label"] == "just getting started"
    assert [s["key"] for s in mine["stages"]] == [
        "met",
        "acquainted",
        "friends",
        "close",
        "attached",
    ]
    assert mine["signals"]["messages"] == 1 and mine["signals"]["times_she_helped"] == 1
    texts = [m["text"] for m in mine["milestones"]]
    assert texts[0] == "The day we met"
    assert "The first time you told me about your sister, Ada" in texts
    theirs = client.get("/v1/me/relationship", headers=amy).json()
    assert theirs["signals"]["messages"] == 0 and theirs["milestones"] == []
    assert "Ada" not in json.dumps(theirs) and SECRET not in json.dumps(theirs)
    assert client.get("/v1/me/relationship").status_code == 401


def test_the_operator_sees_counts_never_who(client: TestClient, settings: Settings) -> None:
    for name in ("Theo", "Amy", "Raj"):
        tell(client, sign_up(client, settings, name), "hello")
    person = sign_up(client, settings, "Mo")
    assert client.get("/v1/admin/relationships", headers=person).status_code == 401
    found = client.get("/v1/admin/relationships", headers=admin_headers(settings)).json()
    assert found == {
        "people": 4,
        "stages": {"met": 3, "acquainted": 0, "friends": 0, "close": 0, "attached": 0},
    }


def test_her_inner_life_is_anyones_to_read_and_holds_no_one(
    client: TestClient, settings: Settings, fake_model: ScriptedLLM
) -> None:
    people = [sign_up(client, settings, f"P{i}") for i in range(5)]
    for i, who in enumerate(people):
        tell(client, who, f"Work was hard, my boss in Lisbon shouted. Code {SECRET}-{i}.")
    assert client.post("/v1/admin/reflect", headers=people[0]).status_code == 401
    fake_model.replies = ["I wonder how people carry their work home. Lisbon is far."]
    made = client.post("/v1/admin/reflect", headers=admin_headers(settings))
    assert made.status_code == 200, made.text
    versions = client.get("/v1/samantha/inner-life", headers=people[1]).json()
    assert [v["version"] for v in versions] == [1]
    assert versions[0]["state"]["interests"] == ["work"]
    assert versions[0]["state"]["thoughts"] == ["I wonder how people carry their work home."]
    assert versions[0]["material"]["themes"] == {"work": {"people": 5, "messages": 5}}
    dumped = json.dumps(versions)
    assert SECRET not in dumped and "Lisbon" not in dumped and "P1" not in dumped
    assert client.get("/v1/samantha/inner-life").status_code == 401


def test_a_person_sees_what_she_notices_of_their_wellbeing(
    client: TestClient, settings: Settings
) -> None:
    theo = sign_up(client, settings, "Theo")
    quiet = client.get("/v1/me/wellbeing", headers=theo).json()
    assert not any("pulling away" in n for n in quiet["notes"])  # (late at night: noted)
    assert quiet["session_minutes"] == 0
    assert quiet["long_session_min"] == 90 and quiet["crisis_lines"]
    tell(client, theo, "I've stopped seeing my friends, I just stay home and talk to you.")
    noticed = client.get("/v1/me/wellbeing", headers=theo).json()
    assert any("pulling away from other people" in n for n in noticed["notes"])
    assert client.get("/v1/me/wellbeing").status_code == 401


def test_a_person_sees_the_session_reminder_they_chose(tmp_path: Path) -> None:
    clock = Clock("2026-03-02 10:00")
    settings = make_settings(tmp_path / "home", session_reminder_min=30)
    with TestClient(create_app(settings, llm=ScriptedLLM(), clock=clock)) as client:
        theo, amy = sign_up(client, settings, "Theo"), sign_up(client, settings, "Amy")
        client.patch("/v1/me/settings", json={"session_reminder_min": 20}, headers=theo)
        for who in (theo, amy):
            tell(client, who, "I made soup today.")
        clock.at("2026-03-02 10:21")
        mine = client.get("/v1/me/wellbeing", headers=theo).json()
        hers = client.get("/v1/me/wellbeing", headers=amy).json()
    assert mine["session_reminder_min"] == 20 and hers["session_reminder_min"] == 30
    assert any("talked for over 20 minutes" in n for n in mine["notes"])
    assert not any("Session reminder" in n for n in hers["notes"])  # 21 minutes: not yet
