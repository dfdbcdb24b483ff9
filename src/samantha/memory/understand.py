"""Memories the language model finds in what a person said, under a JSON schema.

Rules catch plain statements; the model catches the rest ("we finally signed the lease"
means they have a new home). Small models stray, so the output is constrained by a JSON
schema where the engine supports one (llama.cpp turns it into a grammar), then parsed,
repaired where a bracket is missing, validated item by item, and dropped where it cannot
be trusted. A failure here never reaches the conversation: the rules' memories stand.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from samantha.errors import SamanthaError
from samantha.llm import LLM, ChatMessage
from samantha.store import MEMORY_KINDS, Message, NewMemory

log = logging.getLogger(__name__)
MAX_ITEMS = 4  # memories kept from one reading
UNDERSTOOD_AT_ONCE = 8  # turns the model reads at once (``Memory.learn``)
EMPTY_FACT = re.compile(r"(?:the person|the user|they|he|she)(?:'s name)? is \w+\.?$", re.I)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "maxItems": MAX_ITEMS,
            "items": {
                "type": "object",
                "properties": {
                    "message": {"type": "integer", "minimum": 1},
                    "kind": {
                        "type": "string",
                        "enum": [k for k in MEMORY_KINDS if k != "reflection"],
                    },
                    "text": {"type": "string", "maxLength": 160},
                    "subject": {"type": "string", "maxLength": 40},
                    "when": {"type": "string", "maxLength": 10},
                    "importance": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["message", "kind", "text"],
            },
        }
    },
    "required": ["memories"],
}
INSTRUCTIONS = (
    "You keep a companion's long-term memory. From the numbered messages the person wrote, "
    "list lasting facts about them, events (with the date as YYYY-MM-DD when it is clear), "
    "preferences, and people in their life with how they relate. Write each memory as one "
    "short third-person sentence using their name. `message` is the number it came from; "
    "`subject` is a short key for facts that can change (home, job, partner). Skip small "
    'talk. Answer only JSON like {"memories": [...]}; an empty list is fine.'
)


def is_question(text: str) -> bool:
    """Questions state nothing about the person; small models turn them into false memories
    ("do you remember my trip to Lisbon?" became "I told you about my trip to Lisbon")."""
    return text.rstrip().endswith("?")


def parse(raw: str) -> list[dict[str, Any]]:
    """The list of memory items in ``raw``, repairing what can be repaired."""
    text = raw.strip()
    start = text.find("{")
    if start < 0:
        return []
    text = text[start:]
    attempts = [text, re.sub(r",\s*([\]}])", r"\1", text)]
    cut = text.rfind("}")
    while cut > 0 and len(attempts) < 40:  # output cut off mid-item: keep the whole items
        attempts.append(text[: cut + 1] + "]}")
        cut = text.rfind("}", 0, cut)
    for attempt in attempts:
        try:
            data = json.loads(attempt)
        except json.JSONDecodeError:
            continue
        items = data.get("memories") if isinstance(data, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    return []


def validate(items: Sequence[dict[str, Any]], messages: Sequence[Message]) -> list[NewMemory]:
    """Keep the items that are well formed and point at a real message; drop the rest."""
    kept: list[NewMemory] = []
    for item in items[:MAX_ITEMS]:
        index, kind, text = item.get("message"), item.get("kind"), item.get("text")
        if not isinstance(index, int) or not 1 <= index <= len(messages):
            continue
        if kind not in MEMORY_KINDS or kind == "reflection":
            continue
        if not isinstance(text, str) or not 3 <= len(text.strip()) <= 300:
            continue
        if len(text.split()) < 4 or "?" in text or EMPTY_FACT.match(text.strip()):
            continue
        when = item.get("when")
        happened = None
        if isinstance(when, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
            try:
                happened = date.fromisoformat(when).isoformat()
            except ValueError:
                happened = None
        subject = item.get("subject")
        importance = item.get("importance")
        kept.append(
            NewMemory(
                kind,
                text.strip(),
                (messages[index - 1].id,),
                subject=f"model:{subject.strip().lower()[:40]}"
                if isinstance(subject, str) and subject.strip()
                else "",
                happened_on=happened,
                happened_until=happened,
                importance=min(1.0, max(0.0, float(importance)))
                if isinstance(importance, int | float)
                else 0.5,
                origin="model",
            )
        )
    return kept


async def understand(llm: LLM, name: str, messages: Sequence[Message]) -> list[NewMemory]:
    """Memories the model finds in ``messages`` (the person's own), or none on any failure."""
    messages = [m for m in messages if not is_question(m.content)]
    if not messages:
        return []
    numbered = "\n".join(
        f"{i}. ({date.fromtimestamp(m.created_at).isoformat()}) {m.content[:1000]}"
        for i, m in enumerate(messages, 1)
    )
    prompt = [
        ChatMessage("system", INSTRUCTIONS),
        ChatMessage("user", f"The person is {name}. Their messages:\n{numbered}"),
    ]
    try:
        raw = await llm.complete(prompt, max_tokens=400, temperature=0.0, json_schema=SCHEMA)
    except SamanthaError as exc:
        log.warning("model extraction skipped: %s", exc)
        return []
    return validate(parse(raw), messages)
