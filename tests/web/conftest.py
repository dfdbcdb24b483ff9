"""The real app, store and auth with the scripted model, for every HTTP test; a headless
Chromium for the page."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    sync_playwright,
)

from samantha.config import Settings
from samantha.web import create_app
from tests.conftest import free_port, make_settings, wait_until_up
from tests.fakes import ScriptedLLM


@pytest.fixture
def fake_model() -> ScriptedLLM:
    return ScriptedLLM()


@pytest.fixture
def client(settings: Settings, fake_model: ScriptedLLM) -> Iterator[TestClient]:
    with TestClient(create_app(settings, llm=fake_model)) as c:
        yield c


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Settings, ScriptedLLM]]:
    """A real server on loopback (uvicorn in a thread) with the scripted model."""
    settings = make_settings(tmp_path / "home", events_heartbeat_s=0.2)
    fake = ScriptedLLM()
    port = free_port()
    # a finished departure stops the server, never the test process (the default: SIGTERM)
    app = create_app(settings, llm=fake, stop=lambda: setattr(server, "should_exit", True))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    assert wait_until_up(url)
    yield url, settings, fake
    server.should_exit = True
    thread.join(timeout=10)


# Debian's chromium, never a downloaded browser. Without the background-networking flags
# Chromium tries to reach Google's services, which a closed network refuses.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = ViewportSize(width=375, height=740)
DESKTOP = ViewportSize(width=1280, height=800)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium, shared by a module's tests; each test opens its own context.

    Per module, not per session: while Playwright's sync API runs, its event loop is the
    thread's running loop, and async tests after it could not start theirs."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so a fixture can see whether it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class PageLog:
    """What the pages of a context asked for, got, logged and threw, with the time since
    the context opened: printed when a test fails, so a failure seen only in CI explains
    itself."""

    def __init__(self, context: BrowserContext) -> None:
        self.started = time.monotonic()
        self.lines: list[str] = []
        context.on("request", lambda r: self.add(f"-> {r.method} {r.url}"))
        context.on("response", lambda r: self.add(f"<- {r.status} {r.url}"))
        context.on("requestfailed", lambda r: self.add(f"!! {r.method} {r.url}: {r.failure}"))
        context.on("console", lambda m: self.add(f"console.{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.add(f"uncaught: {e.error}"))

    def add(self, line: str) -> None:
        self.lines.append(f"{time.monotonic() - self.started:7.2f} s  {line}")

    def dump(self, context: BrowserContext) -> None:
        print("\n".join(["what the page did:", *self.lines]))
        for page in context.pages:
            with contextlib.suppress(Exception):  # the page may be gone or hung
                print(f"page {page.url}:\n{page.locator('body').inner_html(timeout=2_000)}")


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A phone-sized page context (375 x 740, 2x pixels)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    context.set_default_timeout(20_000)
    log = PageLog(context)
    yield context
    outcome = getattr(request.node, "report_call", None)
    if outcome is not None and outcome.failed:
        log.dump(context)
    context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Callable[[Page | Locator, str], Path]:
    """Save a screenshot (of a page, or a part of it) under the test's tmp dir, and to
    $SAMANTHA_SCREENSHOTS if it is set (SAMANTHA_SCREENSHOTS=/tmp/shots pytest tests/web)."""
    keep = os.environ.get("SAMANTHA_SCREENSHOTS")

    def shot(what: Page | Locator, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        what.screenshot(path=str(path))
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path

    return shot
