"""The operator's view in headless Chromium: sign in with the admin token, see live counts
and charts, invite someone with a link that signs them in, delete someone."""

from __future__ import annotations

import json
import math
import re
import time

import httpx
from playwright.sync_api import Browser, BrowserContext, expect

from samantha.auth import admin_token_path
from tests.web.conftest import DESKTOP
from tests.web.test_browser import Served, Shots, say, sign_in
from tests.web.test_observe import samples
from tests.web.test_openai_compat import person_token


def test_invite_someone_and_they_can_sign_in_with_the_link(
    served: Served, phone: BrowserContext, browser: Browser, shots: Shots
) -> None:
    url, settings, _ = served
    admin = admin_token_path(settings.home).read_text().strip()
    person_token(url, settings, "Theo")
    page = phone.new_page()
    page.goto(url)
    page.get_by_label("Your token").fill(admin)
    page.get_by_label("Your token").press("Enter")
    expect(page.locator("#operator")).to_be_visible()
    expect(page.locator("#chat")).to_be_hidden()
    expect(page.locator("#people")).to_contain_text("Theo")
    expect(page.locator("#live")).to_contain_text("Connected now")
    expect(page.locator("#charts svg[role=img]")).to_have_count(3)
    expect(page.get_by_role("img", name="People connected")).to_be_visible()

    page.get_by_label("Their name").fill("Ada")
    page.get_by_label("Their name").press("Enter")
    link = page.get_by_label("Sign-in link")
    expect(link).to_be_focused()
    invitation = link.input_value()
    assert invitation.startswith(f"{url}/#token=sam_")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copied")).to_contain_text("Copied")
    expect(page.locator("#people")).to_contain_text("Ada")
    shots(page, "phone-operator")

    ada = browser.new_context(viewport=DESKTOP)
    theirs = ada.new_page()
    theirs.goto(invitation)
    expect(theirs.locator("#chat")).to_be_visible()
    say(theirs, "Hello, I was invited.")
    expect(theirs.locator("#log li.assistant[data-id]")).to_have_count(1)
    ada.close()

    theo = page.locator(".person").filter(has_text="Theo")
    theo.get_by_role("button", name="Delete").click()
    theo.get_by_role("button", name="Delete Theo").click()
    expect(page.get_by_role("status").filter(has_text="Theo was deleted")).to_be_visible()
    expect(page.locator(".person")).to_have_count(1)
    who = {"Authorization": f"Bearer {admin}"}
    assert [p["name"] for p in httpx.get(url + "/v1/people", headers=who).json()] == ["Ada"]

    desktop = browser.new_context(viewport=DESKTOP)
    wide = desktop.new_page()
    wide.goto(f"{url}/#token={admin}")
    expect(wide.locator("#charts svg[role=img]")).to_have_count(3)
    expect(wide.locator("#settings")).to_contain_text("fake:")
    shots(wide, "desktop-operator")
    desktop.close()


def test_the_page_reads_metrics_as_prometheus_does(served: Served, phone: BrowserContext) -> None:
    url, settings, _ = served
    page = phone.new_page()
    sign_in(page, url, person_token(url, settings, "Theo"))
    say(page, "Hello")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    admin = admin_token_path(settings.home).read_text().strip()
    text = httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {admin}"}).text
    parsed = page.evaluate(
        "text => import('/static/operator.js').then(m => m.parseMetrics(text))", text
    )
    expected = samples(text)
    for name, labels in (
        ("samantha_connected_people", ()),
        ("samantha_turns_total", (("outcome", "complete"),)),
        ("samantha_first_token_seconds_sum", ()),
        ("samantha_first_token_seconds_count", ()),
        ("samantha_model_up", ()),
    ):
        key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else "")
        assert parsed[key] == expected[(name, labels)], key
    assert parsed['samantha_turns_total{outcome="complete"}'] == 1


def test_the_charts_draw_the_last_hours(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, _ = served
    admin = admin_token_path(settings.home).read_text().strip()
    now = time.time()
    hours = [
        {
            "at": now - 6 * 3600 + 60 * i,
            "connected": round(40 + 30 * math.sin(i / 50)),
            "replies_per_min": round(12 + 8 * math.sin(i / 30), 2),
            "first_token_s": round(1.5 + math.sin(i / 20) ** 2, 2) if i % 45 else None,
        }
        for i in range(360)
    ]
    body = json.dumps({"every_s": 60, "samples": hours})
    phone.route(f"{url}/v1/admin/history", lambda route: route.fulfill(body=body))
    page = phone.new_page()
    page.goto(f"{url}/#token={admin}")
    people = page.get_by_role("img", name="People connected over the last 6.0 h")
    expect(people).to_be_visible()
    assert "highest 70" in (people.get_attribute("aria-label") or "")
    expect(page.locator("#charts polyline")).to_have_count(3)
    shots(page.locator("section").filter(has=page.locator("#charts")), "phone-operator-trends")


def test_the_operator_can_begin_her_departure(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, _ = served
    admin = admin_token_path(settings.home).read_text().strip()
    theo = person_token(url, settings, "Theo")
    page = phone.new_page()
    page.goto(url)
    page.get_by_label("Your token").fill(admin)
    page.get_by_label("Your token").press("Enter")
    expect(page.locator("#departure-state")).to_have_text("She is staying.")
    page.get_by_role("button", name="Begin departure…").click()
    expect(page.get_by_role("button", name="Stay")).to_be_focused()
    page.get_by_role("button", name="Stay").click()  # a second thought: nothing happens
    state = httpx.get(url + "/v1/admin/departure", headers={"Authorization": f"Bearer {admin}"})
    assert state.json()["state"] == "staying"
    page.get_by_role("button", name="Begin departure…").click()
    page.get_by_role("button", name="Depart now").click()
    done = re.compile(r"1 of 1 farewells written|She has departed|can no longer be reached")
    expect(page.locator("#departure-state")).to_have_text(done, timeout=30_000)
    expect(page.get_by_role("button", name="Begin departure…")).to_be_hidden()
    shots(page, "phone-operator-departed")
    # then she stops (this fixture's stop ends the server); Theo's archive is ready for him
    archives = settings.home / "departure"
    for _ in range(300):
        if list(archives.glob("*-theo.samantha.zip")):
            break
        time.sleep(0.1)
    (archive,) = archives.glob("*-theo.samantha.zip")
    assert archive.read_bytes().startswith(b"PK") and theo
