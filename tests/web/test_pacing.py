"""Event streams opened in a crowd go in a few at each turn of the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from samantha.web.events import PATH
from samantha.web.pacing import Paced, Turnstile


class Turns:
    """Counts the event loop's turns: a callback that comes back once a turn."""

    def __init__(self) -> None:
        self.now = 0
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        self.now += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def crowd(turnstile: Turnstile, size: int, turns: Turns) -> list[asyncio.Task[int]]:
    """``size`` waiters arriving in the same turn; each task returns the turn it went on."""

    async def one() -> int:
        await turnstile.through()
        return turns.now

    return [asyncio.create_task(one()) for _ in range(size)]


def by_turn(went: list[int]) -> list[int]:
    """How many went through in each turn they went in, in order."""
    return [went.count(turn) for turn in sorted(set(went))]


async def test_a_crowd_goes_through_a_few_each_turn_first_come_first_through() -> None:
    turns, turnstile = Turns(), Turnstile(per_turn=3)
    waiters = await crowd(turnstile, 10, turns)
    went = list(await asyncio.gather(*waiters))
    turns.stop()
    assert by_turn(went) == [3, 3, 3, 1]
    assert went == sorted(went)  # in the order they came
    assert turnstile.waiting == 0


async def test_one_given_up_while_waiting_takes_no_place() -> None:
    turns, turnstile = Turns(), Turnstile(per_turn=2)
    waiters = await crowd(turnstile, 5, turns)
    await asyncio.sleep(0)  # all five are waiting
    assert turnstile.waiting == 5
    waiters[1].cancel()
    done = await asyncio.gather(*waiters, return_exceptions=True)
    turns.stop()
    assert isinstance(done[1], asyncio.CancelledError)
    went = [turn for turn in done if isinstance(turn, int)]
    assert by_turn(went) == [2, 2]  # the first, then the third beside it


async def test_one_alone_goes_through_at_the_next_turn_and_a_new_crowd_as_before() -> None:
    turns, turnstile = Turns(), Turnstile(per_turn=2)
    began = turns.now
    [alone] = await crowd(turnstile, 1, turns)
    assert await alone - began == 3  # its task's first step, the turnstile's turn, its own
    later = await crowd(turnstile, 3, turns)  # the turnstile stopped turning, and starts again
    went = list(await asyncio.gather(*later))
    turns.stop()
    assert by_turn(went) == [2, 1]


def test_a_line_left_on_an_ended_loop_does_not_hold_up_the_next() -> None:
    turnstile, ended = Turnstile(per_turn=1), asyncio.new_event_loop()

    async def leave_a_line() -> list[Coroutine[Any, Any, None]]:
        waits = [turnstile.through() for _ in range(3)]
        for wait in waits:
            wait.send(None)  # in line, waiting for its turn
        return waits

    waits = ended.run_until_complete(leave_a_line())  # one turn came, then the loop ended
    ended.close()
    assert turnstile.waiting == 2
    for wait in waits:
        wait.close()

    async def through_on_a_new_loop() -> None:
        await asyncio.wait_for(turnstile.through(), 5)  # a hang would time out, not pass

    asyncio.run(through_on_a_new_loop())
    assert turnstile.waiting == 0


def test_a_turnstile_lets_someone_through() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Turnstile(per_turn=0)


def recording(calls: list[str]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])

    return app


async def test_only_the_paced_paths_wait_their_turn() -> None:
    calls: list[str] = []
    paced = Paced(recording(calls), paths={PATH}, per_turn=1)

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: object) -> None:
        pass

    def request(path: str) -> Scope:
        return {"type": "http", "path": path, "method": "GET"}

    streams = [asyncio.create_task(paced(request(PATH), receive, send)) for _ in range(3)]
    others = [paced(request("/v1/conversations"), receive, send) for _ in range(2)]
    for other in others:  # nothing to wait for: in the same step, before any stream
        with pytest.raises(StopIteration):
            other.send(None)
    assert calls == ["/v1/conversations"] * 2
    await asyncio.gather(*streams)
    assert calls[2:] == [PATH] * 3
    lifespan = paced({"type": "lifespan", "path": PATH}, receive, send)  # not HTTP: not paced
    with pytest.raises(StopIteration):
        lifespan.send(None)
