"""``samantha bench memory --scale N``: recall latency for one person with N memories.

A synthetic history of N turns ("My cousin Lena loves sailing in Porto", "I visited Oslo
last Tuesday", ...) is learned through the real store, so each turn is indexed, with what
its nouns are kinds of, and yields memory records by the real rules. Turn and record
vectors are random unit vectors here, so that building 100,000 of them takes seconds
rather than the hour the embedding model would; the recall being timed is the real one,
query embedding included.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from samantha.embeddings import load_embedder
from samantha.memory import Memory
from samantha.memory.extract import extract, search_text
from samantha.memory.kinds import kinds_of
from samantha.memory.recall import STOPWORDS
from samantha.store import Learned, SQLiteStore

NAMES = ["Ada", "Ben", "Cleo", "Dev", "Elif", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lena"]
RELATIONS = ["sister", "brother", "cousin", "friend", "colleague", "neighbour", "aunt", "uncle"]
PLACES = ["Porto", "Oslo", "Lima", "Kyoto", "Accra", "Quito", "Hanoi", "Turin", "Perth", "Cork"]
THINGS = ["sailing", "chess", "pottery", "jazz", "hiking", "baking", "poetry", "cycling", "tango"]
WHEN = ["yesterday", "last Tuesday", "next Friday", "two weeks ago", "last summer", "tomorrow"]


def line(rng: random.Random, i: int) -> str:
    name, rel = rng.choice(NAMES), rng.choice(RELATIONS)
    place, thing, when = rng.choice(PLACES), rng.choice(THINGS), rng.choice(WHEN)
    return rng.choice(
        [
            f"My {rel} {name} loves {thing} in {place}.",
            f"I visited {place} {when} and tried {thing} (note {i}).",
            f"I really enjoy {thing} with {name} on weekends.",
            f"{name} is my {rel}, we met in {place} {when}.",
        ]
    )


def question(rng: random.Random) -> str:
    return rng.choice(
        [
            f"When did I go to {rng.choice(PLACES)}?",
            f"What does my {rng.choice(RELATIONS)} {rng.choice(NAMES)} like?",
            f"Who do I do {rng.choice(THINGS)} with?",
            f"What happened {rng.choice(WHEN)}?",
            f"Which activities do I share with {rng.choice(NAMES)}?",  # several: kinds too
        ]
    )


async def measure_scale(n: int, embedder_spec: str, queries: int = 200) -> dict[str, Any]:
    rng = random.Random(8316)
    embedder = load_embedder(embedder_spec)
    dim = embedder.dim if embedder else 0
    vectors = np.random.default_rng(641)
    with tempfile.TemporaryDirectory(prefix="samantha-scale-") as home:
        store = SQLiteStore(Path(home) / "scale.db")
        await store.open()
        person = await store.create_person("scale", "scale")
        conversation = await store.create_conversation(person.id)
        started = time.perf_counter()
        for start in range(0, n, 1000):
            batch = []
            for i in range(start, min(n, start + 1000)):
                batch.append(
                    await store.add_message(person.id, conversation.id, "user", line(rng, i))
                )

            def unit() -> bytes | None:
                if not dim:
                    return None
                v = vectors.standard_normal(dim).astype(np.float32)
                return (v / np.linalg.norm(v)).tobytes()

            learned = [
                Learned(
                    m.id,
                    search_text(m, "scale"),
                    unit(),
                    content=m.content,
                    kinds=kinds_of(m.content, STOPWORDS),
                )
                for m in batch
            ]
            memories = [
                type(found)(**{**found.__dict__, "vector": unit()})
                for m in batch
                for found in extract(m)
            ]
            await store.learn(person.id, learned, memories)
        build_s = time.perf_counter() - started
        records = len(await store.memories(person.id, limit=10**7, include_superseded=True))
        memory = Memory(store, embedder)
        await memory.recall(person.id, "warm up the caches")
        times = []
        for _ in range(queries):
            asked = question(rng)
            if embedder is not None:  # the questions repeat: each is embedded, as a new one is
                embedder.forget()
            t0 = time.perf_counter()
            await memory.recall(person.id, asked)
            times.append((time.perf_counter() - t0) * 1000)
        await memory.close()
        await store.close()
    times.sort()
    return {
        "turns": n,
        "memory_records": records,
        "embedder": embedder_spec,
        "build_s": round(build_s, 1),
        "latency_ms": {
            "p50": round(statistics.median(times), 2),
            "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        },
    }
