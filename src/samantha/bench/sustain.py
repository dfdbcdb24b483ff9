"""``samantha bench load --embedded``: how many conversations the embedded model sustains.

The real server runs as its own process with the embedded model (the ``make run`` default
unless ``--model``) and one parallel slot for each of the most people tried. Then, for 1,
2, 3, 4, 6, 8, ... people at once (up to ``--people``), each person sends ``--rounds``
messages one after another and reads every reply to the end. A reply's rate is the tokens
it streamed per second after its first token; ``ttft_ms`` is the wait for that first token.

``sustained`` is the most people at once for whom every reply streamed at ``--min-rate``
(5) tokens/s or more, every reply complete and stored as streamed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from samantha.bench import wire
from samantha.bench.load import Heard, _pct, hear, seed
from samantha.bench.procs import HOST, free_port, serving
from samantha.config import DEFAULT_MODEL, Settings

# messages the model answers (a question about her memory could be answered from the store)
SAID = (
    "How was your day?",
    "I had a long day at work.",
    "What should I cook tonight?",
    "I went for a walk by the river.",
    "Tell me about something you find beautiful.",
)


def levels(most: int) -> list[int]:
    """1, 2, 3, 4, 6, 8, 12, 16, ... up to ``most`` (always included)."""
    found, n = [1, 2, 3, 4], 4
    while n < most:
        n = n + n // 2 if n < 8 else n * 2
        found.append(n)
    return sorted({min(x, most) for x in found if x <= most} | {most})


async def _person(port: int, token: str, n: int, rounds: int) -> list[tuple[float, Heard]]:
    res = await wire.request(HOST, port, "POST", "/v1/conversations", token=token, body={})
    path = f"/v1/conversations/{(await res.json())['id']}/messages"
    await res.close()
    heard = []
    for r in range(rounds):
        asked = time.perf_counter()
        heard.append((asked, await hear(port, path, token, SAID[(n + r) % len(SAID)])))
    return heard


def _level(people: int, heard: list[tuple[float, Heard]], min_rate: float) -> dict[str, Any]:
    rates, ttft, bad = [], [], 0
    for asked, h in heard:
        if h.status != 200 or h.error or not h.stored_as_streamed or h.first is None:
            bad += 1
            continue
        ttft.append(h.first - asked)
        span = (h.last or h.first) - h.first
        rates.append((h.tokens - 1) / span if span > 0 and h.tokens > 1 else 0.0)
    return {
        "people": people,
        "replies": len(heard),
        "failed": bad,
        "tok_s": {
            "min": round(min(rates, default=0.0), 1),
            "p50": round(_pct(rates, 0.5), 1),
        },
        "aggregate_tok_s": round(sum(rates), 1) if rates else 0.0,
        "ttft_ms": {"p50": round(1000 * _pct(ttft, 0.5)), "p99": round(1000 * _pct(ttft, 0.99))},
        "sustained": bad == 0 and bool(rates) and min(rates) >= min_rate,
    }


async def run_sustain_bench(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    model = args.model or DEFAULT_MODEL
    most = max(1, args.people)
    with tempfile.TemporaryDirectory(prefix="samantha-sustain-") as tmp:
        home = Path(tmp)
        common = {
            "home": home,
            "llm": model,
            "llm_parallel": most,
            "llm_ctx": args.ctx,
            "embedder": args.embedder,
        }
        tokens = await seed(settings.model_copy(update=common), most, args.records, out)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAMANTHA_")}
        env.update(
            SAMANTHA_HOME=str(home),
            SAMANTHA_LLM=model,
            SAMANTHA_LLM_PARALLEL=str(most),
            SAMANTHA_LLM_CTX=str(args.ctx),
            SAMANTHA_EMBEDDER=args.embedder,
            SAMANTHA_MEMORY_LLM_EXTRACTION="false",
            SAMANTHA_MAX_REPLY_TOKENS=str(args.reply_tokens),
            SAMANTHA_PROACTIVE_INTERVAL_S="0",
            SAMANTHA_GROWTH_REFLECT_H="0",
        )
        out.print(f"{model}: {most} slots; people at once: {levels(most)}")
        rows = []
        port = args.port or free_port()
        async with serving(home, env, port):
            await _person(port, tokens[0], 0, 1)  # the first prompt warms the model: not counted
            for people in levels(most):
                runs = [_person(port, tokens[i], i, args.rounds) for i in range(people)]
                heard = [h for person in await asyncio.gather(*runs) for h in person]
                row = _level(people, heard, args.min_rate)
                rows.append(row)
                out.print(
                    f"  {people:3d} at once: per reply min {row['tok_s']['min']:5.1f}"
                    f" p50 {row['tok_s']['p50']:5.1f} tok/s, together"
                    f" {row['aggregate_tok_s']:6.1f} tok/s, ttft p50 {row['ttft_ms']['p50']} ms"
                    f"{'' if row['sustained'] else '  (below the bar)'}"
                )
    sustained = max((r["people"] for r in rows if r["sustained"]), default=0)
    figures = {"model": model, "min_rate": args.min_rate, "sustained": sustained, "levels": rows}
    out.print(f"sustained          {sustained} conversations at {args.min_rate} tok/s or more each")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0
