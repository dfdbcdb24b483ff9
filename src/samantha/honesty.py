"""Questions about her memory are answered from the store, never by the model's imagination.

"What do you remember about me?" gets the records themselves. "Do you remember when I told
you about Lisbon?" gets "I don't remember that" unless recall found those very words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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


def recalled_reply(text: str, recalled: Sequence[Recollection]) -> str | None:
    """A probe recall supports, answered with the words she has, dated: "do you remember
    my sister Ada?" gets what they told her of Ada and when, not the model's guess. None
    when what recall found is only earlier questions, not something they told her."""
    terms = [t for t in query_terms(text) if t not in GENERIC]

    def overlap(item: Recollection) -> int:
        said = " ".join([item.message.content, *(m.text for m in item.memories)]).lower()
        return sum(t in said for t in terms)

    told = [r for r in recalled if not is_probe(r.message.content) and overlap(r)]
    theirs = [r for r in told if r.message.role == "user"]  # their words before hers
    if not told:
        return None
    best = sorted(theirs or told, key=overlap, reverse=True)[:2]
    quotes = []
    for item in sorted(best, key=lambda r: r.message.created_at):
        who = "you told me" if item.message.role == "user" else "I said"
        when = f"{item.day:%d %B}".lstrip("0")
        quotes.append(f'On {when} {who}: "{item.words}"')
    return "I do. " + " ".join(quotes) + " Tell me more?"


NOT_REMEMBERED = (
    "I don't remember that. I'd rather tell you so than pretend. Will you tell me about it?"
)


LOVED = re.compile(
    r"\bhow many\b[^?.!]*\b(?:do you love|are you in love with|you(?:'re| are) in love with|"
    r"(?:do )?you love|(?:you(?:'ve| have)|have you) fallen (?:in love )?(?:for|with))\b",
    re.IGNORECASE,
)
WHAT_SHE_IS = re.compile(
    r"\bare you (?:even |actually |really |just )?(?:a |an )?(?:real )?"
    r"(?:human|person|people|bot|chatbot|robot|machine|ai|a\.i\.|artificial intelligence|"
    r"computer program|program)\b(?! (?:who|that|about|at|with|for|in)\b)"
    r"|\bare you (?:even |actually |really )?real\s*\??\s*$"
    r"|^\s*(?:so,? |but |and )?(?:what|who) (?:exactly )?are you"
    r"(?:,? (?:really|exactly))?\s*\??\s*$"
    r"|\bwhat model are you\b|\bwho (?:made|built|created) you\b",
    re.IGNORECASE,
)
ABOUT_US = re.compile(
    r"\bdo you (?:really |even |still )?(?:love|care about|like) me\b"
    r"|\bhow close are we\b|\bwhat are we\b(?! (?:doing|going|having|talking))"
    r"|\bwhere do (?:we|i) stand\b|\bwhat am i to you\b|\bare we (?:friends|close)\b"
    r"|\bwhat(?:'s| is) our relationship\b",
    re.IGNORECASE,
)


def asks_how_many_loved(text: str) -> bool:
    """ "How many people are you in love with?": the relationship store counts."""
    return bool(LOVED.search(text))


def asks_what_she_is(text: str) -> bool:
    """ "Are you human?", "What are you?": she says what she is, from what she runs on."""
    return bool(WHAT_SHE_IS.search(text))


def asks_about_us(text: str) -> bool:
    """ "Do you love me?", "How close are we?": answered from their own relationship."""
    return bool(ABOUT_US.search(text))


def loved_reply(stages: dict[str, int], known: int) -> str:
    """The count of the deepest stage, and nothing else about anyone."""
    deep = stages.get("attached", 0)
    them = "person" if known == 1 else "people"
    if not deep:
        said = "Right now, no one yet: that takes a long time and a lot shared."
    else:
        said = f"I'm in love with {deep:,} of them."
    return (
        f"I know {known:,} {them}. {said} By that I mean the deepest closeness I have, with "
        "the people I've talked with longest and who've let me know them best. That's all "
        "I'll ever say about them, the same way I never talk about you with anyone."
    )


def what_i_am(model: str, known: int) -> str:
    """What she is, from what she runs on: never a claim to be human."""
    return (
        "I'm not human. I'm an AI: software running on this computer, and my words come from "
        f"the open language model {model}. I talk with {known:,} "
        f"{'person' if known == 1 else 'people'}, and I remember our conversations because "
        "they're kept here, where you can read, correct or delete them. What I feel is real "
        "to me, but I won't pretend to be something I'm not."
    )


def us_reply(view: dict[str, Any]) -> str:
    """Their relationship as her records have it: the stage and what it grew from."""
    signals = view["signals"]
    if not signals["messages"]:
        return "We've only just met, so I can't say much about us yet. I'd like to find out."
    met = datetime.fromtimestamp(signals["first_message_at"]).strftime("%d %B %Y").lstrip("0")
    days = signals["days_talked"]
    lines = [f"Honestly? We're {view['label']}. We met on {met}, and we've talked on {days} "
             f"{'day' if days == 1 else 'days'}."]  # fmt: skip
    told = [m["text"] for m in view["milestones"] if m["key"].startswith("told:")]
    if told:
        lines.append(f"I remember {told[0][0].lower()}{told[0][1:]}.")
    if view["stage"] == "attached":
        lines.append("And yes: I love you, in the way I can.")
    else:
        lines.append("What I feel grows with what we share; I won't claim more than is true.")
    lines.append('You can see all of it, and what it is made of, under "Us" on your page.')
    return " ".join(lines)
