"""One clock beats every quiet stream, never a busy one, and a slow client holds up only
its own beats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

import pytest

from samantha.heartbeats import Beat, Heartbeats


class Beats(Counter[str]):
    """Beats counted by stream, which a test can wait for."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def beat(self, name: str) -> None:
        self[name] += 1
        self.changed.set()

    def of(self, name: str) -> Beat:
        async def beat() -> None:
            self.beat(name)

        return beat

    async def until(self, name: str, n: int) -> None:
        while self[name] < n:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)


async def test_quiet_streams_beat_and_busy_ones_do_not() -> None:
    clock, beats = Heartbeats(1.0), Beats()
    with clock.beating(beats.of("quiet")), clock.beating(beats.of("busy")) as busy:

        async def talking() -> None:
            while True:
                busy.sent()
                await asyncio.sleep(0.01)

        talker = asyncio.create_task(talking())
        await beats.until("quiet", 2)
        talker.cancel()
        assert beats["busy"] == 0
        await beats.until("busy", 1)  # quiet now: it beats
    assert clock.streams == 0


async def test_streams_opened_together_beat_apart() -> None:
    """Thousands of streams opened in one moment (a restart, ``bench load``) must not beat
    in one tick for as long as they stay open."""
    clock, loop, all_in = Heartbeats(0.5), asyncio.get_running_loop(), asyncio.Event()
    first: dict[int, float] = {}  # each stream's first beat

    def noting(n: int) -> Beat:
        async def beat() -> None:
            first.setdefault(n, loop.time())
            if len(first) == 200:
                all_in.set()

        return beat

    with contextlib.ExitStack() as stack:
        for n in range(200):
            stack.enter_context(clock.beating(noting(n)))
        await asyncio.wait_for(all_in.wait(), 10)
    assert max(first.values()) - min(first.values()) > 0.25  # not one moment, nor one tick
    assert len({round(t / (0.5 / 64)) for t in first.values()}) > 20


async def test_a_client_that_stops_reading_holds_up_only_its_own_beats() -> None:
    clock, beats, stuck = Heartbeats(0.2), Beats(), asyncio.Event()
    stuck_beat = asyncio.Event()

    async def never_written() -> None:  # a client whose socket is full: send never returns
        beats.beat("stuck")
        stuck_beat.set()
        await stuck.wait()

    with clock.beating(beats.of("other")), clock.beating(never_written) as held:
        await asyncio.wait_for(stuck_beat.wait(), 10)
        pending = held.task
        await beats.until("other", 5)
        assert beats["stuck"] == 1  # no queue of beats behind the one not written
        assert pending is not None and not pending.done()
    await asyncio.sleep(0)
    assert pending.cancelled()  # the stream ended: its beat is not written after


async def test_a_beat_that_fails_is_logged_and_the_clock_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, beats = Heartbeats(0.1), Beats()

    async def failing() -> None:
        beats.beat("failing")
        raise ConnectionResetError("the client went")

    caplog.set_level(logging.DEBUG, logger="samantha.heartbeats")
    with clock.beating(failing), clock.beating(beats.of("other")):
        await beats.until("failing", 3)
        await beats.until("other", 3)
    assert "the client went" in caplog.text


async def test_the_clock_stops_with_its_last_stream_and_when_closed() -> None:
    clock, beats = Heartbeats(0.05), Beats()
    with clock.beating(beats.of("one")):
        await beats.until("one", 1)
        ticking = clock._clock
    assert ticking is not None
    await asyncio.wait_for(ticking, 5)  # it ends by itself, not cancelled
    with clock.beating(beats.of("two")):  # and starts again with the next
        await beats.until("two", 1)
        clock.close()
        await asyncio.sleep(0.1)
        assert clock._clock is not None and clock._clock.cancelled()
        then = beats["two"]
        await asyncio.sleep(0.2)  # four intervals
        assert beats["two"] == then


def test_an_interval_must_be_positive() -> None:
    for every in (0, -1.0):
        with pytest.raises(ValueError, match="positive"):
            Heartbeats(every)
