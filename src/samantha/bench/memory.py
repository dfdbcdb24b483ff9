"""``samantha bench memory --locomo FILE``: evidence recall@k on LoCoMo, beside plain BM25.

Each LoCoMo conversation becomes one person's history, session by session at its own
dates, through the same ``Memory.learn`` and ``Memory.recall`` that serve live chat (both
speakers are people there, so memories are drawn from both). For each question the
recalled turns are mapped back to their dia_ids; recall@k is the share of a question's
evidence found in the first k. Plain BM25 (FTS5, no stemming, question words OR-ed) over
the same turns is computed in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from samantha.bench.plot import bars
from samantha.bench.scale import measure_scale
from samantha.config import Settings
from samantha.embeddings import load_embedder
from samantha.errors import ConfigError
from samantha.llm import LLM
from samantha.llm.registry import load_llm
from samantha.memory import Memory
from samantha.store import SQLiteStore
from samantha.store.base import Role

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
DIA = re.compile(r"^D(\d+):(\d+)$")
_WORD = re.compile(r"\w+")


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def session_time(text: str) -> datetime:
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")


def turn_text(turn: dict[str, Any]) -> str:
    text = str(turn.get("text", ""))
    if turn.get("blip_caption"):
        text += f" (shares a photo: {turn['blip_caption']})"
    return text


def sessions(conversation: dict[str, Any]) -> list[tuple[datetime, list[dict[str, Any]]]]:
    found = []
    for key, turns in conversation.items():
        match = re.fullmatch(r"session_(\d+)", key)
        if match and isinstance(turns, list) and turns:
            found.append(
                (int(match.group(1)), session_time(conversation[f"{key}_date_time"]), turns)
            )
    return [(when, turns) for _, when, turns in sorted(found)]


class PlainBM25:
    """The baseline: FTS5's BM25 (k1 1.2, b 0.75) over turn text, no stemming."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'unicode61')")

    def add(self, rowid: int, text: str) -> None:
        self.db.execute("INSERT INTO t (rowid, body) VALUES (?, ?)", (rowid, text))

    def rank(self, question: str, k: int) -> list[int]:
        words = {w.lower() for w in _WORD.findall(question)}
        if not words:
            return []
        query = " OR ".join(f'"{w}"' for w in sorted(words))
        rows = self.db.execute(
            "SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT ?", (query, k)
        ).fetchall()
        return [int(r[0]) for r in rows]


def recall_at(ranked: Sequence[str], evidence: set[str], k: int) -> float:
    return len(evidence & set(ranked[:k])) / len(evidence)


def run_memory_bench(args: argparse.Namespace, out: Console) -> int:
    if args.scale:
        results = [asyncio.run(measure_scale(n, args.embedder)) for n in args.scale]
        for r in results:
            out.print(
                f"{r['turns']} turns, {r['memory_records']} memory records: recall p50 "
                f"{r['latency_ms']['p50']} ms, p99 {r['latency_ms']['p99']} ms "
                f"(embedder {r['embedder']}; built in {r['build_s']} s)"
            )
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        return 0
    if args.locomo is None:
        raise ConfigError("give --locomo FILE (LoCoMo recall) or --scale N (latency)")
    data = json.loads(Path(args.locomo).read_text("utf-8"))
    samples = data[: args.limit] if args.limit else data
    result = asyncio.run(_measure(samples, args, out))
    _print(result, sorted(set(args.k)), out)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        bars(result, max(args.k), Path(args.plot))
    return 0


async def _measure(samples: list[Any], args: argparse.Namespace, out: Console) -> dict[str, Any]:
    ks = sorted(set(args.k))
    embedder = load_embedder(args.embedder)
    scores: dict[str, dict[int, list[float]]] = {
        "samantha": defaultdict(list),
        "bm25": defaultdict(list),
    }
    latencies: list[float] = []
    skipped = 0
    llm = await _reader(args.llm)  # before anything is written: a model that fails stops here
    with (
        tempfile.TemporaryDirectory(prefix="samantha-locomo-") as home,
        Progress(console=out) as bar,
    ):
        clock = Clock()
        store = SQLiteStore(Path(home) / "bench.db", clock=clock)
        await store.open()
        memory = Memory(store, embedder, extract_from=("user", "assistant"), llm=llm)
        task = bar.add_task("conversations", total=len(samples))
        ingest_seconds = 0.0
        for sample in samples:
            conv = sample["conversation"]
            a, b = conv["speaker_a"], conv["speaker_b"]
            person = await store.create_person(
                f"{sample.get('sample_id', a)}-{a}", f"bench-{a}-{id(sample)}"
            )
            baseline = PlainBM25()
            dia_of: dict[int, str] = {}
            last_day = datetime(2000, 1, 1)
            started = time.perf_counter()
            for when, turns in sessions(conv):
                clock.t = when.timestamp()
                conversation = await store.create_conversation(person.id, when.isoformat())
                for i, turn in enumerate(turns):
                    clock.t = (when + timedelta(seconds=30 * i)).timestamp()
                    role: Role = "user" if turn["speaker"] == a else "assistant"
                    message = await store.add_message(
                        person.id, conversation.id, role, turn_text(turn)
                    )
                    dia_of[message.id] = str(turn["dia_id"])
                    baseline.add(message.id, f"{turn['speaker']}: {turn_text(turn)}")
                last_day = when
            await memory.learn(person.id, a, other_name=b)
            ingest_seconds += time.perf_counter() - started
            known = set(dia_of.values())
            for qa in sample["qa"]:
                evidence = {e.strip() for e in qa.get("evidence") or []}
                category = int(qa.get("category", 0))
                if not evidence or not all(DIA.match(e) and e in known for e in evidence):
                    skipped += 1
                    continue
                if embedder is not None:  # a question asked again is embedded again
                    embedder.forget()
                start = time.perf_counter()
                found = await memory.recall(
                    person.id,
                    str(qa["question"]),
                    k=max(ks),
                    today=last_day.date(),
                    speakers={"user": a, "assistant": b},
                )
                latencies.append((time.perf_counter() - start) * 1000)
                ranked = [dia_of[r.message.id] for r in found]
                plain = [dia_of[i] for i in baseline.rank(str(qa["question"]), max(ks))]
                for k in ks:
                    scores["samantha"][category * 100 + k].append(recall_at(ranked, evidence, k))
                    scores["bm25"][category * 100 + k].append(recall_at(plain, evidence, k))
            bar.advance(task)
        await memory.close()
        await store.close()
        if llm is not None:
            await llm.close()
    result = _summarise(scores, ks, latencies, skipped)
    result["embedder"] = args.embedder
    result["llm_extraction"] = args.llm or False
    result["ingest_s"] = round(ingest_seconds, 1)
    return result


async def _reader(spec: str) -> LLM | None:
    """The model that reads the turns for memories, started; none when ``spec`` is empty."""
    if not spec:
        return None
    llm = load_llm(spec, Settings())
    if llm.simulated:
        raise ConfigError(f"{spec!r} is simulated: it would find no memories worth measuring")
    await llm.start()
    if not llm.available:  # measured without it, the figure would claim what it did not do
        await llm.close()
        raise ConfigError(f"the model {spec!r} could not be started (see the log above)")
    return llm


def _mean(values: list[float]) -> float:
    return round(statistics.mean(values), 3) if values else 0.0


def _summarise(
    scores: dict[str, dict[int, list[float]]], ks: list[int], latencies: list[float], skipped: int
) -> dict[str, Any]:
    def overall(system: str, cats: Sequence[int]) -> dict[str, float]:
        return {
            f"recall@{k}": _mean([v for c in cats for v in scores[system][c * 100 + k]]) for k in ks
        }

    categories = {
        str(c): {
            "n": len(scores["samantha"][c * 100 + ks[0]]),
            **{f"recall@{k}": _mean(scores["samantha"][c * 100 + k]) for k in ks},
            **{f"bm25_recall@{k}": _mean(scores["bm25"][c * 100 + k]) for k in ks},
        }
        for c in CATEGORIES
    }
    ordered = sorted(latencies)
    return {
        "k": ks,
        "categories": categories,
        "overall_1_4": overall("samantha", [1, 2, 3, 4]),
        "overall_1_5": overall("samantha", [1, 2, 3, 4, 5]),
        "bm25_overall_1_4": overall("bm25", [1, 2, 3, 4]),
        "bm25_overall_1_5": overall("bm25", [1, 2, 3, 4, 5]),
        "latency_ms": {
            "p50": round(ordered[len(ordered) // 2], 2) if ordered else 0.0,
            "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2)
            if ordered
            else 0.0,
        },
        "skipped": skipped,
    }


def _print(result: dict[str, Any], ks: list[int], out: Console) -> None:
    table = Table(
        "category",
        "n",
        *[f"recall@{k}" for k in ks],
        *[f"BM25 @{k}" for k in ks],
        title="LoCoMo evidence recall",
    )
    for c, name in CATEGORIES.items():
        row = result["categories"][str(c)]
        table.add_row(
            f"{c} {name}",
            str(row["n"]),
            *[str(row[f"recall@{k}"]) for k in ks],
            *[str(row[f"bm25_recall@{k}"]) for k in ks],
        )
    for label, key in (("1-4", "overall_1_4"), ("1-5", "overall_1_5")):
        table.add_row(
            f"overall {label}",
            "",
            *[str(result[key][f"recall@{k}"]) for k in ks],
            *[str(result["bm25_" + key][f"recall@{k}"]) for k in ks],
        )
    out.print(table)
    out.print(
        f"recall latency p50 {result['latency_ms']['p50']} ms, "
        f"p99 {result['latency_ms']['p99']} ms; "
        f"skipped {result['skipped']} questions without usable evidence; "
        f"embedder {result['embedder']}; "
        + (
            f"LLM extraction by {result['llm_extraction']}; "
            if result["llm_extraction"]
            else "LLM extraction off (rules only) for speed; "
        )
        + f"ingest {result['ingest_s']} s"
    )
