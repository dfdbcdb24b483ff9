"""The records the store keeps and returns: plain, frozen values, one per kind of thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from samantha.store.relationship import Bond, Milestone

MessageStatus = Literal["complete", "streaming", "interrupted", "failed"]
Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    created_at: float


@dataclass(frozen=True)
class Conversation:
    id: int
    person_id: int
    title: str
    created_at: float
    updated_at: float
    summary: str
    summary_upto: int


@dataclass(frozen=True)
class Event:
    """Something sent to one person outside a reply: a proactive message, a notice."""

    id: int
    person_id: int
    kind: str
    data: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class Departure:
    """Her leaving, as the store knows it: when it began and ended, and how far it got."""

    started_at: float
    finished_at: float | None
    people: int  # everyone she knows now
    done: int  # of them, those whose farewell is written


@dataclass(frozen=True)
class Acquaintance:
    """How long and how much one person and Samantha have talked: counts of their own
    messages, and the date of the first one (None if they never wrote)."""

    since: float | None
    conversations: int
    messages: int


@dataclass(frozen=True)
class Letter:
    """A letter a person wrote with her: to whom, the notes it came from, its words now."""

    id: int
    person_id: int
    recipient: str
    notes: str
    text: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class Message:
    id: int
    person_id: int
    conversation_id: int
    role: Literal["user", "assistant"]
    content: str
    status: MessageStatus
    created_at: float


@dataclass(frozen=True)
class Said:
    """Where, when and by whom a turn was said: what recall weighs its candidates by, read
    without their words (the time to about ten microseconds: JSON carries 15 digits)."""

    id: int
    conversation_id: int
    role: Literal["user", "assistant"]
    created_at: float


@dataclass(frozen=True)
class PersonSettings:
    """What a person chose for themselves; ``None`` keeps the operator's default."""

    proactive: bool | None = None
    quiet_start: str | None = None  # HH:MM, server time
    quiet_end: str | None = None
    session_reminder_min: int | None = None  # 0: none


@dataclass(frozen=True)
class EventToFollow:
    """An event memory that may deserve a follow-up, with when the person first said it
    (to tell a plan from a story about the past) and their own settings."""

    memory: MemoryRecord
    said_at: float
    settings: PersonSettings


@dataclass(frozen=True)
class FollowUp:
    """A follow-up she sent about one memory; memories of one day share one message."""

    memory_id: int
    person_id: int
    conversation_id: int
    message_id: int
    text: str
    sent_at: float


def follow_up_event(message: Message, memory_ids: Sequence[int]) -> dict[str, Any]:
    """The ``message`` event a follow-up puts on the person's stream: the stored message,
    shaped as the HTTP API shows messages, and the memories it asks about."""
    return {
        "message": {
            "id": message.id,
            "conversation_id": message.conversation_id,
            "role": message.role,
            "content": message.content,
            "status": message.status,
            "created_at": datetime.fromtimestamp(message.created_at, UTC).isoformat(),
        },
        "follow_up": {"memory_ids": list(memory_ids)},
    }


CORRECTED = "corrected:"


def corrected_subject(memory_id: int) -> str:
    """The subject a correction shares with the memory it corrects, so it supersedes it."""
    return f"{CORRECTED}{memory_id}"


def corrected_id(subject: str) -> int | None:
    """The memory id inside a correction's subject, or None for any other subject."""
    number = subject.removeprefix(CORRECTED)
    if not subject.startswith(CORRECTED) or not (number.isascii() and number.isdigit()):
        return None
    return int(number)


MemoryKind = Literal["fact", "event", "preference", "relation", "reflection"]
MEMORY_KINDS: tuple[MemoryKind, ...] = ("fact", "event", "preference", "relation", "reflection")


@dataclass(frozen=True)
class NewMemory:
    """A memory about to be kept, with the messages it came from."""

    kind: MemoryKind
    text: str
    source_ids: tuple[int, ...]
    subject: str = ""
    happened_on: str | None = None
    happened_until: str | None = None
    importance: float = 0.5
    origin: str = "rule"
    vector: bytes | None = None


@dataclass(frozen=True)
class MemoryRecord:
    id: int
    person_id: int
    kind: MemoryKind
    text: str
    subject: str
    happened_on: str | None
    happened_until: str | None
    importance: float
    origin: str
    created_at: float
    superseded_by: int | None
    source_ids: tuple[int, ...]


@dataclass(frozen=True)
class Learned:
    """What the learning step found in one message: its searchable text and its vector.

    ``context`` is the words of the turns before it (``previous_ids``, nearest first), and
    each of those turns gains this one's words as context too, so a turn is found by the
    two turns either side of it: an answer like "yes, last week!" by the question it
    answers, and the detail someone adds a turn later ("it was mostly drama") by the
    thing they were talking about.
    """

    message_id: int
    search_text: str
    vector: bytes | None
    context: str = ""
    previous_ids: tuple[int, ...] = ()
    content: str = ""
    kinds: str | None = None  # what its nouns are kinds of; None: not known (no WordNet)


@dataclass(frozen=True)
class VectorBlock:
    """One kind of item's vectors (``"turn"`` or ``"memory"``), read as they are kept:
    ``ids[i]``'s vector is the next ``sizes[i]`` bytes of ``joined``."""

    item: str
    ids: tuple[int, ...]
    sizes: tuple[int, ...]
    joined: bytes


@dataclass(frozen=True)
class VectorChanges:
    """A person's dense vectors as changed since a version a reader already holds.

    ``blocks`` hold every vector the person has when ``complete`` (the first read, or
    something was removed since), else only those added or replaced after the version
    asked about. ``version`` 0 means the person has no vectors.
    """

    version: int
    complete: bool
    blocks: tuple[VectorBlock, ...]


@dataclass(frozen=True)
class PersonData:
    """Everything kept about one person that is theirs: what an archive carries.

    Tokens and indexes (full-text rows, vectors) are not part of it: tokens are secrets
    and indexes are rebuilt from the words. Memories, messages and letters are in id order,
    milestones in the order they happened.
    """

    person: Person
    conversations: tuple[Conversation, ...]
    messages: tuple[Message, ...]
    forgotten: frozenset[int]  # ids of messages never to be recalled again
    memories: tuple[MemoryRecord, ...]
    letters: tuple[Letter, ...] = ()
    bond: Bond | None = None  # None before the relationship was first counted
    milestones: tuple[Milestone, ...] = ()
