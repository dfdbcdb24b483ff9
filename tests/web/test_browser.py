"""The page in a real headless Chromium: sign in, talk, lose her, get her back.

The first test runs the real ``samantha serve`` with the smallest model, stops it mid-
conversation and starts it again; the others use the scripted model in-process, where a
broken reply can be arranged exactly.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM
from tests.web.conftest import DESKTOP
from tests.web.test_events import connected
from tests.web.test_openai_compat import person_token

Served = tuple[str, Settings, ScriptedLLM]
Shots = Callable[[Page | Locator, str], Path]
STATIC = Path(__file__).resolve().parents[2] / "src" / "samantha" / "web" / "static"
SLOW = 120_000  # ms: the small model on two busy cores, and a server starting again

# Every list item added to the page, in order, so a typing indicator that shows for a
# moment is still seen.
RECORD_BUBBLES = """
window.bubbles = [];
new MutationObserver((changes) => {
  for (const change of changes)
    for (const node of change.addedNodes)
      if (node.nodeType === 1 && node.matches("#log li")) window.bubbles.push(node.className);
}).observe(document, { childList: true, subtree: true });
"""


class Server:
    """``python -m samantha serve`` on a fixed port, which can be stopped and started again."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "samantha", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        assert wait_until_up(self.url, "/readyz", tries=900), self.log.read_text()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.proc = None

    def samantha(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "samantha", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.strip()


@pytest.fixture
def server(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    # short replies on one thread: the page is under test here, and the cores are shared
    env = {**cli_env, "SAMANTHA_MAX_REPLY_TOKENS": "16", "SAMANTHA_LLM_THREADS": "1"}
    running = Server(env, tmp_path / "serve.log")
    running.start()
    yield running
    if running.proc is not None:
        running.stop()


def sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url)
    page.get_by_label("Your token").fill(token)
    page.get_by_label("Your token").press("Enter")
    expect(page.locator("#chat")).to_be_visible()


def say(page: Page, text: str) -> None:
    box = page.get_by_label("Message to Samantha")
    box.fill(text)
    box.press("Enter")


def on_screen(page: Page) -> list[list[str]]:
    """The conversation as shown: [role, text] for every bubble, top to bottom."""
    found: list[list[str]] = page.eval_on_selector_all(
        "#log li:not(.greeting)",
        """items => items.map(li => [li.classList.contains("user") ? "user" : "assistant",
                                     li.querySelector(".text").textContent])""",
    )
    return found


def history(url: str, token: str) -> list[dict[str, Any]]:
    who = {"Authorization": f"Bearer {token}"}
    (conversation,) = httpx.get(url + "/v1/conversations", headers=who).json()
    res = httpx.get(f"{url}/v1/conversations/{conversation['id']}/messages", headers=who)
    return list(res.json())


def test_talk_lose_her_and_get_her_back_with_nothing_lost_or_doubled(
    server: Server, phone: BrowserContext, browser: Browser, shots: Shots
) -> None:
    token = server.samantha("people", "add", "Theo", "--token-only")
    page = phone.new_page()
    page.add_init_script(RECORD_BUBBLES)
    sign_in(page, server.url, token)
    assert page.evaluate("document.activeElement.id") == "say"  # ready to type at once

    first = "Hi Samantha, I had a long day at work."
    say(page, first)
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1, timeout=SLOW)
    bubbles = page.evaluate("window.bubbles")
    assert any("typing" in b for b in bubbles), bubbles  # she was typing before her words
    assert bubbles.index(next(b for b in bubbles if "typing" in b)) < len(bubbles) - 1
    expect(page.locator("#banner")).to_be_hidden()
    shots(page, "phone-chat")

    server.stop()
    banner = page.locator("#banner")
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_contain_text("Operating System Not Found")
    second = "Are you still there?"
    say(page, second)
    expect(page.locator("#log li.user").last).to_contain_text("it will go once she's back")
    shots(page, "phone-offline")

    server.start()
    expect(banner).to_be_hidden(timeout=SLOW)
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(2, timeout=SLOW)
    expect(page.locator("#log .note")).to_have_count(0)

    kept = history(server.url, token)
    assert [m["role"] for m in kept] == ["user", "assistant"] * 2
    assert [m["content"] for m in kept if m["role"] == "user"] == [first, second]
    assert all(m["status"] == "complete" for m in kept)
    expected = [[m["role"], m["content"]] for m in kept]
    assert on_screen(page) == expected

    page.reload()
    expect(page.locator("#log li[data-id]")).to_have_count(4)
    assert on_screen(page) == expected  # from the server's history: each message once

    desktop = browser.new_context(viewport=DESKTOP)
    wide = desktop.new_page()
    wide.goto(f"{server.url}/#token={token}")  # an invitation link signs in
    expect(wide.locator("#log li[data-id]")).to_have_count(4)
    assert "token" not in wide.url  # the token leaves the address bar at once
    shots(wide, "desktop-chat")
    desktop.close()


def test_a_bad_token_gets_a_clear_answer(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, _, _ = served
    page = phone.new_page()
    page.goto(url)
    page.get_by_label("Your token").fill("sam_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="didn't work")).to_be_visible()
    expect(page.locator("#chat")).to_be_hidden()
    shots(page, "phone-signin-refused")


def test_the_keyboard_reaches_the_message_box_and_enter_sends(
    served: Served, phone: BrowserContext, shots: Shots
) -> None:
    url, settings, _ = served
    token = person_token(url, settings, "Ada")
    page = phone.new_page()
    page.goto(url)
    page.keyboard.press("Tab")  # from the top of the page to the token field, by keyboard
    for _ in range(10):
        if page.evaluate("document.activeElement.id") == "token":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message to Samantha")).to_be_focused()
    page.keyboard.type("Shift+Enter makes a new line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("and Enter sends.")
    page.keyboard.press("Enter")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    assert on_screen(page)[0] == ["user", "Shift+Enter makes a new line\nand Enter sends."]

    menu = page.locator("#who")
    menu.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Download everything")).to_be_visible()
    shots(page, "phone-menu")
    page.keyboard.press("Tab")  # into the menu
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Download everything")).to_be_hidden()
    expect(menu).to_be_focused()


def test_a_reply_that_breaks_off_is_asked_again_and_shown_once(
    served: Served, phone: BrowserContext
) -> None:
    url, settings, fake = served
    token = person_token(url, settings, "Ada")
    fake.replies = ["Oh no, I am so sorry", "Let me try that again: I am here."]
    fake.fail_after = 3
    asked = []

    async def once_broken() -> None:
        asked.append(1)
        if len(asked) > 1:
            fake.fail_after = None

    fake.before_stream = once_broken
    page = phone.new_page()
    sign_in(page, url, token)
    say(page, "My cat is ill.")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1, timeout=30_000)
    expect(page.locator("#banner")).to_be_hidden()
    want = [["user", "My cat is ill."], ["assistant", "Let me try that again: I am here."]]
    assert on_screen(page) == want
    kept = history(url, token)
    assert [(m["role"], m["status"]) for m in kept] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("assistant", "complete"),
    ]
    page.reload()
    expect(page.locator("#log li[data-id]")).to_have_count(2)
    assert on_screen(page) == want


def hello_while_she_is_down(served: Served, phone: BrowserContext) -> tuple[Page, str]:
    """A signed-in page that said "Hello?" while the model was down; and its token."""
    url, settings, fake = served
    token = person_token(url, settings, "Ada")
    page = phone.new_page()
    sign_in(page, url, token)
    fake.down = True
    say(page, "Hello?")
    expect(page.locator("#banner")).to_be_visible()
    return page, token


def answered_once(served: Served, token: str) -> None:
    url, _, fake = served
    kept = history(url, token)
    assert [(m["role"], m["content"]) for m in kept] == [
        ("user", "Hello?"),
        ("assistant", fake.default),
    ]


def test_when_the_model_is_down_the_message_waits_and_is_answered_once(
    served: Served, phone: BrowserContext
) -> None:
    page, token = hello_while_she_is_down(served, phone)
    fake = served[2]
    banner = page.locator("#banner")
    expect(banner).to_contain_text("Operating System Not Found")
    expect(banner).to_contain_text("switched off")
    expect(page.locator("#log li.user")).to_contain_text("Kept")
    fake.down = False
    expect(banner).to_be_hidden(timeout=30_000)
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    answered_once(served, token)
    assert on_screen(page) == [["user", "Hello?"], ["assistant", fake.default]]


def test_a_message_waiting_when_you_sign_out_and_in_again_is_answered_once(
    served: Served, phone: BrowserContext
) -> None:
    page, token = hello_while_she_is_down(served, phone)
    page.locator("#who").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Your token").fill(token)  # on the same page: its pump is still waiting
    page.get_by_label("Your token").press("Enter")
    expect(page.locator("#log li.user")).to_contain_text("Kept")
    served[2].down = False  # the pump of the first sign-in wakes, sees it is stale, hands over
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1, timeout=30_000)
    answered_once(served, token)


def test_history_loads_as_you_scroll_back(served: Served, phone: BrowserContext) -> None:
    url, settings, _ = served
    token = person_token(url, settings, "Ada")
    who = {"Authorization": f"Bearer {token}"}
    cid = httpx.post(url + "/v1/conversations", json={}, headers=who).json()["id"]
    for n in range(20):  # 40 messages: more than one page of 30
        body = {"content": f"message {n}", "stream": False}
        httpx.post(f"{url}/v1/conversations/{cid}/messages", json=body, headers=who, timeout=30)
    page = phone.new_page()
    sign_in(page, url, token)
    expect(page.locator("#log li[data-id]")).to_have_count(30)
    page.locator("#scroller").evaluate("box => { box.scrollTop = 0; }")
    expect(page.locator("#log li[data-id]")).to_have_count(40)
    texts = [text for role, text in on_screen(page) if role == "user"]
    assert texts == [f"message {n}" for n in range(20)]


def test_the_page_needs_nothing_from_outside(served: Served, phone: BrowserContext) -> None:
    url, settings, _ = served
    allowed = {"http://www.w3.org/2000/svg"}  # an XML namespace's name, never fetched
    for asset in STATIC.iterdir():
        found = set(re.findall(r"https?://[^\s\"'`)<>]+", asset.read_text("utf-8")))
        assert found <= allowed, (asset.name, found - allowed)
    asked: list[str] = []
    phone.on("request", lambda request: asked.append(request.url))
    page = phone.new_page()
    sign_in(page, url, person_token(url, settings, "Ada"))
    say(page, "hello")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    assert asked and all(u.startswith(url + "/") for u in asked), asked


# The text colour of each element and the first solid background behind it.
COLOURS = """
selectors => selectors.map(selector => {
  const found = document.querySelector(selector);
  if (!found) return [selector, "", ""];
  let node = found, back = "";
  for (; node && !back; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour !== "transparent" && !colour.endsWith(", 0)")) back = colour;
  }
  return [selector, getComputedStyle(found).color, back];
})
"""


def contrast(fore: str, back: str) -> float:
    """WCAG contrast ratio of two computed `rgb(...)` colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(fore), luminance(back)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_has_enough_contrast(served: Served, phone: BrowserContext) -> None:
    url, settings, fake = served
    page = phone.new_page()
    sign_in(page, url, person_token(url, settings, "Ada"))
    say(page, "My sister Ada lives in Porto.")
    expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
    fake.down = True
    say(page, "Hello?")
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#log .note")).to_be_visible()
    chat = [
        "h1",
        "#state",
        "#banner-text",
        "#banner-next",
        "#retry-now",
        ".tabs a[aria-current]",
        ".tabs a:not([aria-current])",
        "#who",
        ".log li.user .text",
        ".log li.assistant .text",
        ".log li .note",
        "#send",
    ]
    found = page.evaluate(COLOURS, chat)
    fake.down = False
    page.get_by_role("link", name="Memory").click()
    expect(page.locator(".memory").first).to_be_visible()
    memory = ["h2", ".hint", "#memory-status", ".memory .what", ".memory .meta", "button.warn"]
    found += page.evaluate(COLOURS, memory)
    for selector, fore, back in found:
        assert fore and back, selector
        assert contrast(fore, back) >= 4.5, (selector, fore, back)


def test_someone_deleted_meanwhile_is_signed_out_with_a_reason(
    served: Served, phone: BrowserContext
) -> None:
    url, settings, _ = served
    token = person_token(url, settings, "Ada")
    page = phone.new_page()
    sign_in(page, url, token)
    me = httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    admin = {"Authorization": f"Bearer {(settings.home / 'admin.token').read_text().strip()}"}

    # the page's event stream is open: what follows is the reply's 401
    connected(url, settings, 1, within_s=10.0)
    assert httpx.delete(f"{url}/v1/people/{me['id']}", headers=admin).status_code == 204
    say(page, "Hello?")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("no longer works")
    assert page.evaluate("localStorage.getItem('samantha.token')") is None


class InProcess:
    """The app in a uvicorn thread on a fixed port, with the scripted model; it can be
    stopped mid-reply and started again on the same home and port."""

    def __init__(self, settings: Settings, fake: ScriptedLLM) -> None:
        self.settings, self.fake, self.port = settings, fake, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        app = create_app(self.settings, llm=self.fake)
        config = uvicorn.Config(
            app, port=self.port, log_level="warning", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        assert wait_until_up(self.url)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def test_a_reply_cut_off_by_a_stopping_server_is_answered_once_when_it_is_back(
    tmp_path: Path, phone: BrowserContext
) -> None:
    fake = ScriptedLLM()
    fake.replies = ["one two three four five six seven eight nine ten", "I am back, and here."]
    fake.delay = 0.3
    server = InProcess(make_settings(tmp_path / "home"), fake)
    server.start()
    try:
        token = person_token(server.url, server.settings, "Ada")
        page = phone.new_page()
        sign_in(page, server.url, token)
        say(page, "Tell me a story.")
        expect(page.locator("#log li.assistant.live .text")).to_contain_text("two")
        server.stop()  # mid-reply
        expect(page.locator("#banner")).to_be_visible()
        fake.delay = 0
        server.start()
        expect(page.locator("#banner")).to_be_hidden(timeout=60_000)
        expect(page.locator("#log li.assistant[data-id]")).to_have_count(1)
        want = [["user", "Tell me a story."], ["assistant", "I am back, and here."]]
        assert on_screen(page) == want
        kept = history(server.url, token)
        assert [(m["role"], m["status"]) for m in kept] == [
            ("user", "complete"),
            ("assistant", "interrupted"),
            ("assistant", "complete"),
        ]
        page.reload()
        expect(page.locator("#log li[data-id]")).to_have_count(2)
        assert on_screen(page) == want
    finally:
        server.stop()
