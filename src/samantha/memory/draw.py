"""What learning draws from a person's new turns, before anything is written: each turn's
searchable text, its context, vector and kinds, and the memories the rules find in it.

It only reads the store, so it runs where recall runs: in the person's recall worker once
that is up (``memory.workers``), in the server's process otherwise. Under load the server's
one core of Python bounds it (issue 4), and drawing (reading the turns, the rules, the
embedder, WordNet) was a tenth of its event loop's samples (py-spy, 8,316 people) and all
of its learning thread's. The server keeps what must stay with it: asking the model for
memories, when it does, and the write. A worker draws between recalls, so a long batch
(an embedder that takes a while over 64 turns) holds up the recalls queued behind it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from samantha.embeddings import Embedder
from samantha.memory.extract import extract, search_text
from samantha.memory.kinds import kinds_of
from samantha.memory.recall import CONTEXT_TURNS, STOPWORDS, Offload, inline
from samantha.store import Learned, Message, NewMemory, Store

EMBED_BATCH = 256  # texts per call to the embedder
LEARN_BATCH = 64  # turns learned (or given their kinds) at a time


@dataclass(frozen=True)
class Drawn:
    """A batch of the person's unlearned turns and what was drawn from them."""

    batch: list[Message]
    learned: list[Learned]
    memories: list[NewMemory]  # found by the rules, each with its vector


class Drawer:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        self_name: str,
        extract_from: Sequence[str],
        offload: Offload = inline,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.self_name = self_name
        self.extract_from = tuple(extract_from)
        self.offload = offload

    async def draw(self, person_id: int, person_name: str, other_name: str = "") -> Drawn | None:
        """The person's next :data:`LEARN_BATCH` unlearned turns, drawn; None if none."""
        batch = await self.store.unlearned(person_id, limit=LEARN_BATCH)
        if not batch:
            return None
        theirs = [m for m in batch if m.role in self.extract_from]
        memories = [found for message in theirs for found in extract(message)]
        before = await self._previous(person_id, batch)
        learned, vectors = await self.index(
            batch, before, [m.text for m in memories], person_name, other_name
        )
        memories = [replace(m, vector=v) for m, v in zip(memories, vectors, strict=True)]
        return Drawn(batch, learned, memories)

    async def index(
        self,
        batch: Sequence[Message],
        before: Mapping[int, Sequence[Message]],
        memories: Sequence[str],
        person_name: str,
        other_name: str = "",
    ) -> tuple[list[Learned], list[bytes | None]]:
        """What full-text and dense search need for these turns, and vectors for memories."""
        speakers = self.speakers(person_name, other_name)
        texts = [search_text(m, speakers[m.role]) for m in batch]
        turn_vectors, memory_vectors = await self.embed([m.content for m in batch], list(memories))
        kinds = await self.kinds(batch)
        learned = []
        for m, text, vector, kind in zip(batch, texts, turn_vectors, kinds, strict=True):
            prior = before.get(m.id, ())
            context = " ".join(p.content for p in prior)
            nearest_first = tuple(p.id for p in reversed(prior))
            learned.append(Learned(m.id, text, vector, context, nearest_first, m.content, kind))
        return learned, memory_vectors

    def speakers(self, person_name: str, other_name: str = "") -> dict[str, str]:
        """Who speaks in each role: the person, and the other speaker (her, in live chat)."""
        return {"user": person_name, "assistant": other_name or self.self_name}

    async def kinds(self, batch: Sequence[Message]) -> list[str | None]:
        """What each turn's nouns are kinds of (WordNet is read from disk the first time);
        none for turns of roles memories are not drawn from (her own replies, in live
        chat): what a person asks after is what they named."""
        texts = [m.content if m.role in self.extract_from else "" for m in batch]
        found: list[str | None] = await self.offload(
            lambda: [kinds_of(text, STOPWORDS) if text else "" for text in texts]
        )
        return found

    async def embed(
        self, turns: list[str], memories: list[str]
    ) -> tuple[list[bytes | None], list[bytes | None]]:
        if self.embedder is None:
            return [None] * len(turns), [None] * len(memories)
        embedder, texts = self.embedder, turns + memories
        blobs: list[bytes | None] = []
        for start in range(0, len(texts), EMBED_BATCH):  # a whole archive is embedded in parts
            chunk = texts[start : start + EMBED_BATCH]
            rows = await self.offload(functools.partial(embedder.embed, chunk))
            blobs += [row.tobytes() for row in rows]
        return blobs[: len(turns)], blobs[len(turns) :]

    async def _previous(self, person_id: int, batch: list[Message]) -> dict[int, list[Message]]:
        """Each message's previous turns in its conversation (oldest first), for context
        indexing."""
        before: dict[int, list[Message]] = {}
        last: dict[int, list[Message]] = {}
        for message in batch:
            prior = last.get(message.conversation_id)
            if prior is None:
                prior = await self.store.messages(
                    person_id, message.conversation_id, before_id=message.id, limit=CONTEXT_TURNS
                )
                last[message.conversation_id] = prior
            before[message.id] = prior[-CONTEXT_TURNS:]
            prior.append(message)
        return before
