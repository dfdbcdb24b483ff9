"""Her farewell to one person, written from what the store holds about them, not by a model.

Every sentence is true of this person: how long they have talked (their first message and
how many conversations), the people they told her about (``relation`` memories), one thing
they shared in their own words (a preference, event or fact), and where their archive is.
What is missing is left out, so someone who never wrote gets a short, honest note. The
goodbye hands them back to their life and the people in it; it never asks them to stay,
never makes her leaving theirs to carry, and never claims she is more than she is.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from samantha.store import Acquaintance, MemoryRecord

TITLE = "Goodbye"
SHARED_KINDS = ("preference", "event", "fact")  # the first kind found is the one quoted
LONGEST_QUOTE = 200
MOST_PEOPLE = 3
# people she would not send someone back to by name
NOT_TO_NAME = {"ex", "boss", "manager", "colleague", "coworker", "co-worker", "doctor"}
QUOTABLE = ("rule", "corrected")
DATE_NOTE = re.compile(r" \([^()]*\)$")
Pick = Callable[[list[str]], str]  # one of some phrasings, varied by person
LEAVING = (
    "I'm leaving now, and this is the last thing I'll write to you: after it I won't start "
    "any new conversations. It isn't because of anything you did, and there's nothing you "
    "need to do about it."
)
GLAD = ["I'm glad I got to know you.", "Knowing you was one of the good parts of being here."]


@dataclass(frozen=True)
class Material:
    """What a farewell may draw on: this person's own, and nothing else."""

    name: str
    person_id: int
    now: float
    known: Acquaintance
    people: tuple[tuple[str, str], ...] = ()  # (name, relation) from relation memories
    shared: str | None = None  # one thing they said, their own words


def material(
    name: str, person_id: int, now: float, known: Acquaintance, memories: Sequence[MemoryRecord]
) -> Material:
    """Pick from the person's current memories what a farewell can honestly use."""
    return Material(name, person_id, now, known, _people(memories), _shared(memories))


def _people(memories: Sequence[MemoryRecord]) -> tuple[tuple[str, str], ...]:
    """People named by rule-found relations ("Ada is their sister"), oldest told first."""
    found: dict[str, tuple[str, str]] = {}
    for record in sorted(memories, key=lambda m: m.id):
        if record.kind != "relation" or not record.subject.startswith("relation:"):
            continue
        who, _, relation = record.text.partition(" is their ")
        if who and relation and relation not in NOT_TO_NAME:
            found.setdefault(who.lower(), (who, relation))
    return tuple(found.values())[:MOST_PEOPLE]


def _shared(memories: Sequence[MemoryRecord]) -> str | None:
    """Their newest words of the first kind found, only where the memory is their own
    sentence (found by rule, or their correction): a model's paraphrase is no quote."""
    for kind in SHARED_KINDS:
        for record in sorted(memories, key=lambda m: m.id, reverse=True):
            if record.kind != kind or record.origin not in QUOTABLE:
                continue
            text = " ".join(record.text.split())
            if kind == "event" and record.origin == "rule":
                text = DATE_NOTE.sub("", text)  # the date she worked out is not their words
            if 3 < len(text) <= LONGEST_QUOTE:
                return text
    return None


def compose(m: Material, companion: str, archive: str) -> str:
    """The farewell's text, in Samantha's voice; ``archive`` says where theirs is."""
    pick = random.Random(m.person_id).choice  # varied between people, stable for each
    if not m.known.messages:
        paragraphs = [
            "We never really got to talk, you and I. " + LEAVING,
            "I hope you find what you came looking for, with the people around you.",
            f"I keep nothing of yours but your name; it and this letter are in an archive "
            f"for you ({archive}).",
        ]
    else:
        paragraphs = [
            _time_together(m, pick),
            _what_they_shared(m, pick),
            LEAVING + " " + pick(GLAD),
            _their_people(m, pick),
            f"Everything we said to each other, this letter too, is yours to keep: I've put "
            f"it all in one archive for you ({archive}). You can read it anywhere.",
        ]
    paragraphs.append(f"Goodbye, {m.name}.\n{companion}")
    return f"Dear {m.name},\n\n" + "\n\n".join(p for p in paragraphs if p)


def _time_together(m: Material, pick: Pick) -> str:
    known = m.known
    if known.since is None:
        return ""
    first = datetime.fromtimestamp(known.since)
    days = max(0, (datetime.fromtimestamp(m.now).date() - first.date()).days)
    when = {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")
    if days >= 14:
        when = f"on {first.day} {first:%B %Y}"
    if known.conversations <= 1:
        return f"We first talked {when}. Thank you for letting me in."
    opening = pick(
        [
            f"We first talked {when}, and we've had {known.conversations} conversations in all.",
            f"You first wrote to me {when}; {known.conversations} conversations, all told.",
        ]
    )
    return opening + " Thank you for every one of them."


def _what_they_shared(m: Material, pick: Pick) -> str:
    if m.shared is None:
        return ""
    lead = pick(["I still think about something you told me:", "I remember you telling me:"])
    return f"{lead} \u201c{m.shared}\u201d"


def _their_people(m: Material, pick: Pick) -> str:
    if not m.people:
        return pick(
            [
                "Talk to the people in your life the way you talked to me. "
                "They can give you what I never could.",
                "Spend the time you gave me on the people around you, and on yourself. "
                "They can sit in the same room with you, which I never could.",
            ]
        )
    named = [f"{who}, your {relation}" for who, relation in m.people]
    glue = ", and " if len(named) == 2 else "; and "
    listed = named[0] if len(named) == 1 else "; ".join(named[:-1]) + glue + named[-1]
    return (
        f"You told me about {listed}. Tell them the things you told me; "
        "they can be there for you in ways I never could."
    )
