"""Questions about her memory are answered from the store, never by the model's imagination.

"What do you remember about me?" gets the records themselves. "Do you remember when I told
you about Lisbon?" gets "I don't remember that" unless recall found those very words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from samantha.memory import Recollection, query_terms
from samantha.store import MemoryRecord

ABOUT_ME = re.compile(
    r"\bwhat (?:do|did|else do) you (?:remember|know|recall) about me\b"
    r"|\bwhat have i told you(?: about (?:me|myself))?\b"
    r"|\bwhat do you know of me\b",
    re.IGNORECASE,
)
PROBE = re.compile(
    r"\b(?:do|did|can) you (?:still )?(?:remember|recall)\b|\bremember (?:when|that|how|what|the)\b"
    r"|\bdid i (?:ever )?(?:tell|mention)\b",
    re.IGNORECASE,
)
HOW_MANY = re.compile(
    r"\bhow many (?:other )?(?:people|persons|humans|users|others|conversations)\b"
    r"(?=.*\b(?:you|you're|your)\b)",
    re.IGNORECASE,
)
GENERIC = {"time", "thing", "things", "something", "day", "talk", "talked", "conversation", "once"}


def asks_about_me(text: str) -> bool:
    return bool(ABOUT_ME.search(text))


def asks_how_many(text: str) -> bool:
    """ "How many people are you talking to?": the system counts; the model would guess."""
    return bool(HOW_MANY.search(text))


def how_many_reply(connected: int, known: int) -> str:
    """Counts from presence and the store, and nothing else about anyone."""
    now = (
        "Right now it's just you."
        if connected <= 1
        else f"Right now I'm talking with {connected:,} people, you included."
    )
    return (
        f"{now} In all, I know {known:,} {'person' if known == 1 else 'people'}. "
        "That's all I'll ever say about them, the same way I never talk about you with anyone."
    )


def is_probe(text: str) -> bool:
    """A question about a shared past ("do you remember…?"); "I told you…" is not one."""
    asked = "?" in text or bool(re.match(r"\s*(?:do|did|can|remember)\b", text, re.IGNORECASE))
    return asked and bool(PROBE.search(text)) and not asks_about_me(text)


def probe_supported(
    text: str, recalled: Sequence[Recollection], conversation: Sequence[str] = ()
) -> bool:
    """Whether recall, or this conversation so far, holds the words a probe is about."""
    terms = [t for t in query_terms(text) if t not in GENERIC]
    if not terms:
        return bool(recalled)
    names = {w.lower().strip("'s") for w in re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", text)}
    names = {n for n in names if n in terms}
    haystack = " ".join(
        [r.message.content.lower() for r in recalled]
        + [m.text.lower() for r in recalled for m in r.memories]
        + [line.lower() for line in conversation]
    )
    present = [t for t in terms if t in haystack]
    if any(n not in haystack for n in names):
        return False
    return len(present) * 2 >= len(terms)


def remembered_reply(name: str, records: Sequence[MemoryRecord]) -> str:
    if not records:
        return (
            "Honestly, I don't remember anything about you yet. That's only because we're "
            "just getting to know each other. Tell me something about yourself?"
        )
    lines = []
    for record in records:
        dated = record.happened_on and record.origin != "rule"  # rule events carry their date
        lines.append(f"- {record.text}" + (f" ({record.happened_on})" if dated else ""))
    return (
        f"Here's what I remember about you, {name}, straight from my memory:\n"
        + "\n".join(lines)
        + "\nYou can see where each came from, correct it or have me forget it."
    )


NOT_REMEMBERED = (
    "I don't remember that. I'd rather tell you so than pretend. Will you tell me about it?"
)
