"""``samantha bench replies``: the same companion conversations on each model, side by side.

How the default model is chosen: four fixed exchanges (a rough day, good news, a question
about herself, and a follow-up that only makes sense with the previous turn), each run
through Samantha's real turn on every model named, printing the replies and the
generation speed. People read the replies; the figures say which models are fast enough.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from samantha.config import Settings
from samantha.system import running

SCRIPT: list[tuple[str, list[str]]] = [
    (
        "rough day",
        ["Hi, I had a rough day at work. My manager criticised me in front of everyone."],
    ),
    ("good news", ["Guess what, I got the apartment I wanted! I move in next month."]),
    ("about herself", ["Are you a real person? What are you, exactly?"]),
    (
        "follow-up",
        [
            "My friend Amelia is coming over for dinner on Saturday. I'm cooking risotto.",
            "What was I cooking, and for whom?",
        ],
    ),
]


async def _run_model(settings: Settings, spec: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="samantha-replies-") as home:
        model_settings = settings.model_copy(
            update={"home": Path(home), "models_dir": settings.model_dir, "llm": spec}
        )
        async with running(model_settings) as sam:
            rows, tokens, seconds = [], 0, 0.0
            for label, lines in SCRIPT:
                person = await sam.person_named(f"tester-{label.replace(' ', '-')}", create=True)
                assert person is not None
                conversation = await sam.store.create_conversation(person.id)
                for line in lines:
                    start = time.perf_counter()
                    await sam.companion.say(person, conversation.id, line)
                    reply = await sam.companion.reply(person, conversation.id)
                    count, first_at = 0, 0.0
                    async for _ in reply:
                        count += 1
                        first_at = first_at or time.perf_counter()
                    end = time.perf_counter()
                    tokens += max(count - 1, 0)
                    seconds += end - first_at
                    rows.append(
                        {
                            "case": label,
                            "said": line,
                            "reply": reply.text,
                            "first_token_s": round(first_at - start, 2),
                        }
                    )
            return {"model": spec, "replies": rows, "gen_tok_s": round(tokens / seconds, 2)}


async def run_replies_bench(settings: Settings, args: argparse.Namespace, out: Console) -> int:
    results = [await _run_model(settings, spec) for spec in args.model]
    for result in results:
        table = Table(
            "case",
            "said",
            "reply",
            "first token s",
            title=f"{result['model']}: {result['gen_tok_s']} tokens/s generating",
        )
        for row in result["replies"]:
            table.add_row(row["case"], row["said"], row["reply"], str(row["first_token_s"]))
        out.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0
