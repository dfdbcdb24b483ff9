"""Talking to her on the page: Chromium's fake microphone plays a recorded question, the
hold-to-talk button sends it, and her spoken answer plays while both sides' words appear.
Real ears and voice, scripted model, Debian's chromium."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from samantha.config import Settings
from samantha.voice import Sound, Voice
from samantha.web import create_app
from tests.conftest import free_port, make_settings, silence, spoken, wait_until_up
from tests.fakes import ScriptedLLM
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.web.test_browser import Shots
from tests.web.test_openai_compat import person_token

QUESTION = "Tell me something that will make me smile."
ANSWER = "Think of a puppy in a raincoat. Does that help?"
Served = tuple[str, Settings, ScriptedLLM]


@pytest.fixture(scope="module")
def microphone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake microphone hears, over and over: a pause, the question, a pause."""
    path = tmp_path_factory.mktemp("mic") / "question.wav"
    path.write_bytes(Sound(silence(0.5) + spoken(QUESTION) + silence(2.5), 16000).wav())
    return path


@pytest.fixture(scope="module")
def talking_browser(microphone: Path) -> Iterator[Browser]:
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",  # allow the microphone without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def served_with_voice(tmp_path: Path, voice: Voice) -> Iterator[Served]:
    settings = make_settings(tmp_path / "home")
    fake = ScriptedLLM()
    port = free_port()
    app = create_app(settings, llm=fake, speech=voice)
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    assert wait_until_up(url)
    yield url, settings, fake
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def phone_with_mic(talking_browser: Browser) -> Iterator[BrowserContext]:
    context = talking_browser.new_context(viewport=PHONE, device_scale_factor=2)
    context.set_default_timeout(30_000)
    yield context
    context.close()


def test_hold_to_talk_she_hears_and_answers_aloud(
    served_with_voice: Served, phone_with_mic: BrowserContext, shots: Shots
) -> None:
    url, settings, fake = served_with_voice
    # every reply is the answer: a reply begun in a pause that turns out not to be the end
    # (a slow machine hears one inside the question) is dropped, and must not take it
    fake.default = ANSWER
    token = person_token(url, settings, "Theo")
    page = phone_with_mic.new_page()
    page.add_init_script(  # count what she plays, to know her voice reached the speakers
        "window.played = 0; const start = AudioBufferSourceNode.prototype.start;"
        "AudioBufferSourceNode.prototype.start = function (...a) {"
        " window.played += this.buffer.duration; return start.apply(this, a); };"
    )
    page.goto(f"{url}/#token={token}")
    talk = page.get_by_role("button", name="Hold to talk")
    expect(talk).to_be_visible()
    shots(page, "voice-ready")
    box = talk.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator("#talk")).to_have_text("Listening…")
    page.wait_for_timeout(3500)  # the pause and the question, once
    page.mouse.up()
    mine = page.locator("#log li.user[data-id]")
    expect(mine).to_have_count(1)
    assert re.findall(r"[a-z]+", mine.inner_text().lower())[-5:] == [
        "that",
        "will",
        "make",
        "me",
        "smile",
    ]
    expect(page.locator("#log li.assistant[data-id] .text")).to_have_text(ANSWER)
    page.wait_for_function("window.played > 1.5")  # both phrases, about 3 s of her voice
    shots(page, "voice-answered")
