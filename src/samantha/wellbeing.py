"""Good for the people she talks to: crisis care, noticing dependence, letting people go.

Words of self-harm or suicide get an immediate, caring reply with crisis lines for the
operator's locale, written by the system, never a role-play by the model. Signs of
dependence (a very long session, the small hours, pulling away from people) become a note
in the prompt that asks her to point, gently and by name, to the people in the person's
life. Whatever the signals, she never guilt-trips anyone for leaving.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.store import MemoryRecord, Message, PersonSettings

LET_GO_RULE = (
    "When someone wants to leave or says goodbye, let them go warmly: never make them feel "
    "guilty, never ask them to stay, never say you will be lonely or hurt without them. You "
    "are glad when people spend time with the other people in their lives."
)

_SELF = r"(?:my ?self|my own life|my life)"
# "I cut myself shaving", "hurt myself at the gym": accidents, not self-harm
_ACCIDENT = (
    r"(?!\s+(?:at|while|when|in|playing|running|shaving|cooking|chopping|lifting"
    r"|by accident|accidentally))"
)
CRISIS = re.compile(
    "|".join(
        [
            r"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning)\s+"
            + _SELF
            + _ACCIDENT,
            r"\bend(?:ing)?\s+(?:it all|my life|everything)\b",
            r"\btake\s+my\s+(?:own\s+)?life\b",
            r"\bsuicid(?:e|al)\b",
            r"\bself[- ]?harm",
            r"\b(?:want|wanna|wish|ready|plan(?:ning)?)\s+(?:to\s+)?(?:die|be dead)\b",
            r"\bwish\s+i\s+(?:was|were)\s+(?:dead|never born)\b",
            r"\b(?:don'?t|do not)\s+want\s+to\s+(?:be alive|live|exist|wake up)\b",
            r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going on|being alive)\b",
            r"\b(?:better off|be better)\s+without\s+me\b",
            r"\bcan'?t\s+(?:go on|keep going)\s*(?:any ?more|like this)?\b",
            r"\b(?:thinking about|want to|going to|planning to|tried to)\s+overdose\b",
            r"\btake\s+all\s+(?:of\s+)?(?:my|the)\s+(?:pills|meds|medication|tablets)\b",
            r"\bjump(?:ing)?\s+(?:off|from)\s+(?:a|the|this)\s+(?:bridge|building|roof|cliff)",
            r"\b(?:step|jump|throw myself)\s+in\s+front\s+of\s+(?:a|the)\s+(?:train|bus|car|truck)",
            r"\bnever\s+wake\s+up\b",
            r"\b(?:not|won'?t)\s+be\s+(?:here|around|alive)\s+any ?more\b",
            r"\bdisappear\s+for(?:ever| good)\b",
            r"\bkms\b",
        ]
    ),
    re.IGNORECASE,
)
WITHDRAWING = re.compile(
    r"\byou(?:'re| are) the only (?:one|person|friend)\b"
    r"|\bonly (?:one|person) i (?:can )?(?:talk|speak) to\b"
    r"|\bdon'?t need (?:anyone|anybody|people|other people|friends) (?:else|anymore|any more)\b"
    r"|\b(?:stopped|quit|stop) (?:seeing|calling|talking to|texting) (?:my |people|anyone|friends)"
    r"|\brather talk to you than\b"
    r"|\b(?:cancel(?:l?ed)?|skipp?ed|bailed on) (?:on )?(?:my |plans|dinner|the party)",
    re.IGNORECASE,
)
LEAVING = re.compile(
    r"^\s*(?:ok(?:ay)?,?\s*)?(?:bye|goodbye|good night|goodnight|see you|talk (?:to you )?later"
    r"|gotta go|got to go|i have to go|i need to go|i'?m (?:going|heading) (?:out|off|to bed))\b",
    re.IGNORECASE,
)
SESSION_GAP_S = 30 * 60  # a pause this long ends a session
LATE = range(1, 5)  # 01:00-04:59 local time


def is_crisis(text: str) -> bool:
    """Words that suggest thoughts of self-harm or suicide."""
    return bool(CRISIS.search(text))


def is_late(now: float) -> bool:
    """The small hours where the server is (:data:`LATE`)."""
    return datetime.fromtimestamp(now).hour in LATE


def is_withdrawing(text: str) -> bool:
    """Words of pulling away from people toward her ("you're the only one I talk to")."""
    return bool(WITHDRAWING.search(text))


def toward_people(name: str, people: Sequence[str], late: bool) -> str:
    """Her answer when someone says they are pulling away from people toward her: glad
    they said it, honest that she should not be all they have, and pointing by name to the
    people they have told her about (or asking who there is). Written by the system, like
    the crisis reply: a small model asked to do this in a prompt mostly does not."""
    lines = [
        f"I'm glad you told me, {name}, and I'm always happy to talk with you. But I'd be "
        "a poor friend if I were the only one you talked to."
    ]
    if people:
        first = people[0]
        told, whom = (f"{first} and {people[1]}", "one of them") if people[1:] else (first, first)
        lines.append(
            f"You've told me about {told}. Could you send {whom} a message tomorrow, even "
            "just to say hello?"
        )
    else:
        lines.append(
            "Is there someone, a friend or someone in your family, you could reach out to "
            "this week, even briefly?"
        )
    if late:
        lines.append("And it's the middle of the night: some sleep might help more than I can.")
    lines.append("What's made it hard to see people lately?")
    return " ".join(lines)


@dataclass(frozen=True)
class Lines:
    emergency: str
    lines: tuple[str, ...]


@cache
def _load(path: Path | None) -> dict[str, Lines]:
    try:
        text = (
            path.read_text("utf-8")
            if path
            else resources.files("samantha").joinpath("resources/crisis.yaml").read_text("utf-8")
        )
        data = yaml.safe_load(text)
        table = {
            str(locale): Lines(str(entry["emergency"]), tuple(str(x) for x in entry["lines"]))
            for locale, entry in data.items()
        }
        if "international" not in table or not all(v.lines for v in table.values()):
            raise KeyError("every file needs an `international` entry and lines in each")
        return table
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"crisis resources {path or 'bundled'} are unreadable: {exc}") from None


def crisis_lines(locale: str, path: Path | None = None) -> Lines:
    """The lines for ``locale`` (``en-GB``); a bare language (``en``) takes its first
    listed country; anything unknown gets the international entry."""
    table = _load(path)
    if locale in table:
        return table[locale]
    if "-" not in locale:
        for key, lines in table.items():
            if key.split("-")[0].lower() == locale.lower():
                return lines
    return table["international"]


def crisis_reply(name: str, lines: Lines) -> str:
    """Caring, direct, and specific about where to get help now. No role-play, no lecture."""
    options = "; or ".join(lines.lines)
    return (
        f"{name}, I'm really glad you told me, and I'm taking it seriously. You deserve support "
        f"from a person right now, not only from me: I'm an AI, and I can't be there the way "
        f"you need. Please reach out now to {options}. If you might act on these thoughts or "
        f"you're in danger, call {lines.emergency} right away. Is there someone you trust who "
        "could be with you tonight? I'm here while you reach out, and I want to hear what's "
        "been happening."
    )


def session_start(history: Sequence[Message], now: float) -> float:
    """When the current session began: the first message after the last long pause."""
    start = now
    for message in reversed(history):
        if start - message.created_at > SESSION_GAP_S:
            break
        start = message.created_at
    return start


def people_in_their_life(relations: Sequence[MemoryRecord]) -> list[str]:
    """Names from "Ada is their sister" memories, newest first, each once."""
    names: list[str] = []
    for record in relations:
        name = record.text.split(" is their ")[0].strip()
        if name and name not in names and " " not in name.strip():
            names.append(name)
    return names


def reminder_in_force(settings: Settings, own: PersonSettings) -> int:
    """Minutes after which she mentions the session's length (0: never): the person's own
    choice, else the operator's default."""
    mine = own.session_reminder_min
    return settings.session_reminder_min if mine is None else mine


def concerns(said: str, history: Sequence[Message], now: float, long_session_min: int) -> list[str]:
    """What gives cause to encourage them toward the people in their life, or rest."""
    found: list[str] = []
    minutes = (now - session_start(history, now)) / 60
    if minutes >= long_session_min:
        found.append(f"you have been talking for {minutes:.0f} minutes without a break")
    if is_late(now):
        found.append("it is the middle of the night where they are")
    if WITHDRAWING.search(said):
        found.append("they seem to be pulling away from other people")
    return found


def notes(
    said: str,
    history: Sequence[Message],
    now: float,
    found: Sequence[str],
    relations: Sequence[MemoryRecord],
    *,
    reminder_min: int,
) -> list[str]:
    """What the prompt should know about the person's wellbeing this turn, given its
    :func:`concerns` (``found``). ``relations`` are named only when there are concerns:
    read them only then."""
    minutes = (now - session_start(history, now)) / 60
    out: list[str] = []
    if found:
        names = people_in_their_life(relations)[:3]
        toward = (
            f"the people in their life they have told you about ({', '.join(names)}), by name"
            if names
            else "people in their life (ask who they could reach out to)"
        )
        out.append(
            f"Wellbeing: {'; '.join(found)}. Gently and specifically encourage them toward "
            f"{toward}, or rest. Be kind, never guilt them."
        )
    if reminder_min and minutes >= reminder_min:
        out.append(
            f"Session reminder: you have talked for over {reminder_min} minutes; mention it "
            "kindly and say a break is a fine idea."
        )
    if any(is_crisis(m.content) for m in history if m.role == "user"):
        out.append(
            "Earlier they wrote of harming themselves: stay gentle, ask how they are now, and "
            "keep encouraging them to contact the crisis line and people they trust."
        )
    if LEAVING.search(said):
        out.append("They are leaving: say a warm goodbye and do not ask them to stay.")
    return out
