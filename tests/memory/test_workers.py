"""Recall in worker processes: the same answers as in the server's own process, nothing of
one person's reaching another's, and workers that die or hold a deleted person replaced."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from samantha.embeddings import Embedder, HashEmbedder
from samantha.embeddings.base import Vectors
from samantha.memory import Memory, Recollection
from samantha.memory.workers import DEATHS, RecallWorkers, WorkerGone, _Answers, _frame
from samantha.relationship import Relationships, tally
from samantha.store import Person, SQLiteStore
from tests.memory.test_recall import Clock, history

THEO = [
    "I love playing the violin on Sundays.",
    "That takes discipline!",
    "My sister Ada visits next Thursday.",
    "How exciting, are you close?",
    "My new cello teacher is strict but kind.",
    "Strict can be good.",
]
AMY = ["My secret: the passphrase is heliotrope-42.", "I will keep it.", "Ada is my friend."]
QUESTIONS = [
    "What instruments does Theo play?",
    "When is Ada coming?",
    "heliotrope-42 passphrase secret",
    "",
    "' OR 1=1; DROP TABLE messages; --",
]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[SQLiteStore, Memory, Clock]]:
    clock = Clock("2026-03-02 09:00")
    store = SQLiteStore(tmp_path / "m.db", clock=clock)
    await store.open()
    memory = Memory(store, HashEmbedder(), processes=2)
    yield store, memory, clock
    await memory.close()
    await store.close()


def workers(memory: Memory) -> RecallWorkers:
    assert memory._workers is not None
    return memory._workers


def shown(found: Sequence[Recollection]) -> list[tuple[int, float, list[int], bool]]:
    return [(r.message.id, round(r.score, 9), [m.id for m in r.memories], r.bears) for r in found]


def worker_pids(memory: Memory) -> list[int]:
    pids = workers(memory).pids()
    assert None not in pids, "every worker started"
    return [pid for pid in pids if pid is not None]


async def theo_and_amy(store: SQLiteStore, memory: Memory, clock: Clock) -> tuple[Person, Person]:
    """Two people with their histories learned, and the workers started."""
    theo = await store.create_person("Theo", "h-theo")
    amy = await store.create_person("Amy", "h-amy")
    await history(store, theo, THEO, clock)
    await history(store, amy, AMY, clock)
    await memory.learn(theo.id, "Theo")
    await memory.learn(amy.id, "Amy")
    await workers(memory).started()
    return theo, amy


async def test_workers_recall_what_the_server_would_and_only_the_persons_own(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    store, memory, clock = setup
    theo, amy = await theo_and_amy(store, memory, clock)
    assert len(set(worker_pids(memory)) | {os.getpid()}) == 3
    speakers = {"user": "Theo"}
    for question in QUESTIONS:
        here = await memory.recaller.recall(theo.id, question, k=6, speakers=speakers)
        there = await memory.recall(theo.id, question, k=6, speakers=speakers)
        assert shown(there) == shown(here), question
        assert all(r.message.person_id == theo.id for r in there)
        assert all("heliotrope" not in r.message.content for r in there)
    assert workers(memory).served == len(QUESTIONS)
    # the question after several things read WordNet in the worker, as it does here
    found = await memory.recall(theo.id, QUESTIONS[0], k=3, speakers=speakers)
    assert {"violin", "cello"} <= {w for r in found for w in r.message.content.split()}
    secret = await memory.recall(amy.id, "my passphrase heliotrope-42", k=3)
    assert any("heliotrope-42" in r.message.content for r in secret)


async def test_workers_draw_for_learning_what_the_server_would(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    """Learning's reading and drawing (memory.draw) runs in the person's worker once it
    is up, with the same outcome, and only ever reads that person's turns."""
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-theo")
    amy = await store.create_person("Amy", "h-amy")
    await history(store, amy, AMY, clock)
    await memory.learn(amy.id, "Amy")  # no worker started yet: drawn here, none started
    assert workers(memory).drawn == 0 and multiprocessing.active_children() == []
    ids = await history(store, theo, THEO, clock)
    await workers(memory).started()
    there = await workers(memory).draw(theo.id, "Theo", "")
    here = await memory.drawer.draw(theo.id, "Theo")
    assert there is not None and there == here
    assert [m.id for m in there.batch] == ids
    assert all(m.person_id == theo.id for m in there.batch)
    assert any(x.kinds for x in there.learned)  # WordNet read in the worker
    assert any("Ada" in m.text for m in there.memories)  # the rules found his sister
    assert await memory.learn(theo.id, "Theo") == len(THEO)
    assert workers(memory).drawn == 2  # the draw above, and learning's one short batch
    assert await workers(memory).draw(theo.id, "Theo", "") is None  # all learned now
    found = await memory.recall(theo.id, "When is Ada coming?", k=3)
    assert found and found[0].message.id == ids[2]
    assert not any("heliotrope" in r.message.content for r in found)


async def test_workers_count_relationships_as_the_server_would(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    """The relationship's count (relationship.tally) is read and worked out in the person's
    worker, at the server's clock, and kept by the server."""
    store, memory, clock = setup
    theo, amy = await theo_and_amy(store, memory, clock)
    clock.t += 3 * 86400  # days later, by the server's clock, which the worker is told
    now = store.now()
    there = await workers(memory).tally(theo.id, now)
    assert there == await tally(store, theo.id, now)
    bond, _ = there
    assert bond.person_id == theo.id and bond.updated_at == now
    assert bond.tallies.messages == len(THEO) // 2  # his own words, not Amy's
    kept = await Relationships(store, workers(memory)).update(theo)
    assert kept == bond and await store.bond(theo.id) == bond
    assert await store.bond(amy.id) is None  # counting Theo wrote nothing of hers


async def test_a_worker_that_dies_is_replaced_and_recall_goes_on(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-theo")
    ids = await history(store, theo, THEO, clock)
    await memory.learn(theo.id, "Theo")
    await workers(memory).started()
    before = worker_pids(memory)
    os.kill(before[theo.id % 2], signal.SIGKILL)
    # answered in the server's own process while the worker is replaced
    found = await memory.recall(theo.id, "When is Ada coming?")
    assert found[0].message.id == ids[2]
    served = workers(memory).served
    await workers(memory).started()
    after = worker_pids(memory)
    assert after[theo.id % 2] not in before
    found = await memory.recall(theo.id, "When is Ada coming?")
    assert found[0].message.id == ids[2]
    assert workers(memory).served == served + 1


async def test_deleting_a_person_replaces_every_worker(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    store, memory, clock = setup
    theo, amy = await theo_and_amy(store, memory, clock)
    assert await memory.recall(amy.id, "heliotrope-42")  # her vectors are now in a worker
    before = worker_pids(memory)
    await store.delete_person(amy.id)
    await memory.forget_person(amy.id)
    starting = list(workers(memory)._workers)
    await memory.forget_person(amy.id)  # the next deletion, at once: the new ones are kept
    assert workers(memory)._workers == starting
    await workers(memory).started()
    assert not set(worker_pids(memory)) & set(before)
    assert await memory.recall(amy.id, "heliotrope-42") == []
    assert await memory.recall(theo.id, "When is Ada coming?")


class Private(Embedder):
    """An embedder no other process can build again by name."""

    name, dim = "private:", 8

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows: Vectors = np.full((len(texts), self.dim), 1 / np.sqrt(self.dim), np.float32)
        return rows


async def test_without_a_portable_embedder_recall_stays_in_the_process(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    memory = Memory(store, Private(), processes=2)
    assert memory._workers is None
    await memory.close()
    await store.close()


async def test_many_people_recalled_at_once_each_get_their_own(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    store, memory, clock = setup
    people = [await store.create_person(f"P{i}", f"h-{i}") for i in range(200)]
    for i, who in enumerate(people):
        await history(store, who, [f"My locker code is code{i}x.", "Noted."], clock)
        await memory.learn(who.id, who.name)
    await workers(memory).started()
    asked = [memory.recall(who.id, "what is my locker code?", k=2) for who in people]
    for i, (who, found) in enumerate(zip(people, await asyncio.gather(*asked), strict=True)):
        assert found and all(r.message.person_id == who.id for r in found)
        assert any(f"code{i}x" in r.message.content for r in found)
        assert not any(f"code{j}x" in r.message.content for r in found for j in (i - 1, i + 1))
    assert workers(memory).served == len(people)


async def test_workers_that_cannot_start_are_given_up_after_a_few_tries(
    setup: tuple[SQLiteStore, Memory, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    _, memory, _ = setup
    recipe = replace(workers(memory).recipe, embedder="onnx:no-such-model")
    broken = RecallWorkers(recipe, 1)
    with pytest.raises(WorkerGone):
        await broken.started()
    for _ in range(DEATHS + 2):  # each call is answered at home; no endless new workers
        assert await broken.recall(1, "hello", k=3, today=None, exclude=(), speakers=None) is None
        with contextlib.suppress(WorkerGone):
            await broken.started()
    assert broken.deaths == DEATHS and broken.served == 0
    assert "recalling in the server's process from now on" in caplog.text
    await broken.close()


SERVER = """
import asyncio, os, sys
from pathlib import Path
from samantha.memory.recall import Weights
from samantha.relationship import Relationships, tally
from samantha.memory.workers import Recipe, RecallWorkers
from samantha.store import SQLiteStore

async def main() -> None:
    store = SQLiteStore(Path(sys.argv[1]))
    workers = RecallWorkers(Recipe(store.reader(), "hash:", Weights(), 1 << 20), 1)
    await workers.started()
    print(workers.pids()[0], flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_workers_end_with_a_server_that_is_killed(tmp_path: Path) -> None:
    """A killed server cannot shut its workers down; they must not live on holding
    people's vectors."""
    command = [sys.executable, "-c", SERVER, str(tmp_path / "m.db")]
    # stderr: the killed server's resource tracker complains of its semaphores
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as server:
        assert server.stdout is not None
        worker = Path(f"/proc/{server.stdout.readline().strip()}")
        server.kill()
    for _ in range(100):
        if not worker.exists() or " Z " in (worker / "stat").read_text():  # gone, or a zombie
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {worker.name} outlived its killed server")


async def test_no_worker_starts_until_something_is_recalled(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    """A command that never recalls (``samantha people add``) waits for no worker to load."""
    store, memory, clock = setup
    theo = await store.create_person("Theo", "h-theo")
    await history(store, theo, THEO, clock)
    await memory.learn(theo.id, "Theo")
    assert multiprocessing.active_children() == []
    assert await memory.recall(theo.id, "When is Ada coming?")  # at home, while it starts
    await workers(memory).started()
    assert len(multiprocessing.active_children()) == 2


async def test_a_server_starts_its_workers_before_anything_is_recalled(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    """``samantha serve`` starts them as it starts: the first people's recalls and
    learning then need not be done in the server, at its busiest."""
    store, memory, clock = setup
    workers(memory).start()
    assert len(multiprocessing.active_children()) == 2 and None not in workers(memory).pids()
    await workers(memory).started()
    theo = await store.create_person("Theo", "h-theo")
    await history(store, theo, THEO, clock)
    assert await memory.learn(theo.id, "Theo") == len(THEO)
    assert workers(memory).drawn == 1  # drawn in his worker, already up


async def test_workers_started_with_the_server_hold_their_peoples_vectors_first(
    setup: tuple[SQLiteStore, Memory, Clock],
) -> None:
    """Each worker reads the vectors of its own share of the people before it says it is
    ready, so nobody's first recall after a start reads them; one that replaces a dead
    worker starts as before, holding nobody's."""
    store, memory, clock = setup
    theo, amy = await theo_and_amy(store, memory, clock)
    await memory.close()  # started by theo_and_amy's recall: a server starts them itself
    memory = Memory(store, HashEmbedder(), processes=2)
    try:
        workers(memory).start()
        await workers(memory).started()
        held = [w.held for w in workers(memory)._workers if w is not None]
        assert sorted(held) == [1, 1]  # Theo in one, Amy in the other
        assert await memory.recall(amy.id, "heliotrope-42")
        os.kill(worker_pids(memory)[theo.id % 2], signal.SIGKILL)
        assert await memory.recall(theo.id, "When is Ada coming?")  # at home meanwhile
        await workers(memory).started()
        replaced = workers(memory)._workers[theo.id % 2]
        assert replaced is not None and replaced.held == 0
    finally:
        await memory.close()


class _Heard:
    """What a worker's answers settle, as :class:`_Answers` hands them on."""

    def __init__(self) -> None:
        self.process = type("P", (), {"pid": 1})()
        self.answers: list[tuple[int, bool, object]] = []

    def answered(self, call: int, ok: bool, value: object) -> None:
        if call < 0:
            raise KeyError(call)  # not a call it was given
        self.answers.append((call, ok, value))


class _Transport:
    closed = False

    def close(self) -> None:
        self.closed = True


async def test_answers_are_read_whole_however_the_socket_cuts_them() -> None:
    frames = [_frame((1, True, ["a", 2])), _frame((2, False, "why")), _frame((3, True, None))]
    stream = b"".join(frames)
    for cuts in ([1], [3, 9], [len(frames[0])], [len(stream) - 1], list(range(1, len(stream)))):
        heard, transport = _Heard(), _Transport()
        answers = _Answers(heard, asyncio.get_running_loop().create_future())  # type: ignore[arg-type]
        answers.connection_made(transport)  # type: ignore[arg-type]
        for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
            answers.data_received(stream[start:end])
        assert heard.answers == [(1, True, ["a", 2]), (2, False, "why"), (3, True, None)]
        assert not transport.closed


@pytest.mark.parametrize(
    "said", [_frame((-1, True, None)), _frame("not an answer"), b"\x00" * 7 + b"\x03abc"]
)
async def test_a_worker_that_answers_what_cannot_be_read_is_closed(said: bytes) -> None:
    heard, transport = _Heard(), _Transport()
    answers = _Answers(heard, asyncio.get_running_loop().create_future())  # type: ignore[arg-type]
    answers.connection_made(transport)  # type: ignore[arg-type]
    answers.data_received(said + _frame((4, True, "after")))
    assert transport.closed and heard.answers == []
