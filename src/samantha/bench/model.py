"""``samantha bench model``: tokens/s of the embedded model, engine alone vs through Samantha.

Both paths get the same prompt, Samantha's own, built as her reply builds it for a new
person's first words (the two people's names differ by a letter), with greedy sampling,
after every slot has read the persona (as in a running server). ``*_tok_s`` is the
generation rate (tokens after the first over the time they took); ``*_e2e_tok_s`` counts
from the request, so prompt reading and, through Samantha, storing the message, composing
the prompt and storing the reply are included.
Concurrent streams show what parallel slots give: ``concurrent_aggregate_tok_s`` counts the
tokens of all streams while all were generating, through Samantha (one person each), and
``direct_concurrent_*`` the same for the engine alone. Each round measures one stream and
then several, on both paths, so a slow spell of a shared machine falls on both sides of a
ratio instead of on one (measured apart, one model's speedup went from 1.36 to 1.51
between runs, and once past 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.llm.embedded import EmbeddedLLM
from samantha.system import Samantha, running

PROMPTS = [
    "Hi, I had a rough day at work and I just want to talk for a bit.",
    "Tell me something you find fascinating about people.",
    "I'm thinking about learning to paint. Any thoughts on where to start?",
    "My sister is visiting next week and I'm a little nervous about it.",
    "What do you do when you can't sleep?",
    "I finally went for a run this morning after months of not exercising.",
]


@dataclass(frozen=True)
class Stream:
    """One reply's timeline: when it was asked, and when each token came."""

    asked: float
    times: tuple[float, ...]

    @property
    def tokens(self) -> int:
        return len(self.times)

    @property
    def first(self) -> float:
        return self.times[0]

    @property
    def last(self) -> float:
        return self.times[-1]


def _together(streams: Sequence[Stream]) -> float:
    """Aggregate tokens/s while every stream was generating (their common window).

    Replies end at different lengths; counting only the window they share measures what
    the parallel slots do, not how long the longest reply ran alone.
    """
    start = max(s.first for s in streams)
    end = min(s.last for s in streams)
    if end <= start:
        raise ConfigError("concurrent streams did not overlap; use more --tokens")
    inside = sum(1 for s in streams for t in s.times if start < t <= end)
    return inside / (end - start)


def _rate(streams: Sequence[Stream]) -> float:
    """Generation tokens/s: tokens after the first over the time they took to come."""
    return sum(s.tokens - 1 for s in streams) / sum(s.last - s.first for s in streams)


def _e2e(streams: Sequence[Stream]) -> float:
    """Tokens over wall time from the request to the last token (prompt reading included)."""
    return sum(s.tokens for s in streams) / sum(s.last - s.asked for s in streams)


async def _direct(engine: Any, messages: list[dict[str, str]], tokens: int) -> Stream:
    request = {"messages": messages, "stream": True, "max_tokens": tokens, "temperature": 0.0}
    times: list[float] = []

    def on_chunk(chunk: dict[str, Any]) -> bool:
        for choice in chunk.get("choices", []):
            if (choice.get("delta") or {}).get("content"):
                times.append(time.perf_counter())
        return False

    asked = time.perf_counter()
    await asyncio.to_thread(engine.handle_chat_completions, request, on_chunk)
    return Stream(asked, tuple(times))


async def _through_samantha(sam: Samantha, name: str, text: str) -> Stream:
    person = await sam.person_named(name, create=True)
    assert person is not None
    conversation = await sam.store.create_conversation(person.id)
    asked = time.perf_counter()
    await sam.companion.say(person, conversation.id, text)
    reply = await sam.companion.reply(person, conversation.id)
    times = [time.perf_counter() async for _ in reply]
    return Stream(asked, tuple(times))


async def _prompt_for(sam: Samantha, name: str, text: str) -> list[dict[str, str]]:
    """Exactly the messages Samantha would send for ``text`` as the first words of a new
    person's conversation (``name`` should be as long as the other path's person's)."""
    person = await sam.person_named(name, create=True)
    assert person is not None
    conversation = await sam.store.create_conversation(person.id)
    await sam.companion.say(person, conversation.id, text, learn=False)  # the engine alone
    return [m.as_dict() for m in await sam.companion.prompt(person, conversation.id)]


async def run_model_bench(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    with tempfile.TemporaryDirectory(prefix="samantha-bench-") as home:
        bench_settings = settings.model_copy(
            update={
                "home": Path(home),
                "models_dir": settings.model_dir,
                "temperature": 0.0,
                "max_reply_tokens": args.tokens,
                "llm_parallel": max(args.streams, 1),
            }
        )
        async with running(bench_settings) as sam:
            if not isinstance(sam.llm, EmbeddedLLM) or sam.llm.engine is None:
                raise ConfigError(
                    f"bench model needs a loaded embedded model; {settings.llm} is not one"
                    + (f" ({sam.llm.error})" if isinstance(sam.llm, EmbeddedLLM) else "")
                )
            figures = await _measure(sam, sam.llm.engine, args)
    figures["model"] = settings.llm
    _print(figures, out)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


async def _measure(sam: Samantha, engine: Any, args: argparse.Namespace) -> dict[str, Any]:
    await sam.llm.warm(
        sam.companion.prompts.prefix()
    )  # every slot holds the persona, as when serving
    direct: list[Stream] = []
    through: list[Stream] = []
    together: dict[str, list[float]] = {"direct": [], "samantha": []}
    rounds_e2e: list[float] = []
    for r in range(args.repeat):
        # one stream, then several, on each path in turn, the order swapped each time: slow
        # spells of a shared machine fall on both paths and on both sides of the speedup
        for i in (2 * r, 2 * r + 1):
            text = PROMPTS[i % len(PROMPTS)] + f" ({i})"
            alone, said = await _both(sam, engine, [(f"bench-{i}-s", text)], args.tokens, i % 2)
            direct += alone
            through += said
        texts = [PROMPTS[s % len(PROMPTS)] + f" [{r}]" for s in range(args.streams)]
        people = [(f"bench-c{r}-{s}-s", text) for s, text in enumerate(texts)]
        alone, said = await _both(sam, engine, people, args.tokens, r % 2)
        together["direct"].append(_together(alone))
        together["samantha"].append(_together(said))
        last = max(s.last for s in said)
        rounds_e2e.append(sum(s.tokens for s in said) / (last - min(s.asked for s in said)))
    single, engine_alone = _rate(through), _rate(direct)
    return {
        "direct_tok_s": round(engine_alone, 2),
        "samantha_tok_s": round(single, 2),
        "ratio": round(single / engine_alone, 3),
        "concurrent_streams": args.streams,
        "concurrent_aggregate_tok_s": round(statistics.mean(together["samantha"]), 2),
        "concurrent_speedup": round(statistics.mean(together["samantha"]) / single, 3),
        "direct_concurrent_aggregate_tok_s": round(statistics.mean(together["direct"]), 2),
        "direct_concurrent_speedup": round(statistics.mean(together["direct"]) / engine_alone, 3),
        "direct_e2e_tok_s": round(_e2e(direct), 2),
        "samantha_e2e_tok_s": round(_e2e(through), 2),
        "e2e_ratio": round(_e2e(through) / _e2e(direct), 3),
        "concurrent_e2e_speedup": round(statistics.mean(rounds_e2e) / _e2e(through), 3),
        "direct_first_token_ms": round(1000 * statistics.median(s.first - s.asked for s in direct)),
        "samantha_first_token_ms": round(
            1000 * statistics.median(s.first - s.asked for s in through)
        ),
        "tokens_per_stream": args.tokens,
        "runs": args.repeat,
        "threads": sam.settings.threads,
    }


async def _both(
    sam: Samantha, engine: Any, people: list[tuple[str, str]], tokens: int, swap: int
) -> tuple[list[Stream], list[Stream]]:
    """Each (person, text) sent at once to the engine alone (with the prompt Samantha would
    give it), and at once said to Samantha, one new person each; ``swap`` goes Samantha first."""
    prompts = [await _prompt_for(sam, f"{name}-d", text) for name, text in people]

    async def alone() -> list[Stream]:
        return list(await asyncio.gather(*(_direct(engine, p, tokens) for p in prompts)))

    async def said() -> list[Stream]:
        streams = await asyncio.gather(
            *(_through_samantha(sam, name, text) for name, text in people)
        )
        # her work after a reply (learning from it, counting the relationship) would
        # otherwise go on beside the engine alone's next request and slow it
        await sam.companion.drain()
        return list(streams)

    if swap:
        through = await said()
        return await alone(), through
    return await alone(), await said()


def _print(figures: dict[str, Any], out: Console) -> None:
    table = Table("measure", "value", title=f"bench model: {figures['model']}")
    for key, value in figures.items():
        if key != "model":
            table.add_row(key, str(value))
    out.print(table)
