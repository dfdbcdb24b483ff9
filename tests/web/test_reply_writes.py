"""What a streamed reply hands the ASGI server, write by write: "accepted" with her first
words, then her words, and the last event with the end of the body (issue 4)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

from fastapi import FastAPI

from samantha.auth import add_person
from samantha.config import Settings
from samantha.web import create_app
from tests.fakes import ScriptedLLM

Part = tuple[str, bool]  # a body part's text, and whether more was to come


async def asked(app: FastAPI, path: str, token: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ASGI messages the app sends for one request, the client staying to the end."""
    data = json.dumps(body).encode()
    sent: list[dict[str, Any]] = []
    given = False
    stays = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": data, "more_body": False}
        await stays.wait()  # never: the client does not leave
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8316),
        "state": {},
    }
    await app(scope, receive, send)
    return sent


async def written(settings: Settings, fake: ScriptedLLM, openai: bool = False) -> list[Part]:
    """The body parts of one streamed reply to "hi" (OpenAI's chat completions, or a
    conversation's messages), each with whether more was to come."""
    app = create_app(settings, llm=fake)
    async with app.router.lifespan_context(app):
        _, token = await add_person(app.state.samantha.store, "Theo")
        if openai:
            said = [{"role": "user", "content": "hi"}]
            body = {"model": "samantha", "stream": True, "messages": said}
            sent = await asked(app, "/v1/chat/completions", token, body)
        else:
            made = await asked(app, "/v1/conversations", token, {})
            assert made[0]["status"] == 201
            path = f"/v1/conversations/{json.loads(made[1]['body'])['id']}/messages"
            sent = await asked(app, path, token, {"content": "hi"})
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    return [(m["body"].decode(), m["more_body"]) for m in sent[1:]]


async def test_accepted_goes_with_the_first_words_and_done_with_the_end(
    settings: Settings, fake: ScriptedLLM
) -> None:
    fake.replies = ["Hello there, Theo, how was the river?"]
    parts = await written(settings, fake)
    first, *_, (last, more) = parts
    assert first[0].startswith("event: accepted\n") and "\n\nevent: token\n" in first[0]
    assert last.count("event: ") == 1 and last.startswith("event: done\n") and not more
    assert all(more for _, more in parts[:-1]) and all(body for body, _ in parts)
    said = "".join(
        json.loads(line[6:])["text"]
        for body, _ in parts
        for line in body.splitlines()
        if line.startswith("data: ") and '"text"' in line and "message" not in line
    )
    assert said == "Hello there, Theo, how was the river?"
    assert json.loads(last.split("data: ", 1)[1])["message"]["content"] == said


async def test_an_error_goes_with_the_end(settings: Settings, fake: ScriptedLLM) -> None:
    fake.replies = ["one two three four five"]
    fake.fail_after = 2
    parts = await written(settings, fake)
    last, more = parts[-1]
    assert "event: error\n" in last and "event: done" not in last and not more
    assert parts[0][0].startswith("event: accepted\n")


async def test_an_openai_stream_ends_with_done_in_its_last_write(
    settings: Settings, fake: ScriptedLLM
) -> None:
    fake.replies = ["Hello there"]
    parts = await written(settings, fake, openai=True)
    (first, _), *_, (last, more) = parts
    assert '"role": "assistant"' in first and first.count("data: ") == 2
    assert last.endswith('"finish_reason": "stop"}]}\n\ndata: [DONE]\n\n') and not more
