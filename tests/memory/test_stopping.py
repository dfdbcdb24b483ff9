"""A stop waits for learning only so long; what it did not reach is learned after the next
start, and never twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from samantha import memory as memory_module
from samantha.embeddings import HashEmbedder
from samantha.memory import Memory
from samantha.memory.draw import LEARN_BATCH, Drawn
from samantha.store import Person, SQLiteStore, Store
from samantha.system import running
from tests.conftest import make_settings
from tests.fakes import ScriptedLLM


async def talked(store: Store, name: str, turns: int) -> Person:
    person = await store.create_person(name, f"hash-{name}")
    conversation = await store.create_conversation(person.id)
    for i in range(turns):
        await store.add_message(person.id, conversation.id, "user", f"{name} said thing {i}")
    return person


def slowed(memory: Memory, seconds: float) -> asyncio.Event:
    """Each batch drawn takes ``seconds`` longer, as under load; the event is set once a
    second batch is being drawn (the first is written)."""
    draw = memory.drawer.draw
    calls = 0
    second = asyncio.Event()

    async def slow(person_id: int, person_name: str, other_name: str = "") -> Drawn | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            second.set()
        await asyncio.sleep(seconds)
        return await draw(person_id, person_name, other_name)

    memory.drawer.draw = slow  # type: ignore[method-assign]
    return second


async def unlearned(store: Store, person: Person) -> int:
    return len(await store.unlearned(person.id, limit=10_000))


async def test_a_bounded_drain_stops_learning_and_the_next_start_resumes_it(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    busy = await talked(store, "Ada", LEARN_BATCH * 6)
    idle = await talked(store, "Bo", 0)
    memory = Memory(store, HashEmbedder())
    second = slowed(memory, 0.2)
    memory.learn_soon(busy.id, busy.name)
    await second.wait()  # a first batch is written, the second is being drawn
    await memory.drain(0.05)
    left = await unlearned(store, busy)
    assert 0 < left < LEARN_BATCH * 6  # stopped where it was
    memory.learn_soon(busy.id, busy.name)  # stopping: nothing new starts
    assert not memory._tasks
    await memory.close()
    assert [p.id for p in await store.people_to_learn()] == [busy.id]

    again = Memory(store, HashEmbedder())
    assert await again.resume() == 1
    await again.drain()
    assert await unlearned(store, busy) == 0
    assert await store.people_to_learn() == []
    assert await again.resume() == 0  # nothing twice
    await again.close()
    assert idle.id not in [p.id for p in await store.people_to_learn()]
    await store.close()


async def test_an_unbounded_drain_learns_everything(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    person = await talked(store, "Ada", LEARN_BATCH * 2 + 3)
    memory = Memory(store, HashEmbedder())
    slowed(memory, 0.01)
    memory.learn_soon(person.id, person.name)
    await memory.drain()
    assert await unlearned(store, person) == 0
    await memory.close()
    await store.close()


async def test_only_so_many_people_are_learned_from_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest wait their turn holding nothing drawn (issue 4), and all are learned."""
    monkeypatch.setattr(memory_module, "LEARNING_AT_ONCE", 3)
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    people = [await talked(store, f"P{n}", 2) for n in range(10)]
    memory = Memory(store, HashEmbedder())
    draw, drawing, most = memory.drawer.draw, 0, 0

    async def counted(person_id: int, person_name: str, other_name: str = "") -> Drawn | None:
        nonlocal drawing, most
        drawing += 1
        most = max(most, drawing)
        try:
            await asyncio.sleep(0.01)
            return await draw(person_id, person_name, other_name)
        finally:
            drawing -= 1

    memory.drawer.draw = counted  # type: ignore[method-assign]
    for person in people:
        memory.learn_soon(person.id, person.name)
    await memory.drain()
    assert most == 3
    assert [await unlearned(store, person) for person in people] == [0] * 10
    await memory.close()
    await store.close()


async def test_only_whole_turns_with_words_wait_to_be_learned(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    person = await store.create_person("Ada", "hash-ada")
    conversation = await store.create_conversation(person.id)
    await store.add_message(person.id, conversation.id, "assistant", "", status="streaming")
    row = await store.add_message(person.id, conversation.id, "assistant", "", status="streaming")
    await store.finish_message(person.id, row.id, "half a thought", "interrupted")
    assert await store.people_to_learn() == []
    await store.add_message(person.id, conversation.id, "user", "a whole turn")
    assert await store.people_to_learn() == [person]
    await store.close()


async def test_a_starting_system_learns_what_its_last_stop_left(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    async with running(settings, llm=ScriptedLLM()) as sam:
        person = await talked(sam.store, "Ada", 3)  # kept, not learned (as a stop leaves it)
    async with running(settings, llm=ScriptedLLM()) as sam:
        await sam.memory.drain()
        assert await sam.store.people_to_learn() == []
        found = await sam.memory.recall(person.id, "thing 2")
        assert "Ada said thing 2" in [r.message.content for r in found]
