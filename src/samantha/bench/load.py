"""``samantha bench load``: many people at once against the real server, with ``sim:``.

The server runs as its own process (``samantha serve``) on a seeded home: N people, each
with a history of ``--records`` memories and the messages they came from, loaded through
the same import path as an archive. Each simulated person opens their event stream (that
is what "connected" means), then sends messages at a human pace (exponential gaps, mean
``--rate`` seconds) and reads every reply to the end, checking that the stored reply
(the ``done`` event) is what was streamed.

Each person sends on a connection of their own, kept open between their messages as a
browser keeps one (for up to :data:`KEPT_S`, under the server's keep-alive), beside their
event stream. ``ttft_ms`` is from sending to the first token; ``server_ms`` is that minus
the simulated model's own wait for its first token (``1 / sim rate``): the part spent in
Samantha (HTTP, auth, storing the message, recall, composing) plus the load generator
itself, which shares the machine. ``lost`` counts messages sent and never stored, read from the
database after the server stops; ``unlearned``, the turns learning had not reached by then
(it has :data:`~samantha.memory.STOP_LEARNING_S` to finish once asked to stop): work the
run put off, not done within its figures. Its own turns only on a fresh home; a reused
home (``--home``) also counts what earlier runs left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from samantha import pauses
from samantha.archive import import_archive
from samantha.bench import procs, wire
from samantha.bench.bell import Bell
from samantha.bench.procs import HOST, free_port, serving
from samantha.cli.console import KEEP_ALIVE_S
from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.store import Conversation, MemoryRecord, Message, Person, PersonData
from samantha.store.sqlite_memory import UNLEARNED
from samantha.system import running

TOPICS = (
    "my sister {n} visits in spring",
    "I started pottery classes on Tuesdays",
    "work has been stressful since the merger",
    "I love walking by the river at dusk",
    "my dog Biscuit is afraid of thunder",
    "I'm reading a novel about lighthouses",
    "my friend {n} moved to Lisbon",
    "I want to learn the cello",
)
QUESTIONS = (
    "How was your day?",
    "Do you remember what I told you about my sister?",
    "I had a long day at work.",
    "What should I cook tonight?",
    "I went for a walk by the river.",
)

# how long a person's connection may lie idle and still carry their next message: less
# than the server keeps one open, so that it never closes one as a message goes out on it
KEPT_S = KEEP_ALIVE_S - 10.0


@dataclass
class Tally:
    """What the load generator saw, over time."""

    started: float = field(default_factory=time.monotonic)
    connected: int = 0
    connected_peak: int = 0
    sent: int = 0
    completed: int = 0
    errors: int = 0
    refused: int = 0
    ttft: list[float] = field(default_factory=list)
    timeline: list[dict[str, float]] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    contents: list[str] = field(default_factory=list)

    def problem(self, what: str) -> None:
        self.errors += 1
        self.problems[what] = self.problems.get(what, 0) + 1


def _history(i: int, records: int, now: float) -> PersonData:
    """A person with ``records`` memories, each from one message of theirs."""
    person = Person(0, f"person-{i:05d}", now - 86400 * 30)
    conversation = Conversation(1, 0, "earlier", person.created_at, now, "", 0)
    messages, memories = [], []
    for n in range(1, records + 1):
        text = TOPICS[n % len(TOPICS)].format(n=f"Friend{n % 17}") + f" ({i}:{n})"
        at = person.created_at + n * 600
        messages.append(Message(n, 0, 1, "user", text, "complete", at))
        memories.append(
            MemoryRecord(n, 0, "fact", text, "", None, None, 0.5, "rule", at, None, (n,))
        )
    return PersonData(person, (conversation,), tuple(messages), frozenset(), tuple(memories))


async def seed(settings: Settings, people: int, records: int, out: Console) -> list[str]:
    """Create the people with their histories; return their tokens."""
    tokens = []
    async with running(settings, load_model=False) as sam:
        now = time.time()
        for i in range(people):
            made = await import_archive(sam, _history(i, records, now))
            await sam.companion.relationships.update(made.person)  # counted as they talked
            tokens.append(made.token)
            if (i + 1) % 500 == 0:
                out.print(f"  seeded {i + 1}/{people} people")
        out.print("  merging the search indexes, as after any bulk import…")
        await sam.store.merge_search()
    return tokens


async def seeded(settings: Settings, args: argparse.Namespace, out: Console) -> list[str]:
    """The people's tokens: seeded now, or, with ``--home``, those seeded there before
    (``bench-tokens.txt``) when there are enough of them."""
    kept = settings.home / "bench-tokens.txt"
    if args.home and kept.exists():
        tokens = kept.read_text().split()
        if len(tokens) >= args.people:
            out.print(f"using {args.people} of the {len(tokens)} people seeded in {args.home}")
            return tokens[: args.people]
        raise ConfigError(f"{args.home} holds {len(tokens)} seeded people; use a new --home")
    if args.home and (settings.home / "samantha.db").exists():
        raise ConfigError(f"{args.home} already has a database that bench load did not seed")
    out.print(f"seeding {args.people} people with {args.records} memories each…")
    tokens = await seed(settings, args.people, args.records, out)
    if args.home:
        kept.write_text("\n".join(tokens) + "\n")
        kept.chmod(0o600)
    return tokens


async def _events(
    port: int, token: str, tally: Tally, opened: asyncio.Event, gone: asyncio.Event
) -> None:
    """Hold the person's event stream open until they are ``gone``: they count as
    connected while it is. ``opened`` is set once it is open, or has failed."""
    try:
        res = await wire.request(HOST, port, "GET", "/v1/events", token=token)
    except OSError as exc:
        tally.problem(f"events {type(exc).__name__}")
        return
    finally:
        opened.set()
    try:
        if res.status != 200:
            tally.problem(f"events {res.status}")
            return
        tally.connected += 1
        tally.connected_peak = max(tally.connected_peak, tally.connected)
        reading = asyncio.ensure_future(_read_all(res.lines()))
        leaving = asyncio.ensure_future(gone.wait())
        try:  # one wait for the whole stream, not one a line (a heartbeat is two lines)
            await asyncio.wait({reading, leaving}, return_when=asyncio.FIRST_COMPLETED)
            if reading.done():
                reading.result()  # the stream ended: by itself, or with an error
        finally:
            reading.cancel()
            leaving.cancel()
            tally.connected -= 1
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.problem(f"events {type(exc).__name__}")
    finally:
        await res.close()


async def _read_all(lines: AsyncIterator[str]) -> None:
    async for _ in lines:
        pass


async def _talk(
    port: int,
    token: str,
    n: int,
    tally: Tally,
    args: argparse.Namespace,
    stop: Bell,
    opened: asyncio.Event,
    gone: asyncio.Event,
) -> None:
    """One person: once their app is open (their event stream), a conversation, then
    messages at a human pace until the run ends; then they are ``gone``, once the reply
    they were reading has ended. So people leave one by one, as they would, rather than
    all in the same instant while replies to others are still starting (that burst of
    closing streams was measured as their wait)."""
    try:
        await opened.wait()
        await _converse(port, token, n, tally, args, stop)
    finally:
        gone.set()


async def _converse(
    port: int, token: str, n: int, tally: Tally, args: argparse.Namespace, stop: Bell
) -> None:
    rng = random.Random(f"{args.run}:{n}")
    # people don't all speak at second 0. The first wait is drawn like every gap after it
    # (a person's messages are a Poisson stream, and the wait for its next one is the same
    # from any moment), so the N people send N / rate a second from the first second on.
    # Drawn from 0 to ``rate`` instead, everyone's first message fell in the first
    # ``rate`` seconds beside the second ones of those who began early: half as much
    # again as the pace asked for, for the whole first minute. One whose turn comes after
    # the run says nothing.
    await stop.pause(rng.expovariate(1 / args.rate))
    if stop.rung:
        return
    via = wire.Connection(HOST, port, KEPT_S)  # their own, kept open as a browser keeps one
    try:
        await _messages(via, token, n, tally, args, stop, rng)
    finally:
        await via.close()


async def _messages(
    via: wire.Connection,
    token: str,
    n: int,
    tally: Tally,
    args: argparse.Namespace,
    stop: Bell,
    rng: random.Random,
) -> None:
    """A person's conversation: opened, then their messages, each read to its end."""
    try:
        res = await via.request("POST", "/v1/conversations", token=token, body={})
        made = await res.json()
        await via.done(res)
        path = f"/v1/conversations/{made['id']}/messages"
    except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
        tally.problem(f"conversation {type(exc).__name__}")
        return
    count = 0
    while not stop.rung:
        count += 1
        content = f"{rng.choice(QUESTIONS)} [{args.run}:{n}:{count}]"
        tally.sent += 1
        tally.contents.append(content)
        await _one(via, path, token, content, tally)
        await stop.pause(rng.expovariate(1 / args.rate))


@dataclass(frozen=True)
class Heard:
    """One reply as the person received it."""

    status: int  # the HTTP status (429/503: refused, and nothing more here)
    first: float | None = None  # perf_counter of the first token
    last: float | None = None  # and of the last
    tokens: int = 0
    stored_as_streamed: bool = False  # the ``done`` event held exactly what streamed
    error: str = ""


async def hear(
    port: int, path: str, token: str, content: str, via: wire.Connection | None = None
) -> Heard:
    """Send a message and read the whole streamed reply (on the person's own connection,
    ``via``, when they keep one)."""
    body = {"content": content}
    res = await (
        via.request("POST", path, token=token, body=body)
        if via is not None
        else wire.request(HOST, port, "POST", path, token=token, body=body)
    )
    try:
        heard = await _heard(res)
    except BaseException:
        await res.close()
        raise
    await (via.done(res) if via is not None else res.close())
    return heard


async def _heard(res: wire.Response) -> Heard:
    if res.status != 200:
        return Heard(res.status)
    first = last = None
    text: list[str] = []
    event = ""
    async for line in res.lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "token":
            last = time.perf_counter()
            first = first or last
            text.append(json.loads(line[6:])["text"])
        elif line.startswith("data: ") and event == "error":
            return Heard(200, first, last, len(text), error="reply error")
        elif line.startswith("data: ") and event == "done":
            same = json.loads(line[6:])["message"]["content"] == "".join(text).strip()
            return Heard(200, first, last, len(text), same)
    return Heard(200, first, last, len(text), error="reply incomplete")


async def _one(via: wire.Connection, path: str, token: str, content: str, tally: Tally) -> None:
    asked = time.perf_counter()
    try:
        heard = await hear(via.port, path, token, content, via)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.problem(f"send {type(exc).__name__}")
        return
    if heard.status in (429, 503):
        tally.refused += 1
    elif heard.status != 200:
        tally.problem(f"send {heard.status}")
    elif heard.error or heard.first is None or not heard.stored_as_streamed:
        tally.problem(heard.error or "reply incomplete")  # streamed, and stored as streamed
    else:
        tally.completed += 1
        tally.ttft.append(heard.first - asked)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _watch(tally: Tally, out: Console, stop: Bell, every: float = 5.0) -> None:
    last_sent, last_seen = 0, 0
    while not stop.rung:
        await stop.pause(every)
        window = tally.ttft[last_seen:]
        last_seen = len(tally.ttft)
        point = {
            "t": round(time.monotonic() - tally.started, 1),
            "connected": tally.connected,
            "messages_per_s": (tally.sent - last_sent) / every,
            "p50_ms": 1000 * _pct(window, 0.5),
            "p99_ms": 1000 * _pct(window, 0.99),
        }
        last_sent = tally.sent
        tally.timeline.append(point)
        out.print(
            f"  {point['t']:6.0f}s connected {tally.connected:5d}  sent {tally.sent:6d}  "
            f"replies {tally.completed:6d}  errors {tally.errors}  refused {tally.refused}  "
            f"ttft p50 {point['p50_ms']:.0f} ms p99 {point['p99_ms']:.0f} ms"
        )


def _stored(db: Path) -> tuple[set[str], int]:
    """What the people said that was stored, and how many turns were still to be learned
    when the server stopped."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        said = {r[0] for r in conn.execute("SELECT content FROM messages WHERE role = 'user'")}
        (unlearned,) = conn.execute(f"SELECT count(*) FROM messages WHERE {UNLEARNED}").fetchone()
    return said, unlearned


async def run_load_bench(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    with contextlib.ExitStack() as stack:
        home = args.home or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMANTHA_")}
        env.update(
            SAMANTHA_HOME=str(home),
            SAMANTHA_LLM=f"sim:rate={args.sim_rate}",
            SAMANTHA_EMBEDDER=args.embedder,
            SAMANTHA_MEMORY_LLM_EXTRACTION="false",
            SAMANTHA_RECALL_PROCESSES=str(settings.recall_processes),
            SAMANTHA_VECTOR_CACHE_MB=str(settings.vector_cache_mb),
            # the simulated model has no slots to share: admission should not be what
            # limits the run unless asked (--slots)
            SAMANTHA_REPLY_CONCURRENCY=str(args.slots),
            SAMANTHA_PROACTIVE_INTERVAL_S="0",
            SAMANTHA_GROWTH_REFLECT_H="0",
        )
        seed_settings = settings.model_copy(
            update={"home": home, "llm": f"sim:rate={args.sim_rate}", "embedder": args.embedder}
        )
        began = time.monotonic()
        tokens = await seeded(seed_settings, args, out)
        seeded_s = time.monotonic() - began
        port = args.port or free_port()
        async with serving(home, env, port) as served:
            figures = await _drive(port, tokens, args, served.pid, out)
        figures["stop_s"] = round(served.stop_s, 1)
        stored, figures["unlearned"] = _stored(home / "samantha.db")
    tally: Tally = figures.pop("_tally")
    figures["lost"] = sum(1 for c in tally.contents if c not in stored)
    figures["seed_s"] = round(seeded_s, 1)
    _report(figures, out)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.plot:
        from samantha.bench.plot import timeline

        timeline(tally.timeline, args.plot, f"bench load: {args.people} people")
    return 0 if figures["errors"] == 0 and figures["lost"] == 0 else 1


async def _drive(
    port: int, tokens: list[str], args: argparse.Namespace, pid: int, out: Console
) -> dict[str, Any]:
    args.run = os.urandom(4).hex()  # marks this run's messages apart from earlier runs'
    # the load generator holds 16,000 tasks and 8,316 connections for the whole run: with
    # the collector's defaults it stopped for up to 0.9 s every few seconds, and every
    # reply in flight was timed as that much slower (see samantha.pauses)
    with pauses.settled():
        tally, stop = Tally(), Bell()
        cpu0, wall0 = procs.cpu_seconds(pid), time.monotonic()
        opened, gone = [asyncio.Event() for _ in tokens], [asyncio.Event() for _ in tokens]
        tasks = [
            asyncio.create_task(_events(port, t, tally, opened[n], gone[n]))
            for n, t in enumerate(tokens)
        ]
        tasks += [
            asyncio.create_task(_talk(port, t, n, tally, args, stop, opened[n], gone[n]))
            for n, t in enumerate(tokens)
        ]
        watcher = asyncio.create_task(_watch(tally, out, stop))
        await asyncio.sleep(args.duration)
        stop.ring()
        await asyncio.gather(*tasks, watcher, return_exceptions=True)
    cpu = (procs.cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    rss = procs.peak_rss_mb(pid)
    first_token_s = 1.0 / args.sim_rate
    server = [max(0.0, t - first_token_s) for t in tally.ttft]
    return {
        "people": len(tokens),
        "duration_s": args.duration,
        "connected_peak": tally.connected_peak,
        "messages_sent": tally.sent,
        "replies_completed": tally.completed,
        "refused": tally.refused,
        "errors": tally.errors,
        "error_kinds": tally.problems,
        "ttft_ms": {
            "p50": round(1000 * _pct(tally.ttft, 0.5)),
            "p99": round(1000 * _pct(tally.ttft, 0.99)),
        },
        "server_ms": {
            "p50": round(1000 * _pct(server, 0.5)),
            "p99": round(1000 * _pct(server, 0.99)),
        },
        "rss_mb": round(rss),
        "cpu_mean": round(cpu, 2),
        "sim_rate": args.sim_rate,
        "mean_gap_s": args.rate,
        "_tally": tally,
    }


def _report(figures: dict[str, Any], out: Console) -> None:
    for key, value in figures.items():
        out.print(f"{key:18} {value}")
