"""The end of a load run: thousands of people pausing between messages all hear it."""

from __future__ import annotations

import asyncio

from samantha.bench.bell import Bell

HANG_GUARD_S = 60  # only so that a broken bell fails instead of hanging the suite


async def test_a_pause_ends_when_its_time_is_up() -> None:
    bell = Bell()
    await asyncio.wait_for(bell.pause(0.01), HANG_GUARD_S)
    assert not bell.rung
    assert not bell._waiting  # nothing left behind by a pause that ended


async def test_ringing_ends_every_pause_and_later_ones_at_once() -> None:
    bell = Bell()
    pauses = [asyncio.create_task(bell.pause(3600)) for _ in range(2000)]
    await asyncio.sleep(0)  # all of them waiting
    assert not any(p.done() for p in pauses)
    bell.ring()
    await asyncio.wait_for(asyncio.gather(*pauses), HANG_GUARD_S)
    await asyncio.wait_for(bell.pause(3600), HANG_GUARD_S)
    assert bell.rung
    assert not bell._waiting


async def test_a_cancelled_pause_leaves_nothing_behind() -> None:
    bell = Bell()
    pause = asyncio.create_task(bell.pause(3600))
    await asyncio.sleep(0)
    pause.cancel()
    await asyncio.gather(pause, return_exceptions=True)
    assert not bell._waiting
    bell.ring()  # ringing after it does nothing to it
