"""Admission: a bounded line served fairly, clear refusals, and slots always given back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from samantha.admission import SERVER_SLOTS, Admission, Ticket
from samantha.errors import Busy, TooManyReplies
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM


async def until(condition: Callable[[], bool], tries: int = 5000) -> None:
    """Let other tasks and the store's thread run until ``condition`` holds."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


async def queued(line: Admission, person_id: int) -> Ticket:
    ticket = line.enter(person_id)
    try:
        await ticket.slot()
    except BaseException:
        ticket.release()  # as Companion.reply does
        raise
    return ticket


async def test_the_line_is_served_round_robin_by_person() -> None:
    line = Admission(slots=1, queue=8, per_person=3)
    holder = await queued(line, 0)
    a1 = asyncio.create_task(queued(line, 1))
    a2 = asyncio.create_task(queued(line, 1))
    await until(lambda: line.waiting == 2)
    b1 = asyncio.create_task(queued(line, 2))  # B asks after both of A's replies
    await until(lambda: line.waiting == 3)
    served = []
    running = holder
    for _ in range(3):
        running.release()
        await until(lambda: any(t.done() and t not in served for t in (a1, a2, b1)))
        (running_task,) = [t for t in (a1, a2, b1) if t.done() and t not in served]
        served.append(running_task)
        running = running_task.result()
    assert served == [a1, b1, a2]  # B's first before A's second
    running.release()
    assert (line.running, line.waiting, line.admitted) == (0, 0, 0)
    assert line.deepest == 3


async def test_a_full_line_refuses_at_once_with_a_retry_time() -> None:
    line = Admission(slots=1, queue=2, per_person=5, guess=30)
    holder = await queued(line, 1)
    waiters = [asyncio.create_task(queued(line, p)) for p in (2, 3)]
    await until(lambda: line.waiting == 2)
    with pytest.raises(Busy) as refused:
        line.enter(4)
    assert (refused.value.status, refused.value.code) == (503, "busy")
    # nothing measured yet: each of the 2 in line is guessed to take 30 s on the one slot
    assert refused.value.retry_after == 60
    assert line.admitted == 3 and line.deepest == 2
    holder.release()
    for waiter in waiters:
        (await waiter).release()
    assert line.admitted == 0
    line.enter(4).release()  # room again


async def test_one_person_may_have_only_a_few_replies_on_the_way() -> None:
    line = Admission(slots=4, queue=4, per_person=2, guess=0.2)
    first, second = line.enter(1), line.enter(1)
    with pytest.raises(TooManyReplies) as refused:
        line.enter(1)
    assert (refused.value.status, refused.value.code) == (429, "too_many_replies")
    assert refused.value.retry_after >= 1  # never less than a second
    other = line.enter(2)  # someone else is let in
    first.release()
    line.enter(1).release()
    for ticket in (second, other):
        ticket.release()
        ticket.release()  # a second release changes nothing
    assert line.admitted == 0


async def test_a_cancelled_waiter_leaves_the_line_without_a_slot() -> None:
    line = Admission(slots=1, queue=4, per_person=2)
    holder = await queued(line, 1)
    waiter = asyncio.create_task(queued(line, 2))
    await until(lambda: line.waiting == 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (line.waiting, line.admitted) == (0, 1)
    holder.release()
    assert line.running == 0  # the slot is free, not held for the one who left


async def test_a_slot_freed_as_its_waiter_is_cancelled_goes_on() -> None:
    line = Admission(slots=1, queue=4, per_person=2)
    holder = await queued(line, 1)
    gone, handed, next_one = (asyncio.create_task(queued(line, p)) for p in (2, 3, 4))
    await until(lambda: line.waiting == 3)
    gone.cancel()  # cancelled, but it has not run since: it is still in line
    holder.release()  # skips it, hands the slot to the next
    handed.cancel()  # cancelled just after the slot was handed over
    for task in (gone, handed):
        with pytest.raises(asyncio.CancelledError):
            await task
    ticket = await next_one  # the slot went on to the next in line
    assert (line.running, line.waiting, line.admitted) == (1, 0, 1)
    ticket.release()
    assert line.running == 0


async def test_slots_are_sized_from_the_model(tmp_path: Path, fake: ScriptedLLM) -> None:
    settings = make_settings(tmp_path, reply_queue_per_slot=3, replies_per_person=1)
    line = Admission.for_model(settings, fake)
    assert (line.slots, line.queue, line.per_person) == (SERVER_SLOTS, 3 * SERVER_SLOTS, 1)
    line = Admission.for_model(make_settings(tmp_path, reply_concurrency=5), fake)
    assert (line.slots, line.queue) == (5, 20)
