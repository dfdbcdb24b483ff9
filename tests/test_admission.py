"""Admission: a bounded line served fairly, clear refusals, and slots always given back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from samantha.admission import SERVER_SLOTS, Admission, Ticket
from samantha.cli.talk import _one_turn
from samantha.errors import Busy, InputError, ModelError, ModelUnavailable, TooManyReplies
from samantha.llm.embedded import EmbeddedLLM
from samantha.reply import Reply
from samantha.store import Person
from samantha.system import Samantha, running
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
    embedded = EmbeddedLLM("smollm2-135m", make_settings(tmp_path, llm_parallel=3))
    line = Admission.for_model(embedded.settings, embedded)  # llama.cpp's own slots
    assert (line.slots, line.queue) == (3, 12)
    await embedded.close()


@pytest.fixture
async def tight(tmp_path: Path, fake: ScriptedLLM) -> AsyncIterator[Samantha]:
    """One slot, one place in line, one reply per person."""
    settings = make_settings(
        tmp_path / "home", reply_concurrency=1, reply_queue_per_slot=1, replies_per_person=1
    )
    async with running(settings, llm=fake) as system:
        yield system


async def said(sam: Samantha, name: str, text: str = "hello there") -> tuple[Person, int]:
    person = await sam.person_named(name, create=True)
    assert person
    conversation = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conversation.id, text)
    return person, conversation.id


async def finished(started: list[asyncio.Task[Reply]]) -> None:
    """Read the replies started to their ends, all at once: which of them took the slot
    and which waited in line is a race, and the one waiting ends only after the other is
    read to its end (read in turn, the waiting one first, neither would end)."""

    async def read(task: asyncio.Task[Reply]) -> str:
        return await (await task).read_all()

    await asyncio.gather(*(read(task) for task in started))


def refusals(sam: Samantha, reason: str) -> float | None:
    return sam.metrics.registry.get_sample_value(
        "samantha_replies_refused_total", {"reason": reason}
    )


def idle(sam: Samantha) -> bool:
    line = sam.companion.admission
    return (line.running, line.waiting, line.admitted) == (0, 0, 0)


async def test_slots_are_given_back_however_a_reply_ends(
    tight: Samantha, fake: ScriptedLLM
) -> None:
    sam = tight
    theo, cid = await said(sam, "theo")
    await (await sam.companion.reply(theo, cid)).read_all()  # complete
    assert idle(sam)
    with pytest.raises(InputError):  # nothing left to answer
        await sam.companion.reply(theo, cid)
    assert idle(sam)
    fake.down = True
    await sam.companion.say(theo, cid, "still there?")
    with pytest.raises(ModelUnavailable):
        await sam.companion.reply(theo, cid)
    assert idle(sam)
    fake.down, fake.replies = False, ["   "]
    with pytest.raises(ModelError):  # an empty reply
        await sam.companion.reply(theo, cid)
    assert idle(sam)
    fake.fail_after, fake.replies = 2, ["one two three four"]
    reply = await sam.companion.reply(theo, cid)
    with pytest.raises(ModelError):  # the model breaks mid-stream
        await reply.read_all()
    assert idle(sam) and reply.status == "interrupted"
    fake.fail_after = None
    reply = await sam.companion.reply(theo, cid)
    pieces = aiter(reply)
    await anext(pieces)
    await reply.close()  # the reader left after the first word
    assert idle(sam) and reply.status == "interrupted"
    reply = await sam.companion.reply(theo, cid)
    await reply.close()  # nobody ever read it
    assert idle(sam) and reply.status == "interrupted"
    stored = await sam.store.messages(theo.id, cid)
    assert (stored[-1].role, stored[-1].status) == ("assistant", "interrupted")
    with pytest.raises(RuntimeError):
        aiter(reply)  # a closed reply cannot be read afterwards
    await reply.close()  # and closing it again does nothing
    assert idle(sam)


async def test_a_waiting_reply_cancelled_leaves_the_line(
    tight: Samantha, fake: ScriptedLLM
) -> None:
    sam, line = tight, tight.companion.admission
    fake.gate = asyncio.Event()
    theo, theo_cid = await said(sam, "theo")
    amy, amy_cid = await said(sam, "amy")
    first = asyncio.create_task(sam.companion.reply(theo, theo_cid))
    await until(lambda: len(fake.prompts) == 1)  # Theo's reply holds the slot
    waiting = asyncio.create_task(sam.companion.reply(amy, amy_cid))
    await until(lambda: line.waiting == 1)
    waiting.cancel()  # Amy's client went away while she was in line
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert (line.waiting, line.admitted, len(fake.prompts)) == (0, 1, 1)
    fake.gate.set()
    await (await first).read_all()
    assert idle(sam)
    assert [m.role for m in await sam.store.messages(amy.id, amy_cid)] == ["user"]  # kept


async def test_memory_answers_need_no_slot(tight: Samantha, fake: ScriptedLLM) -> None:
    sam = tight
    fake.gate = asyncio.Event()
    theo, theo_cid = await said(sam, "theo")
    holding = asyncio.create_task(sam.companion.reply(theo, theo_cid))
    await until(lambda: sam.companion.admission.running == 1)
    amy, amy_cid = await said(sam, "amy", "What do you remember about me?")
    answer = await (await sam.companion.reply(amy, amy_cid)).read_all()  # no waiting
    assert answer and len(fake.prompts) == 1  # from her store, not the model
    assert sam.companion.admission.deepest == 0
    fake.gate.set()
    await (await holding).read_all()
    assert idle(sam)


async def test_refusals_are_counted(tight: Samantha, fake: ScriptedLLM) -> None:
    sam = tight
    fake.gate = asyncio.Event()
    started = []
    for name in ("theo", "amy"):  # one generating, one in line
        person, cid = await said(sam, name)
        started.append(asyncio.create_task(sam.companion.reply(person, cid)))
        await until(lambda: sam.companion.admission.admitted == len(started))
    late, late_cid = await said(sam, "ben")
    with pytest.raises(Busy):
        await sam.companion.reply(late, late_cid)
    theo = await sam.person_named("theo")
    assert theo
    second = await sam.store.create_conversation(theo.id)
    await sam.companion.say(theo, second.id, "and another thing")
    with pytest.raises(TooManyReplies):
        await sam.companion.reply(theo, second.id)
    assert refusals(sam, "busy") == refusals(sam, "too_many_replies") == 1
    fake.gate.set()
    await finished(started)
    assert idle(sam)


async def test_the_terminal_chat_is_never_refused(tmp_path: Path, fake: ScriptedLLM) -> None:
    """One person at a terminal waits for each reply before the next: always let in, even
    with a single slot, no line and one reply per person."""
    settings = make_settings(
        tmp_path / "home", reply_concurrency=1, reply_queue_per_slot=0, replies_per_person=1
    )
    async with running(settings, llm=fake) as sam:
        person = await sam.person_named("theo", create=True)
        assert person
        conversation = await sam.store.create_conversation(person.id)
        for text in ("hi", "how are you?", "tell me something"):
            await _one_turn(sam, "theo", text, conversation.id)
        stored = await sam.store.messages(person.id, conversation.id)
        assert [m.role for m in stored] == ["user", "assistant"] * 3
        assert refusals(sam, "busy") == refusals(sam, "too_many_replies") == 0


async def test_a_person_in_crisis_is_never_refused(tight: Samantha, fake: ScriptedLLM) -> None:
    sam = tight
    fake.gate = asyncio.Event()
    started = []
    for name in ("theo", "amy"):  # the slot and the line are full
        person, cid = await said(sam, name)
        started.append(asyncio.create_task(sam.companion.reply(person, cid)))
        await until(lambda: sam.companion.admission.admitted == len(started))
    ben, cid = await said(sam, "ben", "I don't want to be alive anymore")
    care = await (await sam.companion.reply(ben, cid)).read_all()
    assert "988" in care and refusals(sam, "busy") == 0
    theo = await sam.person_named("theo")  # theo's one reply is on the way, and still
    assert theo
    second = await sam.store.create_conversation(theo.id)
    await sam.companion.say(theo, second.id, "I want to kill myself")
    assert "988" in await (await sam.companion.reply(theo, second.id)).read_all()
    fake.gate.set()
    await finished(started)
    assert idle(sam)
