"""Long-term memory, per person: every turn kept and indexed, memories found in it, recall.

``Memory`` is the one object the rest of Samantha talks to. After each turn it learns in
the background (a reply never waits): it indexes the new turns for full-text and dense
search and keeps the memories found in the person's words, each linked to its source.
In each turn it recalls what matters for the newest message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Container, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import TypeVar

from samantha.config import VECTOR_CACHE_MB
from samantha.embeddings import Embedder
from samantha.errors import SamanthaError
from samantha.llm import LLM, ChatMessage
from samantha.memory.draw import LEARN_BATCH, Drawer, Drawn
from samantha.memory.kinds import wordnet
from samantha.memory.recall import CONTEXT_TURNS, Recaller, Recollection, Weights, query_terms
from samantha.memory.understand import UNDERSTOOD_AT_ONCE, understand
from samantha.memory.workers import RecallWorkers, Recipe, WorkerGone
from samantha.store import Learned, MemoryRecord, Message, NewMemory, Person, Store
from samantha.tasks import finished, stop

__all__ = ["STOP_LEARNING_S", "Memory", "Recollection", "Weights", "query_terms"]
REFLECT_AFTER = 8  # new memories before she reflects again
IDLE_WAIT_S = 20.0  # background learning waits at most this long for the model to be idle
# how many people's turns are learned from at once; the others wait their turn holding
# nothing but their place. Under load learning waits for the writer: at 8,316 people about
# 1,400 people's drawn turns, memories and vectors waited there at once, 10 s each, and
# the garbage collector walked them all at every young collection (issue 4). As many as
# one write of the store carries (``GROUP``) keep its learning batches full.
LEARNING_AT_ONCE = 64
# how long a stopping server waits for learning; then it stops where it is (a batch is
# written whole or not at all), and the rest is learned after the next start (resume)
STOP_LEARNING_S = 10.0
log = logging.getLogger(__name__)
T = TypeVar("T")


class Memory:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        *,
        self_name: str = "Samantha",
        weights: Weights | None = None,
        extract_from: Sequence[str] = ("user",),
        llm: LLM | None = None,
        idle: LLM | None = None,
        cache_mb: int = VECTOR_CACHE_MB,
        processes: int = 0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.self_name = self_name
        self.extract_from = tuple(extract_from)
        self.llm = llm  # when set, the model also reads the person's words for memories
        self.idle = idle or llm  # the model whose replies background learning makes way for
        self.recaller = Recaller(store, embedder, weights or Weights(), cache_mb << 20)
        self._workers = self._recall_workers(processes)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.drawer = Drawer(store, embedder, self_name, self.extract_from, self._offload)
        self._pool.submit(wordnet)  # read now (most of a second), not in the first question
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._learning = asyncio.Semaphore(LEARNING_AT_ONCE)
        self._again: set[int] = set()
        self._kinded: set[int] = set()  # people whose older turns have been given kinds
        self._embedded: set[int] = set()  # people whose vectors are all this embedder's
        self._stopping = False  # learning was stopped (drain): nothing new starts
        self._resuming: asyncio.Task[None] | None = None

    @property
    def workers(self) -> RecallWorkers | None:
        """The recall workers, where there are any: they also count relationships."""
        return self._workers

    def _recall_workers(self, processes: int) -> RecallWorkers | None:
        """Workers that recall in processes of their own (``memory.workers``), where the
        store can be read from another process and the embedder built there again."""
        reader = self.store.reader()
        if not processes or reader is None:
            return None
        if self.embedder is not None and not self.embedder.portable:
            return None
        name = self.embedder.name if self.embedder is not None else None
        weights, cache = self.recaller.weights, self.recaller.cache_bytes // processes
        recipe = Recipe(reader, name, weights, cache, self.self_name, self.extract_from)
        return RecallWorkers(recipe, processes)

    async def close(self) -> None:
        await self.drain()
        self._pool.shutdown(wait=True)
        if self._workers is not None:  # stopped learning leaves draws queued: not answered
            await self._workers.close(at_once=self._stopping)

    # -- learning -----------------------------------------------------------------------------
    def learn_soon(self, person_id: int, person_name: str) -> None:
        """Learn from the person's new turns in the background; calls coalesce per person."""
        if self._stopping:
            return  # learned from after the next start (resume)
        if person_id in self._tasks:
            self._again.add(person_id)
            return
        task = asyncio.get_running_loop().create_task(self._learn_loop(person_id, person_name))
        self._tasks[person_id] = task

    async def _learn_loop(self, person_id: int, person_name: str) -> None:
        try:
            while True:
                async with self._learning:
                    self._again.discard(person_id)
                    if self.idle is not None:  # let the reply someone waits for finish first
                        await self.idle.until_idle(IDLE_WAIT_S)
                    learned = await self.learn(person_id, person_name)
                if learned and self.llm is not None:
                    await self.reflect(person_id, person_name)
                if person_id not in self._again or self._stopping:
                    return
        except Exception:  # learning is background work; the conversation goes on
            log.exception("learning failed for person %s", person_id)
        finally:
            self._tasks.pop(person_id, None)

    async def learned(self, person_id: int) -> None:
        """Wait until what is being learned about the person now has been (at once if
        nothing is)."""
        task = self._tasks.get(person_id)
        if task is not None:
            await asyncio.wait((task,))

    async def forget_person(self, person_id: int) -> None:
        """Stop learning about a deleted person and drop what is held about them in memory.

        Learning that was under way could not write anything back (the store refuses rows
        for a person who is gone), but it holds their words while it waits for the model.
        """
        self._again.discard(person_id)
        self._kinded.discard(person_id)
        self._embedded.discard(person_id)
        task = self._tasks.get(person_id)
        if task is not None:
            await stop([task])
        self.recaller.forget(person_id)
        if self.embedder is not None:
            self.embedder.forget()
        if self._workers is not None:
            self._workers.restart()

    async def drain(self, longest: float | None = None) -> None:
        """Wait for the learning under way. With ``longest``, for at most that long: then
        learning stops where it is (a batch is written whole or not at all), and what it
        did not reach is learned from after the next start (:meth:`resume`). A server
        that had fallen behind on learning (``bench load`` at 8,316 people, 300 s) went on
        learning for over six minutes after it was asked to stop."""
        late = await finished(lambda: (*self._tasks.values(), self._resuming), longest)
        if late:
            self._stopping = True
            await stop(late)

    async def resume(self) -> int:
        """Learn, in the background and one person at a time, from the turns a stop left
        unlearned (:meth:`drain`); how many people have some."""
        people = await self.store.people_to_learn()
        if people:
            self._resuming = asyncio.get_running_loop().create_task(self._resume(people))
        return len(people)

    async def _resume(self, people: Sequence[Person]) -> None:
        for person in people:
            self.learn_soon(person.id, person.name)
            task = self._tasks.get(person.id)
            if task is None:  # stopping
                return
            await asyncio.wait((task,))

    async def learn(self, person_id: int, person_name: str, *, other_name: str = "") -> int:
        """Index and extract from every unlearned turn of this person; return how many.

        What the turns hold is drawn by the person's recall worker where there is one
        (``memory.draw``), here otherwise; the model's reading, if any, and the write are
        done here."""
        total, more = 0, True
        while more and not self._stopping:
            if not (drawn := await self._draw(person_id, person_name, other_name)):
                break
            batch, memories = drawn.batch, drawn.memories
            more = len(batch) == LEARN_BATCH  # a short batch was the last: no read to find none
            if self.llm is not None:
                understood = await self._understand(self.llm, batch, person_name, other_name)
                _, vectors = await self.drawer.embed([], [m.text for m in understood])
                memories += [replace(m, vector=v) for m, v in zip(understood, vectors, strict=True)]
            await self.store.learn(person_id, drawn.learned, memories)
            total += len(batch)
        await self._learn_kinds(person_id)
        await self._learn_vectors(person_id)
        return total

    async def _understand(
        self, llm: LLM, batch: Sequence[Message], person_name: str, other_name: str
    ) -> list[NewMemory]:
        """What the model finds in the turns of the roles memories are drawn from: each
        role's turns under its own speaker's name (both speakers are people in the LoCoMo
        benchmark, and her words are not the person's), :data:`UNDERSTOOD_AT_ONCE` turns at a
        reading. A reading keeps at most ``understand.MAX_ITEMS`` (4) memories, so a long
        batch read at once (a backlog after a restart, a whole history: up to 64 turns)
        kept four memories of it all."""
        names = self.drawer.speakers(person_name, other_name)
        found: list[NewMemory] = []
        for role in self.extract_from:
            theirs = [m for m in batch if m.role == role]
            for start in range(0, len(theirs), UNDERSTOOD_AT_ONCE):
                chunk = theirs[start : start + UNDERSTOOD_AT_ONCE]
                found += await understand(llm, names.get(role, person_name), chunk)
        return found

    async def _draw(self, person_id: int, person_name: str, other_name: str) -> Drawn | None:
        if self._workers is not None:
            with contextlib.suppress(WorkerGone):
                return await self._workers.draw(person_id, person_name, other_name)
        return await self.drawer.draw(person_id, person_name, other_name)

    async def _learn_kinds(self, person_id: int) -> None:
        """Index the kinds of the person's turns learned without them (before WordNet was
        read for them: an older version, or WordNet missing then). Once done for a person,
        it is not looked for again in this process: their turns learned since have kinds."""
        if person_id in self._kinded or self._stopping:
            return
        more = True
        while more and (batch := await self.store.unkinded(person_id, limit=LEARN_BATCH)):
            more = len(batch) == LEARN_BATCH
            found = await self.drawer.kinds(batch)
            if None in found:  # no WordNet in this process: nothing can be added
                break
            await self.store.add_kinds(
                person_id, [(m.id, k) for m, k in zip(batch, found, strict=True) if k is not None]
            )
        self._kinded.add(person_id)

    async def _learn_vectors(self, person_id: int) -> None:
        """Embed again the texts of the person's vectors that another embedder made
        (``SAMANTHA_EMBEDDER`` changed since they were learned), which recall leaves out.
        Once done for a person, it is not looked for again in this process."""
        if self.embedder is None or person_id in self._embedded:
            return
        size, more = self.embedder.dim * 4, True  # float32 parts
        while more:
            if self._stopping:
                return
            found = await self.store.foreign_vectors(person_id, size, limit=LEARN_BATCH)
            if not found:
                break
            more = len(found) == LEARN_BATCH
            blobs, _ = await self.drawer.embed([text for _, _, text in found], [])
            await self.store.replace_vectors(
                person_id,
                [(item, i, b) for (item, i, _), b in zip(found, blobs, strict=True) if b],
            )
        self._embedded.add(person_id)

    async def _offload(self, work: Callable[[], T]) -> T:
        """CPU work (the embedder, WordNet) on the learning thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    async def index_history(
        self,
        person_name: str,
        history: Sequence[Message],
        memories: Sequence[str],
        *,
        skip: Container[int] = (),
    ) -> tuple[list[Learned], list[bytes | None]]:
        """Index a whole history held in hand, as learning does, but find no memories in it.

        For an imported archive: its memories come with it (``memories`` are their texts,
        to be embedded), and drawing them again would keep each one twice. Turns are
        indexed as learning indexes them, with the turns around each as its context; turns
        in ``skip`` (forgotten ones) are left out entirely, as turns and as context.
        """
        kept = sorted((m for m in history if m.id not in skip), key=lambda m: m.id)
        before: dict[int, list[Message]] = {}
        last: dict[int, list[Message]] = {}
        for message in kept:
            prior = last.setdefault(message.conversation_id, [])
            before[message.id] = prior[-CONTEXT_TURNS:]
            prior.append(message)
        batch = [m for m in kept if m.status == "complete" and m.content]
        return await self.drawer.index(batch, before, memories, person_name)

    async def reflect(self, person_id: int, person_name: str) -> int | None:
        """Write down what she has come to understand, once enough new memories gathered."""
        if self.llm is None:
            return None
        last = await self.store.memories(person_id, kind="reflection", limit=1)
        since = last[0].id if last else 0
        fresh = [
            m
            for m in await self.store.memories(person_id, limit=REFLECT_AFTER * 4)
            if m.id > since and m.kind != "reflection"
        ]
        if len(fresh) < REFLECT_AFTER:
            return None
        notes = "\n".join(f"- {m.text}" for m in reversed(fresh))
        prompt = [
            ChatMessage(
                "system",
                f"You are {self.self_name}, reflecting privately on what you have come to "
                f"understand about {person_name}: what matters to them, patterns, how to be "
                "good to them. Two or three sentences, only from these memories; invent nothing.",
            ),
            ChatMessage("user", notes),
        ]
        try:
            text = (await self.llm.complete(prompt, max_tokens=160)).strip()
        except SamanthaError as exc:
            log.warning("reflection skipped: %s", exc)
            return None
        if len(text) < 10:
            return None
        sources = sorted({s for m in fresh for s in m.source_ids})[-40:]
        reflection = NewMemory(
            "reflection", text[:1000], tuple(sources), importance=0.8, origin="reflection"
        )
        return (await self.store.add_memories(person_id, [reflection]))[0]

    # -- recall and control -------------------------------------------------------------------
    async def recall(
        self,
        person_id: int,
        query: str,
        *,
        k: int = 10,
        today: date | None = None,
        exclude: Sequence[int] = (),
        speakers: Mapping[str, str] | None = None,
    ) -> list[Recollection]:
        if self._workers is not None:
            found = await self._workers.recall(
                person_id, query, k=k, today=today, exclude=exclude, speakers=speakers
            )
            if found is not None:
                return found
        return await self.recaller.recall(
            person_id, query, k=k, today=today, exclude=exclude, speakers=speakers
        )

    async def correct(self, person_id: int, memory_id: int, text: str) -> MemoryRecord:
        _, (vector,) = await self.drawer.embed([], [text])
        new_id = await self.store.correct_memory(person_id, memory_id, text, vector)
        return await self.store.memory(person_id, new_id)

    async def sources(self, person_id: int, record: MemoryRecord) -> list[Message]:
        return await self.store.messages_by_id(person_id, record.source_ids)
