"""Replies over HTTP when many people talk at once: clear refusals, kept messages, no leaks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from samantha.auth import add_person
from samantha.config import Settings
from samantha.errors import ModelError, StoreError
from samantha.reply import gathered
from samantha.system import Samantha, running
from samantha.web import create_app
from samantha.web.replies import ReplyStream, start_reply
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM
from tests.test_admission import idle, said, until
from tests.web.test_api import events

Who = dict[str, str]


def tight(home: Path, **overrides: Any) -> Settings:
    """One slot, one place in line, one reply per person."""
    limits = {"reply_concurrency": 1, "reply_queue_per_slot": 1, "replies_per_person": 1}
    return make_settings(home, **{**limits, **overrides})


@asynccontextmanager
async def served(
    settings: Settings, fake: ScriptedLLM
) -> AsyncIterator[tuple[httpx.AsyncClient, Samantha]]:
    """The real app in this event loop, so a test can hold the fake model's gate."""
    app = create_app(settings, llm=fake)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://samantha") as client:
            yield client, app.state.samantha


async def person(client: httpx.AsyncClient, sam: Samantha, name: str) -> tuple[Who, int]:
    """A new person's headers and a fresh conversation of theirs."""
    _, token = await add_person(sam.store, name)
    who = {"Authorization": f"Bearer {token}"}
    res = await client.post("/v1/conversations", json={}, headers=who)
    return who, int(res.json()["id"])


def send(
    client: httpx.AsyncClient, who: Who, cid: int, text: str, stream: bool = True
) -> asyncio.Task[httpx.Response]:
    body = {"content": text, "stream": stream}
    url = f"/v1/conversations/{cid}/messages"
    return asyncio.create_task(client.post(url, json=body, headers=who, timeout=60))


async def history(client: httpx.AsyncClient, who: Who, cid: int) -> list[tuple[str, str]]:
    res = await client.get(f"/v1/conversations/{cid}/messages", headers=who)
    return [(m["role"], m["content"]) for m in res.json()]


async def test_a_full_line_answers_503_and_the_kept_message_is_answered_later(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.gate = asyncio.Event()
    async with served(tight(tmp_path / "home"), fake) as (client, sam):
        line = sam.companion.admission
        (theo, theo_cid), (amy, amy_cid), (ben, ben_cid) = [
            await person(client, sam, name) for name in ("Theo", "Amy", "Ben")
        ]
        generating = send(client, theo, theo_cid, "hello")
        await until(lambda: line.running == 1)
        waiting = send(client, amy, amy_cid, "hi there")
        await until(lambda: line.waiting == 1)

        res = await client.post(
            f"/v1/conversations/{ben_cid}/messages", json={"content": "anyone?"}, headers=ben
        )
        assert res.status_code == 503, res.text
        error = res.json()["error"]
        assert error["code"] == res.headers["X-Error-Code"] == "busy"
        assert int(res.headers["Retry-After"]) >= 1
        assert error["kept_message"]["content"] == "anyone?"
        assert f"/v1/conversations/{ben_cid}/reply" in error["message"]

        other = (await client.post("/v1/conversations", json={}, headers=theo)).json()["id"]
        res = await client.post(
            f"/v1/conversations/{other}/messages", json={"content": "me again"}, headers=theo
        )
        assert res.status_code == 429, res.text
        assert res.json()["error"]["code"] == "too_many_replies"
        assert int(res.headers["Retry-After"]) >= 1
        assert res.json()["error"]["kept_message"]["content"] == "me again"

        fake.gate.set()
        for task in (generating, waiting):
            done = await task
            assert done.status_code == 200 and events(done.text)[-1][0] == "done"
        assert await history(client, ben, ben_cid) == [("user", "anyone?")]  # kept, unanswered
        retry = await client.post(f"/v1/conversations/{ben_cid}/reply", headers=ben)
        assert retry.status_code == 200
        assert events(retry.text)[-1][1]["message"]["content"] == fake.default
        assert await history(client, ben, ben_cid) == [
            ("user", "anyone?"),
            ("assistant", fake.default),
        ]
        assert idle(sam) and line.deepest == 1


async def test_an_openai_client_resending_a_refused_request_is_answered_once(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.gate = asyncio.Event()
    async with served(tight(tmp_path / "home"), fake) as (client, sam):
        line = sam.companion.admission
        (theo, theo_cid), (amy, amy_cid), (ben, _) = [
            await person(client, sam, name) for name in ("Theo", "Amy", "Ben")
        ]
        holding = [send(client, theo, theo_cid, "hello"), send(client, amy, amy_cid, "hi")]
        await until(lambda: line.admitted == 2)
        request = {"model": "samantha", "messages": [{"role": "user", "content": "Hi, Ben here"}]}
        res = await client.post("/v1/chat/completions", json=request, headers=ben)
        assert res.status_code == 503 and res.json()["error"]["code"] == "busy"
        assert int(res.headers["Retry-After"]) >= 1
        fake.gate.set()
        for task in holding:
            assert (await task).status_code == 200
        again = await client.post("/v1/chat/completions", json=request, headers=ben)
        assert again.status_code == 200
        assert again.json()["choices"][0]["message"]["content"] == fake.default
        conversations = (await client.get("/v1/conversations", headers=ben)).json()
        (chat,) = [c["id"] for c in conversations if c["title"] == "OpenAI client"]  # just one
        assert await history(client, ben, chat) == [
            ("user", "Hi, Ben here"),
            ("assistant", fake.default),
        ]


def request_that_leaves(left: asyncio.Event) -> Request:
    """A request whose client disconnects when ``left`` is set."""

    async def receive() -> Message:
        await left.wait()
        return {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


async def test_a_client_that_leaves_while_in_line_costs_no_slot(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.gate = asyncio.Event()
    async with running(tight(tmp_path / "home"), llm=fake) as sam:
        line = sam.companion.admission
        theo, theo_cid = await said(sam, "theo")
        amy, amy_cid = await said(sam, "amy")
        generating = asyncio.create_task(sam.companion.reply(theo, theo_cid))
        await until(lambda: line.running == 1)
        left = asyncio.Event()
        starting = asyncio.create_task(
            start_reply(request_that_leaves(left), sam.companion, amy, amy_cid)
        )
        await until(lambda: line.waiting == 1)
        left.set()
        assert await starting is None
        assert (line.waiting, line.admitted) == (0, 1)
        fake.gate.set()
        await (await generating).read_all()
        assert idle(sam) and len(fake.prompts) == 1  # Amy's reply never reached the model
        assert [m.role for m in await sam.store.messages(amy.id, amy_cid)] == ["user"]


@pytest.mark.parametrize("fails_at", [0, 2], ids=["before-the-body", "mid-reply"])
async def test_a_streamed_reply_whose_client_left_is_closed(
    tmp_path: Path, fake: ScriptedLLM, fails_at: int
) -> None:
    async with running(tight(tmp_path / "home"), llm=fake) as sam:
        theo, cid = await said(sam, "theo")
        fake.replies = ["one two three four five"]
        reply = await sam.companion.reply(theo, cid)
        sent: list[Message] = []

        async def send(message: Message) -> None:
            if len(sent) == fails_at:
                raise OSError("the client has gone")
            sent.append(message)

        async def receive() -> Message:
            return {"type": "http.disconnect"}

        async def body() -> AsyncIterator[str]:
            async for piece in reply:
                yield piece

        scope = {"type": "http", "asgi": {"spec_version": "2.4"}}
        with pytest.raises(ClientDisconnect):
            await ReplyStream(reply, body(), {})(scope, receive, send)
        assert reply.status == "interrupted" and idle(sam)
        stored = (await sam.store.messages(theo.id, cid))[-1]
        assert (stored.role, stored.status) == ("assistant", "interrupted")


async def test_three_hundred_people_at_once_are_answered_or_refused_never_lost(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    """300 people send at once (30 of them twice, in two conversations) to 4 slots and a
    line of 16: the first 20 are answered, every other gets 503/429 with Retry-After and
    its message kept; then each kept message is answered exactly once."""
    settings = make_settings(
        tmp_path / "home", reply_concurrency=4, reply_queue_per_slot=4, replies_per_person=1
    )
    fake.gate = asyncio.Event()
    async with served(settings, fake) as (client, sam):
        line = sam.companion.admission
        people = [await person(client, sam, f"person {i}") for i in range(300)]
        sends: list[tuple[Who, int, str, asyncio.Task[httpx.Response]]] = []
        for i, (who, cid) in enumerate(people):
            cids = [cid]
            if i < 30:
                cids.append(
                    (await client.post("/v1/conversations", json={}, headers=who)).json()["id"]
                )
            for n, c in enumerate(cids):
                text = f"hello from {i}, message {n}"
                sends.append((who, c, text, send(client, who, c, text, stream=i % 2 == 0)))
        tasks = [task for *_, task in sends]
        await until(lambda: sum(t.done() for t in tasks) + line.admitted == len(tasks), 60_000)
        fake.gate.set()
        answered, refused = [], []
        for who, cid, text, task in sends:
            res = await task
            if res.status_code == 200:
                answered.append((who, cid))
                continue
            assert res.status_code in (429, 503), res.text
            assert int(res.headers["Retry-After"]) >= 1
            assert (
                res.json()["error"]["code"]
                == {429: "too_many_replies", 503: "busy"}[res.status_code]
            )
            assert res.json()["error"]["kept_message"]["content"] == text
            refused.append((who, cid))
        assert len(answered) == line.slots + line.queue == 20
        assert line.deepest == line.queue  # the line filled and never went past its bound
        assert idle(sam)

        # everyone refused asks for the reply again, no more at once than there is room for
        room = asyncio.Semaphore(line.slots + line.queue)

        async def again(who: Who, cid: int) -> int:
            async with room:
                res = await client.post(f"/v1/conversations/{cid}/reply", headers=who)
                return res.status_code

        by_person: dict[str, list[int]] = {}
        for who, cid in refused:
            by_person.setdefault(who["Authorization"], []).append(cid)

        async def person_again(who: Who, cids: list[int]) -> list[int]:
            return [await again(who, cid) for cid in cids]  # one reply each at a time

        statuses = await asyncio.gather(
            *(person_again({"Authorization": auth}, cids) for auth, cids in by_person.items())
        )
        assert {s for per in statuses for s in per} == {200}
        for who, cid, text, _ in sends:
            assert await history(client, who, cid) == [("user", text), ("assistant", fake.default)]
        assert (await sam.store.counts())["messages"] == 2 * len(sends)
        assert line.deepest == line.queue and idle(sam)


async def pieces(*items: str | Exception) -> AsyncIterator[str]:
    for item in items:
        await asyncio.sleep(0)
        if isinstance(item, Exception):
            raise item
        yield item


async def sent(stream: AsyncIterator[str]) -> list[str]:
    return [piece async for piece in stream]


async def test_pieces_that_come_within_the_interval_go_out_as_one() -> None:
    assert await sent(gathered(pieces("I", " was", " thinking"), every=3600)) == [
        "I",  # the first at once
        " was thinking",  # the rest came within the hour: together, at the end
    ]
    assert await sent(gathered(pieces("I", " was", " thinking"), every=0)) == [
        "I",
        " was",
        " thinking",
    ]
    assert await sent(gathered(pieces(), every=3600)) == []


async def test_pieces_held_when_the_model_fails_are_sent_before_the_error() -> None:
    got: list[str] = []
    with pytest.raises(ModelError, match="lost"):
        async for piece in gathered(pieces("I", " was", ModelError("lost")), every=3600):
            got.append(piece)
    assert got == ["I", " was"]  # the partial reply she kept is what the client saw


@asynccontextmanager
async def keeping_words(
    sam: Samantha, fake: ScriptedLLM, fail: bool = False
) -> AsyncIterator[list[str]]:
    """The person's words are written only once the model has been asked for her reply
    (or, with ``fail``, cannot be written then); the roles written, in order."""
    store, written = sam.store, list[str]()
    add = store.add_message

    async def add_message(
        person_id: int, conversation_id: int, role: Any, *a: Any, **k: Any
    ) -> Any:
        if role == "user":
            await until(lambda: len(fake.prompts) == 1)  # her reply began on the words
            if fail:
                raise StoreError("the disk is full")
        written.append(role)
        return await add(person_id, conversation_id, role, *a, **k)

    store.add_message = add_message  # type: ignore[method-assign]
    try:
        yield written
    finally:
        store.add_message = add  # type: ignore[method-assign]


async def test_her_reply_begins_while_the_words_are_kept_and_nothing_goes_before_them(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.replies = ["I remember the river."]
    async with served(make_settings(tmp_path / "home"), fake) as (client, sam):
        theo, cid = await person(client, sam, "Theo")
        async with keeping_words(sam, fake) as written:
            res = await send(client, theo, cid, "a walk by the river", stream=False)
        assert res.status_code == 200, res.text
        assert res.json()["reply"]["content"] == "I remember the river."
        assert written == ["user", "assistant"]  # her row only once theirs was kept
        assert await history(client, theo, cid) == [
            ("user", "a walk by the river"),
            ("assistant", "I remember the river."),
        ]


async def test_words_that_cannot_be_kept_end_the_reply_begun_on_them(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.replies = ["never sent"]
    async with served(make_settings(tmp_path / "home"), fake) as (client, sam):
        theo, cid = await person(client, sam, "Theo")
        async with keeping_words(sam, fake, fail=True) as written:
            res = await send(client, theo, cid, "a walk by the river")
        assert res.status_code == 500 and res.json()["error"]["code"] == "store_error"
        assert "never sent" not in res.text
        assert written == [] and await history(client, theo, cid) == []
        assert idle(sam) and sam.companion.flight.count == 0
