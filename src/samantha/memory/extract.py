"""Memories found by rules in what a person says: events with dates, people, likes, facts.

Rules are cheap and exact where the words are plain ("my sister Ada", "I moved to Lisbon",
"my interview is next Thursday"). A memory keeps the person's own sentence, so what she
remembers can always be shown with its source; a subject key ("home", "job") lets a later
fact supersede an earlier one instead of both standing.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from samantha.memory.dates import TimeMention, find_times
from samantha.store import Message, NewMemory

RELATIONS = (
    "best friend",
    "boyfriend",
    "girlfriend",
    "grandmother",
    "grandfather",
    "grandma",
    "grandpa",
    "husband",
    "wife",
    "partner",
    "fiancé",
    "fiance",
    "fiancée",
    "fiancee",
    "mother",
    "father",
    "mom",
    "mum",
    "dad",
    "sister",
    "brother",
    "son",
    "daughter",
    "friend",
    "boss",
    "manager",
    "colleague",
    "coworker",
    "co-worker",
    "roommate",
    "flatmate",
    "aunt",
    "uncle",
    "cousin",
    "niece",
    "nephew",
    "therapist",
    "doctor",
    "neighbour",
    "neighbor",
    "teacher",
    "mentor",
    "dog",
    "cat",
    "kid",
    "child",
    "baby",
    "ex",
)
_REL = "(" + "|".join(sorted(map(re.escape, RELATIONS), key=len, reverse=True)) + ")"
_NAME = r"([A-Z][a-zà-ÿ'\-]+(?: [A-Z][a-zà-ÿ'\-]+)?)"
NOT_NAMES = {
    "I",
    "I'm",
    "I've",
    "I'll",
    "I'd",
    "The",
    "A",
    "An",
    "And",
    "But",
    "So",
    "My",
    "Our",
    "We",
    "He",
    "She",
    "They",
    "It",
    "This",
    "That",
    "Today",
    "Tomorrow",
    "Yesterday",
    "Yes",
    "No",
    "Oh",
    "Hey",
    "Hi",
    "Hello",
    "Thanks",
    "Okay",
    "OK",
    "Well",
    "Also",
    "Just",
    "Then",
}
RELATION_RULES = [
    re.compile(rf"\b[Mm]y {_REL}(?:,)? (?:named |called |is )?{_NAME}"),
    re.compile(rf"\b{_NAME}(?:,)? (?:is|was) my {_REL}\b"),
    re.compile(rf"\b[Mm]y {_REL}'s name is {_NAME}"),
]
PREFERENCE = re.compile(
    r"\bI (?:really |absolutely |just |totally )?(love|like|enjoy|adore|hate|dislike|prefer"
    r"|can't stand|cannot stand|am into|'m into|am allergic to|'m allergic to) ([^.!?,;]{2,60})",
    re.IGNORECASE,
)
FACTS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bmy name is ([A-Z][\w'\-]+)"), "name"),
    (re.compile(r"\bI(?: am|'m) (\d{1,3}) years old\b", re.IGNORECASE), "age"),
    (re.compile(r"\bI (?:live|am living|'m living) in ([A-Z][^.!?,;]{1,40})"), "home"),
    (re.compile(r"\bI(?: just| recently)? moved to ([A-Z][^.!?,;]{1,40})"), "home"),
    (re.compile(r"\bI work (?:as|at|for|in) ([^.!?,;]{2,50})", re.IGNORECASE), "job"),
    (
        re.compile(
            r"\bI(?: am|'m) (?:a|an) (?!bit\b|little\b|lot\b|tad\b|few\b|bunch\b)"
            r"([a-z][a-z \-]{2,40}?)(?: at| for| in|[.!?,;]|$)"
        ),
        "role",
    ),
    (re.compile(r"\bI (?:study|am studying|'m studying) ([^.!?,;]{2,50})", re.IGNORECASE), "study"),
    (re.compile(r"\bI (?:have|'ve got|have got) (?:a|an|two|three) ([^.!?,;]{2,40})"), ""),
]
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def message_day(message: Message) -> date:
    return datetime.fromtimestamp(message.created_at).date()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 2]


def search_text(message: Message, speaker: str) -> str:
    """What full-text search sees for a turn: who said it, the words, and its dates."""
    day = message_day(message)
    dates = [m.describe() for m in find_times(message.content, day)]
    stamp = f"{day:%A %d %B %Y}"
    return " ".join([f"{speaker}:", message.content, "|", stamp, *dates])


def _event(sentence: str, mention: TimeMention, message: Message) -> NewMemory:
    when = (
        f" ({mention.describe()})" if mention.text.lower() not in mention.describe().lower() else ""
    )
    return NewMemory(
        "event",
        f"{sentence}{when}",
        (message.id,),
        happened_on=mention.start.isoformat(),
        happened_until=mention.end.isoformat(),
        importance=0.6,
    )


def extract(message: Message) -> list[NewMemory]:
    """Memories in one message of the person's own, by rule."""
    found: list[NewMemory] = []
    day = message_day(message)
    for sentence in sentences(message.content):
        mentions = [m for m in find_times(sentence, day) if m.text.lower() not in ("today",)]
        if mentions:
            found.append(_event(sentence, mentions[0], message))
        for rule in RELATION_RULES:
            for match in rule.finditer(sentence):
                groups = match.groups()
                relation, name = (groups[1], groups[0]) if rule is RELATION_RULES[1] else groups
                name = name.split(" ")[0] if name.split(" ")[-1] in NOT_NAMES else name
                if name in NOT_NAMES:
                    continue
                found.append(
                    NewMemory(
                        "relation",
                        f"{name} is their {relation.lower()}",
                        (message.id,),
                        subject=f"relation:{relation.lower()}:{name.lower()}",
                        importance=0.7,
                    )
                )
        for match in PREFERENCE.finditer(sentence):
            what = match.group(2).strip().lower()[:40]
            found.append(NewMemory("preference", sentence, (message.id,), subject=f"likes:{what}"))
        for rule, subject in FACTS:
            if rule.search(sentence):
                found.append(
                    NewMemory(
                        "fact",
                        sentence,
                        (message.id,),
                        subject=f"fact:{subject}" if subject else "",
                        importance=0.6,
                    )
                )
                break
    return _dedupe(found)


def _dedupe(found: list[NewMemory]) -> list[NewMemory]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for memory in found:
        key = (memory.kind, memory.subject or memory.text)
        if key not in seen:
            seen.add(key)
            unique.append(memory)
    return unique
