"""Where everything is kept. Every read and write of a person's data names the person.

Privacy is structural: each method that touches messages or conversations takes the
``person_id`` and puts it in its SQL, so a conversation id from someone else simply does
not exist for you. Aggregate counts are the only cross-person answers.
"""

from __future__ import annotations

from pathlib import Path

from samantha.store.base import Clock, Store
from samantha.store.records import (
    MEMORY_KINDS,
    Acquaintance,
    Conversation,
    Departure,
    Event,
    EventToFollow,
    FollowUp,
    Learned,
    Letter,
    MemoryKind,
    MemoryRecord,
    Message,
    NewMemory,
    Person,
    PersonData,
    PersonSettings,
    Said,
    VectorBlock,
    VectorChanges,
    corrected_id,
    corrected_subject,
)
from samantha.store.sqlite import SQLiteStore

__all__ = [
    "MEMORY_KINDS",
    "Acquaintance",
    "Clock",
    "Conversation",
    "Departure",
    "Event",
    "EventToFollow",
    "FollowUp",
    "Learned",
    "Letter",
    "MemoryKind",
    "MemoryRecord",
    "Message",
    "NewMemory",
    "Person",
    "PersonData",
    "PersonSettings",
    "SQLiteStore",
    "Said",
    "Store",
    "VectorBlock",
    "VectorChanges",
    "corrected_id",
    "corrected_subject",
    "open_store",
]


def open_store(path: Path, clock: Clock | None = None) -> Store:
    """The store for a data directory's database file (SQLite; PostgreSQL comes later)."""
    return SQLiteStore(path, clock=clock)
