"""``samantha bench model``: tokens/s of the embedded model, engine alone vs through Samantha.

Both paths get the same prompt (Samantha's own, composed for a fresh conversation) with
greedy sampling, so they generate the same tokens; each figure is tokens over wall time
from the request to the last token. Through Samantha that time includes validating and
storing the message, composing the prompt and storing the reply. Concurrent streams go
through Samantha, one person each, and show what llama.cpp's parallel slots give.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.llm.embedded import EmbeddedLLM
from samantha.mood import read_mood
from samantha.system import Samantha, running

PROMPTS = [
    "Hi, I had a rough day at work and I just want to talk for a bit.",
    "Tell me something you find fascinating about people.",
    "I'm thinking about learning to paint. Any thoughts on where to start?",
    "My sister is visiting next week and I'm a little nervous about it.",
    "What do you do when you can't sleep?",
    "I finally went for a run this morning after months of not exercising.",
]


async def _direct(engine: Any, messages: list[dict[str, str]], tokens: int) -> tuple[int, float]:
    request = {"messages": messages, "stream": True, "max_tokens": tokens, "temperature": 0.0}
    count = 0

    def on_chunk(chunk: dict[str, Any]) -> bool:
        nonlocal count
        for choice in chunk.get("choices", []):
            if (choice.get("delta") or {}).get("content"):
                count += 1
        return False

    start = time.perf_counter()
    await asyncio.to_thread(engine.handle_chat_completions, request, on_chunk)
    return count, time.perf_counter() - start


async def _through_samantha(sam: Samantha, name: str, text: str) -> tuple[int, float]:
    person = await sam.person_named(name, create=True)
    assert person is not None
    conversation = await sam.store.create_conversation(person.id)
    start = time.perf_counter()
    await sam.companion.say(person, conversation.id, text)
    reply = await sam.companion.reply(person, conversation.id)
    count = 0
    async for _ in reply:
        count += 1
    return count, time.perf_counter() - start


async def _prompt_for(sam: Samantha, text: str) -> list[dict[str, str]]:
    """Exactly the messages Samantha sends for ``text`` as the first words of a conversation."""
    person = await sam.person_named("bench-direct", create=True)
    assert person is not None
    conversation = await sam.store.create_conversation(person.id)
    message = await sam.store.add_message(person.id, conversation.id, "user", text)
    prompt = sam.companion.compose(conversation, [message], read_mood(text))
    return [m.as_dict() for m in prompt]


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
    await _direct(engine, await _prompt_for(sam, "Hello!"), 8)  # warm up
    direct, through = [], []
    for i in range(args.repeat * 2):
        text = PROMPTS[i % len(PROMPTS)] + f" ({i})"
        if i % 2 == 0:  # alternate which path goes first so neither gets a warmer cache
            direct.append(await _direct(engine, await _prompt_for(sam, text), args.tokens))
            through.append(await _through_samantha(sam, f"bench-{i}", text))
        else:
            through.append(await _through_samantha(sam, f"bench-{i}", text))
            direct.append(await _direct(engine, await _prompt_for(sam, text), args.tokens))
    direct_rate = sum(n for n, _ in direct) / sum(t for _, t in direct)
    samantha_rate = sum(n for n, _ in through) / sum(t for _, t in through)

    rounds = []
    for r in range(args.repeat):
        start = time.perf_counter()
        done = await asyncio.gather(
            *(
                _through_samantha(sam, f"bench-c{r}-{s}", PROMPTS[s % len(PROMPTS)] + f" [{r}]")
                for s in range(args.streams)
            )
        )
        rounds.append(sum(n for n, _ in done) / (time.perf_counter() - start))
    aggregate = statistics.mean(rounds)
    return {
        "direct_tok_s": round(direct_rate, 2),
        "samantha_tok_s": round(samantha_rate, 2),
        "ratio": round(samantha_rate / direct_rate, 3),
        "concurrent_streams": args.streams,
        "concurrent_aggregate_tok_s": round(aggregate, 2),
        "concurrent_speedup": round(aggregate / samantha_rate, 3),
        "tokens_per_stream": args.tokens,
        "runs": args.repeat,
        "threads": sam.settings.threads,
    }


def _print(figures: dict[str, Any], out: Console) -> None:
    table = Table("measure", "value", title=f"bench model: {figures['model']}")
    for key, value in figures.items():
        if key != "model":
            table.add_row(key, str(value))
    out.print(table)
