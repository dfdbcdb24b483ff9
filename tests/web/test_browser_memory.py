"""The memory page in headless Chromium: what she remembers, its sources, search, correct,
forget; by keyboard and at phone width."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.web.conftest import DESKTOP
from tests.web.test_browser import Served, Shots, say, sign_in
from tests.web.test_openai_compat import person_token

SAID = "My sister Ada lives in Porto. I live in Leeds."
LOADED = re.compile("memor|Nothing yet")


def test_see_where_a_memory_came_from_correct_it_and_forget_it(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, _ = served
    token = person_token(url, settings, "Theo")
    page = phone.new_page()
    sign_in(page, url, token)
    say(page, SAID)
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)

    page.get_by_role("link", name="Memory").click()
    ada = page.locator(".memory").filter(has_text="Ada is their sister")
    expect(ada).to_be_visible()
    sources = ada.get_by_role("button", name="Sources")
    sources.click()
    expect(sources).to_have_attribute("aria-expanded", "true")
    expect(ada.locator("blockquote")).to_contain_text(SAID)
    shots(page, "phone-memory")

    ada.get_by_role("button", name="Correct").click()
    field = ada.get_by_label("What is true instead")
    expect(field).to_be_focused()
    field.fill("Ada is their older sister")
    field.press("Tab")  # to Save, by keyboard
    page.keyboard.press("Enter")
    older = page.locator(".memory").filter(has_text="Ada is their older sister")
    expect(older).to_be_visible()
    expect(older).to_contain_text("corrected by you")
    expect(page.locator(".memory").filter(has_text="Ada is their sister")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="Corrected")).to_be_visible()

    page.get_by_label("Search what she remembers").fill("Where does Ada live?")
    page.get_by_label("Search what she remembers").press("Enter")
    first = page.locator(".recollection").first
    expect(first.locator("blockquote")).to_contain_text("Porto")
    expect(first.locator(".memory").filter(has_text="older sister")).to_be_visible()
    expect(page.locator(".memory").filter(has_text="Ada is their sister")).to_have_count(0)
    shots(page, "phone-memory-search")

    page.get_by_label("Search what she remembers").fill("")
    page.get_by_role("button", name="Search").click()
    older = page.locator(".memory").filter(has_text="Ada is their older sister")
    older.get_by_role("button", name="Forget").click()
    keep = older.get_by_role("button", name="Keep it")
    expect(keep).to_be_focused()  # the safe choice comes first
    page.keyboard.press("Escape")
    expect(keep).to_have_count(0)
    older.get_by_role("button", name="Forget").click()
    older.get_by_role("button", name="Forget it").click()
    expect(page.get_by_role("status").filter(has_text="Forgotten")).to_be_visible()
    expect(page.locator(".memory").filter(has_text="older sister")).to_have_count(0)

    who = {"Authorization": f"Bearer {token}"}
    left = httpx.get(url + "/v1/memories", headers=who).json()
    assert all("Ada" not in m["text"] for m in left), left
    page.reload()
    expect(page.locator("#memory")).to_be_visible()  # the address keeps the view
    expect(page.locator("#memory-status")).to_have_text(LOADED)
    expect(page.locator(".memory").filter(has_text="Ada")).to_have_count(0)

    wide = phone.browser
    assert wide is not None
    desktop = wide.new_context(viewport=DESKTOP)
    big = desktop.new_page()
    big.goto(f"{url}/#token={token}")
    big.get_by_role("link", name="Memory").click()
    expect(big.locator("#memory-status")).to_have_text(LOADED)
    shots(big, "desktop-memory")
    desktop.close()


def test_the_two_of_you_their_relationship_and_what_she_notices(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, _ = served
    page = phone.new_page()
    sign_in(page, url, person_token(url, settings, "Theo"))
    say(page, "My sister Ada lives in Porto. Thank you for listening!")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    page.get_by_role("link", name="Memory").click()
    us = page.get_by_role("region", name="The two of you")
    expect(us.locator("#us-stage")).to_contain_text("You are just getting started: 1 day talking")
    expect(us.locator("#us-stages [aria-current=step]")).to_have_text("just getting started")
    expect(us.locator("#us-milestones")).to_contain_text(
        "The first time you told me about your sister, Ada"
    )
    expect(us.locator("#us-milestones")).to_contain_text("The day we met")
    expect(us.locator("#us-care li")).not_to_have_count(0)
    expect(us.locator("#us-inner")).to_have_text("She has not reflected yet.")
    shots(us, "phone-us")
