"""The letters page in headless Chromium: write one from notes, read it as text (hostile
words stay words), edit it, ask for another draft, download its pages, delete it."""

from __future__ import annotations

import httpx
from playwright.sync_api import BrowserContext, expect

from tests.web.test_browser import Served, Shots, sign_in
from tests.web.test_openai_compat import person_token

HOSTILE = "<img src=x onerror=\"document.title='owned'\">"


def test_write_edit_redraft_download_and_delete_a_letter(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, fake = served
    token = person_token(url, settings, "Theo")
    page = phone.new_page()
    sign_in(page, url, token)
    page.get_by_role("link", name="Letters").click()
    expect(page.locator("#letters-status")).to_contain_text("No letters yet")

    fake.replies = [
        "I still think about the old tram in Porto, and the café by São Bento.\n\n"
        f"Come visit in the spring. {HOSTILE}"
    ]
    page.get_by_label("To", exact=True).fill("Ada <b>Silva</b>")
    page.get_by_label("What you want to say").fill("I miss Porto and her")
    page.get_by_role("button", name="Write it with her").click()
    letter = page.locator(".letter").first
    expect(letter.get_by_role("heading")).to_have_text("To Ada <b>Silva</b>")
    expect(letter.locator(".letter-text")).to_contain_text(HOSTILE)  # shown as words
    expect(letter.locator(".letter-text")).to_contain_text("With love,\nTheo")
    assert page.locator(".letter img, .letter b").count() == 0
    assert page.title() != "owned"
    shots(page, "phone-letter")

    letter.get_by_role("button", name="Edit").click()
    words = page.get_by_label("Your letter, in your words")
    expect(words).to_be_focused()
    words.fill("Dearest Ada,\n\nSee you in May.\n\nAll my love,\nTheo")
    letter.get_by_role("button", name="Save").click()
    letter = page.locator(".letter").first
    expect(letter.locator(".letter-text")).to_contain_text("Dearest Ada,")
    expect(page.locator("#letters-status")).to_contain_text("Saved")

    fake.replies = ["See you in May, by the river."]
    letter.get_by_role("button", name="Another draft").click()
    page.get_by_label("What should she change?").fill("mention the river")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    letter = page.locator(".letter").first
    expect(letter.locator(".letter-text")).to_contain_text("by the river.\n\nAll my love")
    letter.scroll_into_view_if_needed()
    shots(letter, "phone-letter-redrafted")

    with page.expect_download() as got:
        letter.get_by_role("button", name="Download PDF").click()
    assert got.value.suggested_filename.startswith("letter-1-to-ada-b-silva-b-")
    with page.expect_download() as book:
        page.get_by_role("button", name="Download all as a book").click()
    assert book.value.suggested_filename == "letters-theo.pdf"

    letter.get_by_role("button", name="Delete").click()
    keep = letter.get_by_role("button", name="Keep it")
    expect(keep).to_be_focused()
    letter.get_by_role("button", name="Delete it").click()
    expect(page.locator(".letter")).to_have_count(0)
    expect(page.locator("#letters-status")).to_contain_text("Deleted")
    who = {"Authorization": f"Bearer {token}"}
    assert httpx.get(url + "/v1/me/letters", headers=who).json() == []
