"""Hybrid recall over one person's memory: words, meaning, time, who spoke, and the turns
around a hit.

Four rankings are fused by reciprocal rank (each contributes ``weight / (60 + rank)``):
full-text BM25 over the person's turns (each read with the two turns either side of it as
context), BM25 over their memory records (credited to the turns they came from), and dense
cosine similarity over turn and record vectors. When the question names a time ("last
week", "in May 2023") turns from that time are lifted. Turns from the conversation where
the question's strongest hits lie are lifted a little, since what is asked about is
usually talked over for a while; then each strong turn lends part of its score to the turns
up to two away, since an answer often sits just before or after the words that match. A
question naming one speaker favours that speaker's turns (who said it matters: "what does
Melanie do to relax?"); its meaning is sought in their own words ("what do I do to relax?",
:func:`first_person`). A question asking after several things ("what activities does
Melanie do?") reads deeper, favours its speaker more, and its words are also sought in
what the turns' nouns are kinds of (``memory.kinds``): its answers lie in many turns, each
naming one example ("swimming", "pottery"). Everything is read through the store with the
person's id, so nothing of anyone else's can be ranked.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from samantha.config import VECTOR_CACHE_MB
from samantha.embeddings import Embedder
from samantha.memory.dates import find_times
from samantha.memory.kinds import asks_for_several
from samantha.memory.vectors import Matrix, VectorCache, similarities
from samantha.store import MemoryRecord, Message, Said, Store

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can can't could did didn't do does doesn't doing don't down
    during each few for from further had has have having he her here hers herself him himself
    his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most
    my myself no nor not of off on once only or other ought our ours ourselves out over own
    same she should so some such than that that's the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves may might also ever
    really much many remember tell told know say said like get got
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
RRF_K = 60.0
FEW = 10  # similarities too few to measure their own spread (``Weights.standout``)
CONTEXT_TURNS = 2  # turns either side of a turn that full-text search reads as its context
SAID_ONCE = 1 + 2 * CONTEXT_TURNS  # the rows holding a word said once: its turn, as context


def query_terms(text: str) -> list[str]:
    """Content words of a question, for full-text search (order kept, no repeats)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        word = word.strip("'-")
        if len(word) > 1 and word not in STOPWORDS:
            seen.setdefault(word.removesuffix("'s"), None)
    return list(seen)[:32]


def first_person(query: str, speakers: Mapping[str, str]) -> str:
    """``query`` as its speakers would put it of themselves: a speaker's name becomes "I",
    and their name with "'s" becomes "my" ("what does Melanie do to relax?" becomes "what
    does I do to relax?"). This is what dense recall embeds. Turns are embedded in their
    speakers' own words, which never name the speaker ("I signed up for a pottery class"),
    and MiniLM weighs a name heavily: on the LoCoMo dev split, where nearly every question
    names a speaker, the embedding alone found 0.321 of the evidence in its first ten
    (categories 1-4) with the names in, 0.601 with them taken out and 0.616 as here. Who said
    a turn is weighed apart (``Recaller._lift_speaker``)."""
    names = _names(speakers.values())
    if not names:
        return query
    query = re.sub(rf"{names}['\u2019]s(?!\w)", "my", query, flags=re.IGNORECASE)
    return re.sub(rf"{names}(?!\w)", "I", query, flags=re.IGNORECASE)


def named_speakers(query: str, speakers: Mapping[str, str]) -> set[str]:
    """The roles whose speaker ``query`` names: whole names, in any case, also with "'s"
    ("what do Melanie's kids like?" names Melanie; "Caroline" does not name Carol)."""
    return {
        role
        for role, name in speakers.items()
        if (pattern := _names([name])) and re.search(rf"{pattern}(?!\w)", query, re.IGNORECASE)
    }


def _names(names: Iterable[str]) -> str:
    """A pattern that starts at a whole word and matches any of ``names``, the longest
    first; empty when there are none."""
    kept = sorted({name.strip() for name in names if name.strip()}, key=len, reverse=True)
    return rf"(?<!\w)(?:{'|'.join(map(re.escape, kept))})" if kept else ""


@dataclass(frozen=True)
class Weights:
    """How much each signal counts. Measured on the LoCoMo dev split (``bench memory``,
    recall@10 over categories 1-4, 0.762 before this set): the turns around a turn as
    indexed context matter most (two either side 0.767 against one 0.762; three 0.776 but
    costlier rows, no gain once the lifts below are on); a lift for the conversation
    holding the strongest hits (``session``) with spreading two turns away (``reach``)
    brings 0.781 (0.6 and 1.0 did worse; so did spreading the largest share instead of the
    sum, and spreading the top ten over more conversations). Dense similarity counts
    nearly as much as the words once the question is embedded as its speakers would say it
    (:func:`first_person`), and most for questions asking after several things, whose
    answers seldom share a word with them: ``dense`` 0.2 to 0.7, ``turns`` 1.0 to 1.5 and
    ``several_dense`` took 1-4 from 0.792 to 0.804 and multi-hop from 0.486 to 0.522 (a
    stronger dense weight for all questions lost single-hop turns). A stronger
    ``speaker`` lift helps multi-hop questions but follows adversarial ones to the wrong
    person; so it is stronger only for questions asking after several things, which also
    read deeper and search the kinds their turns name (``several_*``, ``kinds``: multi-hop
    0.436 to 0.486, 1-4 0.782 to 0.792; adversarial 0.838 to 0.819; kinds searched for
    every question cost single-hop more than they gave)."""

    turns: float = 1.5
    context: float = 0.7
    memories: float = 0.4
    dense: float = 0.7
    time: float = 1.5
    session: float = 0.3
    neighbours: float = 0.1
    reach: int = 2
    recency: float = 0.05
    recency_days: float = 90.0
    speaker: float = 0.3
    depth: int = 60
    several_speaker: float = 1.5
    several_depth: int = 120
    several_dense: float = 2.8
    kinds: float = 1.0  # of the BM25 over the kinds a turn names, added to its words' own
    # a turn or record is found by its meaning only when its similarity to the words stands
    # this many standard deviations above the mean of the person's others (the top fifth,
    # were they spread normally), whatever the embedder: MiniLM's similarities and e5's lie
    # on different scales. On the dev split (recall@10) it did as well as MiniLM's own floor
    # (0.2, the 80th percentile): 1-4 0.8136 with it against 0.8141, multi-hop 0.542
    # against 0.537; the blend of both found 0.561 of multi-hop evidence with it against
    # 0.547 with the 80th percentile of its similarities as the floor
    standout: float = 0.84
    # what makes a recalled turn bear on the words (see Recollection.bears)
    telling: float = 0.9  # of what a word said once scores in the history: a rare word, or more
    # or the turn or its records are close in meaning to the words (``Embedder.close``)


QUOTED = 240  # the most of a remembered message she quotes word for word


@dataclass(frozen=True)
class Recollection:
    """One recalled turn, with the memory records that pointed at it."""

    message: Message
    score: float
    memories: tuple[MemoryRecord, ...] = ()
    # the turn itself answers the words (it shares a telling word with them, is close in
    # meaning, or falls in the time they name), not only its neighbours, conversation or
    # recency: only these are worth her reading before she replies
    bears: bool = True

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(self.message.created_at).date()

    @property
    def words(self) -> str:
        """The remembered message in its own words, cut at :data:`QUOTED` characters."""
        text = self.message.content
        return text if len(text) <= QUOTED else text[:QUOTED] + "…"


T = TypeVar("T")
Offload = Callable[[Callable[[], Any]], Awaitable[Any]]  # runs CPU work off the event loop


async def inline(work: Callable[[], T]) -> T:
    """Run ``work`` right here: for a process that does nothing else meanwhile (a recall
    worker), where handing it to a thread and back only costs."""
    return work()


async def threaded(work: Callable[[], T]) -> T:
    """Run ``work`` on a thread, the event loop free meanwhile (ONNX lets go of the GIL)."""
    return await asyncio.to_thread(work)


async def _nothing() -> list[tuple[int, float]]:
    return []


def _added(
    words: Sequence[tuple[int, float]],
    kinds: Sequence[tuple[int, float]],
    weight: float,
    depth: int,
) -> list[tuple[int, float]]:
    """A turn's BM25 on its words plus ``weight`` times its BM25 on the kinds it names, the
    best ``depth`` first."""
    scores = dict(words)
    for message_id, score in kinds:
        scores[message_id] = scores.get(message_id, 0.0) + weight * score
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:depth]


@dataclass
class Recaller:
    store: Store
    embedder: Embedder | None
    weights: Weights = field(default_factory=Weights)
    cache_bytes: int = VECTOR_CACHE_MB << 20  # vectors held, the least recently used dropped
    offload: Offload = threaded  # where the question is embedded
    _cache: VectorCache = field(init=False)

    def __post_init__(self) -> None:
        dim = self.embedder.dim if self.embedder is not None else 0
        self._cache = VectorCache(self.store, dim, self.cache_bytes)

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
        """The ``k`` turns of this person's history that best answer ``query``.

        ``speakers`` names who speaks in each role ({"user": "Theo", "assistant":
        "Samantha"}): a question that names one of them ("what does Theo do to unwind?")
        favours that speaker's own turns."""
        w = self.weights
        terms = query_terms(query)
        several = asks_for_several(query)
        depth = w.several_depth if several else w.depth
        # the question is embedded (ONNX, no GIL) while SQLite searches (no GIL either)
        lexical, records, (turn_sims, memory_sims), kinds = await asyncio.gather(
            self.store.search_turns(person_id, terms, depth, w.context, exclude),
            self.store.search_memories(person_id, terms, w.depth // 2),
            self._dense(person_id, first_person(query, speakers or {}), depth),
            self._kinds(person_id, terms, depth, exclude) if several else _nothing(),
        )
        if kinds:
            lexical = _added(lexical, kinds, w.kinds, depth)
        sizes = await self.store.searchable(person_id)  # as the searches just counted them
        scores: dict[int, float] = {}
        via: dict[int, set[int]] = {}

        def credit(ranked: Sequence[int], weight: float) -> None:
            for rank, message_id in enumerate(ranked):
                scores[message_id] = scores.get(message_id, 0.0) + weight / (RRF_K + rank)

        dense_turns, dense_memories = list(turn_sims), list(memory_sims)
        credit([m for m, _ in lexical], w.turns)
        memory_hits = [m for m, _ in records]
        memory_hits += [m for m in dense_memories if m not in memory_hits]
        # the records are weighed by their importance and turns; only those of the turns
        # recalled are read whole (below)
        links = await self.store.memory_links(person_id, memory_hits)
        for ranking, weight in (([m for m, _ in records], w.memories), (dense_memories, w.dense)):
            hits = [links[m] for m in ranking if m in links]
            for rank, (importance, source_ids) in enumerate(hits):
                credit_ = weight * (0.5 + importance) / (RRF_K + rank)
                for message_id in source_ids:
                    scores[message_id] = scores.get(message_id, 0.0) + credit_
        credit(dense_turns, w.several_dense if several else w.dense)
        for record_id, (_, source_ids) in links.items():
            for message_id in source_ids:
                via.setdefault(message_id, set()).add(record_id)
        bearing = self._bearing((lexical, records), sizes, (turn_sims, memory_sims), links)
        # the candidates are weighed by where, when and by whom they were said; only the
        # turns recalled are read whole
        by_id = {t.id: t for t in await self.store.said_by_id(person_id, list(scores))}
        bearing |= self._lift_times(query, today, by_id, scores)
        self._lift_recent(today, by_id, scores)
        self._lift_conversations(by_id, scores)
        await self._spread(person_id, by_id, scores)
        lift = w.several_speaker if several else w.speaker
        self._lift_speaker(query, speakers or {}, by_id, scores, lift)
        skip = set(exclude)
        ranked = sorted(
            (i for i in scores if i in by_id and i not in skip),
            key=lambda i: scores[i],
            reverse=True,
        )[:k]
        whole = {m.id: m for m in await self.store.messages_by_id(person_id, ranked)}
        told = sorted({m for i in ranked for m in via.get(i, ())})
        found = {r.id: r for r in await self.store.memories_by_id(person_id, told)}
        return [
            Recollection(
                whole[i],
                scores[i],
                tuple(found[m] for m in sorted(via.get(i, ())) if m in found),
                bears=i in bearing,
            )
            for i in ranked
            if i in whole  # forgotten meanwhile: not recalled
        ]

    def _bearing(
        self,
        searched: tuple[Sequence[tuple[int, float]], Sequence[tuple[int, float]]],
        sizes: tuple[int, int],
        sims: tuple[Mapping[int, float], Mapping[int, float]],
        links: Mapping[int, tuple[float, tuple[int, ...]]],
    ) -> set[int]:
        """The turns that answer the words themselves, by their own words or meaning or by
        those of a record drawn from them: a BM25 of at least ``telling`` times what a word
        said once scores in a history of this size (a turn is indexed with its neighbours
        as context, so such a word is in :data:`SAID_ONCE` rows), or a similarity of at
        least the embedder's ``close``. "Marathon", said once, is telling in forty turns and
        in forty thousand; "today", in every other turn, never is. A history of ten turns or
        fewer has no rare words: there any shared word counts.

        Measured on the LoCoMo dev split, beside 30 lines of small talk ("ok", "how was
        your day?") said to the same ten people, among the top six recalled: 96% of the
        evidence turns bear on their question, and 31% of what small talk recalls bears on
        it (1.8 turns a line, not 6). ``telling`` 0.8 kept 97% and 38%, 1.0 kept 95% and
        27%."""
        telling = self.weights.telling
        near = self.embedder.close if self.embedder is not None else 1.0
        bearing: list[set[int]] = []
        for hits, rows, close, once in zip(searched, sizes, sims, (SAID_ONCE, 1), strict=True):
            floor = telling * math.log(max(1.0, (rows - once + 0.5) / (once + 0.5)))
            bearing.append({i for i, score in hits if score >= floor})
            bearing[-1] |= {i for i, sim in close.items() if sim >= near}
        turns, records = bearing
        for record_id in records:
            if record_id in links:
                turns.update(links[record_id][1])
        return turns

    def _lift_times(
        self, query: str, today: date | None, by_id: dict[int, Said], scores: dict[int, float]
    ) -> set[int]:
        """Lift the turns said in the time the words name; return them."""
        mentions = find_times(query, today or date.today())
        if not mentions:
            return set()
        start = min(m.start for m in mentions)
        end = max(m.end for m in mentions)
        lift = self.weights.time / RRF_K
        inside = set()
        for message_id, message in by_id.items():
            day = datetime.fromtimestamp(message.created_at).date()
            if start <= day <= end:
                scores[message_id] = scores.get(message_id, 0.0) + lift
                inside.add(message_id)
        return inside

    def _lift_recent(
        self, today: date | None, by_id: dict[int, Said], scores: dict[int, float]
    ) -> None:
        """Newer turns count a little more: a half-life of ``recency_days``."""
        if not self.weights.recency:
            return
        now = datetime.combine(today or date.today(), datetime.max.time()).timestamp()
        lift = self.weights.recency / RRF_K
        for message_id, message in by_id.items():
            if message_id in scores:
                age_days = max(0.0, now - message.created_at) / 86400
                scores[message_id] += lift * 0.5 ** (age_days / self.weights.recency_days)

    def _lift_conversations(self, by_id: dict[int, Said], scores: dict[int, float]) -> None:
        """Turns of a conversation whose best three turns score well count more, in
        proportion to that conversation's share of the strongest conversation's score."""
        if not self.weights.session:
            return
        best: dict[int, list[float]] = {}
        for message_id, message in by_id.items():
            if message_id in scores:
                best.setdefault(message.conversation_id, []).append(scores[message_id])
        mass = {c: sum(sorted(found, reverse=True)[:3]) for c, found in best.items()}
        top = max(mass.values(), default=0.0)
        if top <= 0:
            return
        lift = self.weights.session / RRF_K / top
        for message_id, message in by_id.items():
            if message_id in scores:
                scores[message_id] += lift * mass[message.conversation_id]

    def _lift_speaker(
        self,
        query: str,
        speakers: Mapping[str, str],
        by_id: dict[int, Said],
        scores: dict[int, float],
        lift: float,
    ) -> None:
        """When the question names exactly one speaker (:func:`named_speakers`), their own
        turns count ``1 + lift`` times."""
        named = named_speakers(query, speakers)
        if len(named) != 1 or not lift:
            return
        lift = 1 + lift
        for message_id, message in by_id.items():
            if message.role in named and message_id in scores:
                scores[message_id] *= lift

    async def _spread(
        self, person_id: int, by_id: dict[int, Said], scores: dict[int, float]
    ) -> None:
        """Turns near the strongest hits share in their score: ``neighbours`` of it one
        turn away, half that two away, and so on up to ``reach`` turns."""
        top = sorted(scores, key=lambda i: scores[i], reverse=True)[:20]
        anchors = [(i, by_id[i].conversation_id) for i in top if i in by_id]
        for anchor, distance, message in await self.store.nearby(
            person_id, anchors, self.weights.reach
        ):
            by_id.setdefault(message.id, message)
            share = self.weights.neighbours * 0.5 ** (distance - 1)
            scores[message.id] = scores.get(message.id, 0.0) + share * scores[anchor]

    async def _kinds(
        self, person_id: int, terms: Sequence[str], depth: int, exclude: Sequence[int]
    ) -> list[tuple[int, float]]:
        if not self.weights.kinds:
            return []
        return await self.store.search_kinds(person_id, terms, depth, exclude)

    def forget(self, person_id: int) -> None:
        """Drop the person's cached vectors (they were deleted)."""
        self._cache.forget(person_id)

    async def warm(self, people: Iterable[int], seconds: float) -> int:
        """Ready what the first recall for each of ``people`` (the most recent first)
        would read, for at most ``seconds``: their vectors as far as the cache allows
        (``VectorCache.warm``), then what full-text search holds between searches
        (``Store.ready_search``). How many people's vectors are held."""
        until, people = time.monotonic() + seconds, list(people)
        held = 0 if self.embedder is None else await self._cache.warm(people, seconds)
        await self.store.ready_search(people, until - time.monotonic())
        return held

    async def _dense(
        self, person_id: int, query: str, depth: int
    ) -> tuple[dict[int, float], dict[int, float]]:
        """The turns and the records closest in meaning to ``query``, with their cosine
        similarity, best first."""
        if self.embedder is None:
            return {}, {}
        vectors = await self._cache.get(person_id)
        if vectors is None:
            return {}, {}
        embedder, standout = self.embedder, self.weights.standout
        q = (await self.offload(lambda: embedder.embed_query([query])))[0]

        def top(ids: npt.NDArray[np.int64], matrix: Matrix) -> dict[int, float]:
            if not len(ids):
                return {}
            sims = similarities(matrix, q)
            best = np.arange(len(sims))
            if len(sims) > depth:  # the best ``depth`` in linear time, then sorted
                best = np.argpartition(-sims, depth)[:depth]
            best = best[np.argsort(-sims[best], kind="stable")]
            # only those that stand out from the person's others; of a few, which cannot
            # say how far they spread, those above the model's own floor
            few = len(sims) < FEW
            bar = embedder.floor if few else sims.mean() + standout * sims.std()
            best = best[sims[best] > bar]
            return dict(zip(ids[best].tolist(), sims[best].tolist(), strict=True))

        turns, memories = vectors.turns, vectors.memories
        return top(turns.ids, turns.matrix), top(memories.ids, memories.matrix)
