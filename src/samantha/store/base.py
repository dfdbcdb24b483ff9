"""The store interface: what every store does, each read and write naming the person.

Its records are in ``samantha.store.records``.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from samantha.store.records import (
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
    VectorChanges,
)
from samantha.store.records import MessageStatus as MessageStatus
from samantha.store.records import Role as Role
from samantha.store.relationship import RelationshipStore

Clock = Callable[[], float]


class Store(RelationshipStore, ABC):
    """People, their tokens, conversations, messages, memories and letters. All async."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.now: Clock = clock or time.time

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    def reader(self) -> Callable[[], Store] | None:
        """A picklable recipe for this store's data opened in another process, for reading
        only (``memory.workers`` recalls there); None where the data cannot be shared."""
        return None

    # people and tokens (operator-level)
    @abstractmethod
    async def create_person(self, name: str, token_hash: str) -> Person: ...

    @abstractmethod
    async def person_by_name(self, name: str) -> Person | None: ...

    @abstractmethod
    async def person_by_token(self, token_hash: str) -> Person | None: ...

    @abstractmethod
    async def add_token(self, person_id: int, token_hash: str) -> None: ...

    @abstractmethod
    async def delete_person(self, person_id: int) -> dict[str, int]:
        """Remove the person and everything kept about them, in one transaction, leaving no
        copy of it in the store's files; return how many rows of each kind went. Their id
        is never given to anyone else. Raises ``NotFound`` for an unknown person."""

    @abstractmethod
    async def list_people(self) -> list[Person]: ...

    @abstractmethod
    async def people_by_recency(self) -> list[int]:
        """The ids of everyone who has a conversation, who talked most recently first: ids
        only, for a process that readies what it holds of people (``memory.workers``)."""

    @abstractmethod
    async def counts(self) -> dict[str, int]: ...

    @abstractmethod
    async def count_people(self) -> int:
        """How many people she knows: a count, never who."""

    @abstractmethod
    async def backup(self, target: Path, *, replace: bool = False) -> None:
        """Write a consistent copy of everything to ``target`` while writes go on.

        The copy is checked and only then put in place, so a failed backup leaves nothing
        at ``target``. An existing file is kept (``InputError``) unless ``replace``.
        """

    @abstractmethod
    async def merge_search(self) -> None:
        """Merge the search indexes, made piecemeal by a bulk import, so that searching
        them costs what it would in one built at once. Slow (seconds at thousands of
        people) and in the way of every write meanwhile: for after a bulk import."""

    # one person's conversations and messages
    @abstractmethod
    async def create_conversation(self, person_id: int, title: str = "") -> Conversation: ...

    @abstractmethod
    async def conversation(self, person_id: int, conversation_id: int) -> Conversation: ...

    @abstractmethod
    async def conversations(self, person_id: int, limit: int = 50) -> list[Conversation]: ...

    @abstractmethod
    async def latest_conversation(self, person_id: int) -> Conversation | None: ...

    @abstractmethod
    async def add_message(
        self,
        person_id: int,
        conversation_id: int,
        role: Literal["user", "assistant"],
        content: str,
        status: MessageStatus = "complete",
    ) -> Message: ...

    @abstractmethod
    async def finish_message(
        self, person_id: int, message_id: int, content: str, status: MessageStatus
    ) -> None: ...

    @abstractmethod
    async def messages(
        self,
        person_id: int,
        conversation_id: int,
        *,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int = 200,
    ) -> list[Message]: ...

    @abstractmethod
    async def set_summary(
        self, person_id: int, conversation_id: int, summary: str, upto_id: int
    ) -> None: ...

    # one person's event stream
    @abstractmethod
    async def add_event(self, person_id: int, kind: str, data: dict[str, Any]) -> Event:
        """Keep an event for the person; its id orders their stream."""

    @abstractmethod
    async def events_after(self, person_id: int, after_id: int, limit: int = 100) -> list[Event]:
        """The person's events with ids above ``after_id``, oldest first."""

    @abstractmethod
    async def last_event_id(self, person_id: int) -> int:
        """The id of the person's newest event, or 0."""

    @abstractmethod
    async def newest_events(self, after_id: int | None) -> tuple[int, dict[int, int]]:
        """The newest event's id, everyone's (0 when there is none), and with ``after_id``
        the people who have events above it, each with the id of their newest of those:
        which streams to wake, never what is in the events."""

    # her departure (operator-level), and each person's farewell
    @abstractmethod
    async def departure(self) -> Departure | None:
        """The departure and its progress, or None while she stays."""

    @abstractmethod
    async def begin_departure(self) -> Departure:
        """Start departing (or keep the start already made). From then on new people,
        conversations and messages of people are refused with ``Departing``."""

    @abstractmethod
    async def finish_departure(self) -> Departure: ...

    @abstractmethod
    async def farewelled(self) -> set[int]:
        """The ids of the people whose farewell is written."""

    @abstractmethod
    async def add_farewell(
        self, person_id: int, title: str, text: str, data: dict[str, Any]
    ) -> Event | None:
        """Write the person's farewell in one transaction: a conversation titled ``title``
        holding ``text`` as her message, a ``farewell`` event (``data`` plus the text and
        the ids) and the mark that it is done. None, and nothing written, if the person
        already has one or is gone: however often it runs, nobody gets two."""

    @abstractmethod
    async def farewell(self, person_id: int) -> Message | None:
        """The person's farewell message, once written."""

    @abstractmethod
    async def acquaintance(self, person_id: int) -> Acquaintance: ...

    # follow-ups: what she asks on her own about events, and each person's say in it
    @abstractmethod
    async def person_settings(self, person_id: int) -> PersonSettings:
        """The person's own choices; ``None`` where they keep the operator's default."""

    @abstractmethod
    async def change_person_settings(
        self, person_id: int, changes: PersonSettings
    ) -> PersonSettings:
        """Keep the fields of ``changes`` that are not ``None``; return the choices now.
        Raises ``NotFound`` for an unknown person."""

    @abstractmethod
    async def due_follow_ups(
        self,
        first_day: str,
        last_day: str,
        *,
        default_on: bool,
        day_start: float,
        per_day: int,
        limit: int = 500,
    ) -> list[EventToFollow]:
        """Events that ended between ``first_day`` and ``last_day`` (ISO dates) and were
        not followed up yet, of everyone whose switch is on (``default_on`` for those who
        have not chosen) and who had fewer than ``per_day`` follow-ups since ``day_start``;
        by person, read in pages of ``limit``.

        The scheduler's one read across people: one query however many people there are.
        Each delivery is then written for one person (``send_follow_up``).
        """

    @abstractmethod
    async def follow_up_candidates(self, person_id: int, first_day: str) -> list[EventToFollow]:
        """The person's events ending on or after ``first_day`` not yet followed up."""

    @abstractmethod
    async def send_follow_up(
        self,
        person_id: int,
        memory_ids: Sequence[int],
        text: str,
        *,
        day_start: float,
        per_day: int,
        busy_after: float,
    ) -> Message | None:
        """Deliver a follow-up about ``memory_ids`` (the first is what it asks about) in one
        transaction: her message in the person's latest conversation, a ``message`` event
        for their stream, and a record that each memory was followed up.

        Returns ``None`` and writes nothing when it is not to be sent after all: the first
        memory is gone, superseded or already followed up; the person already had
        ``per_day`` follow-ups since ``day_start``; or they are mid-turn (a reply is
        streaming, or their message after ``busy_after`` waits for one). A latest
        conversation left waiting on an older message or an unfinished reply is kept as it
        is, so it can still be answered: the follow-up starts a new conversation.
        """

    @abstractmethod
    async def follow_ups(self, person_id: int, limit: int = 100) -> list[FollowUp]:
        """The follow-ups she sent the person, newest first."""

    @abstractmethod
    async def recover(self) -> int:
        """Mark replies left streaming by a crash as interrupted; return how many."""

    @abstractmethod
    async def messages_by_id(self, person_id: int, ids: Sequence[int]) -> list[Message]:
        """The person's recallable messages among ``ids`` (others' ids find nothing)."""

    @abstractmethod
    async def said_by_id(self, person_id: int, ids: Sequence[int]) -> list[Said]:
        """Where, when and by whom each of the person's recallable turns among ``ids`` was
        said (others' ids find nothing)."""

    @abstractmethod
    async def nearby(
        self, person_id: int, anchors: Sequence[tuple[int, int]], reach: int
    ) -> list[tuple[int, int, Said]]:
        """For each (message id, conversation id) of the person's, the recallable turns up to
        ``reach`` before and after it in that conversation, as (anchor, distance, turn).
        Ids interleave across people and conversations, so nearness is by conversation."""

    @abstractmethod
    async def said_since(self, person_id: int, after_id: int, limit: int = 500) -> list[Message]:
        """The person's own messages after ``after_id``, in every conversation, oldest first."""

    # one person's memory
    @abstractmethod
    async def add_memories(self, person_id: int, memories: Sequence[NewMemory]) -> list[int]: ...

    @abstractmethod
    async def memories(
        self,
        person_id: int,
        *,
        kind: MemoryKind | None = None,
        include_superseded: bool = False,
        limit: int = 200,
        before_id: int | None = None,
    ) -> list[MemoryRecord]: ...

    @abstractmethod
    async def memories_by_id(self, person_id: int, ids: Sequence[int]) -> list[MemoryRecord]: ...

    @abstractmethod
    async def memory_links(
        self, person_id: int, ids: Sequence[int]
    ) -> dict[int, tuple[float, tuple[int, ...]]]:
        """Each of the person's current records among ``ids`` (superseded ones are left
        out): its importance and the turns it was drawn from (their ids, in order), what
        recall weighs a record by, without its text. Recall credits and shows only these:
        dense search reads every record's vector, a corrected or outdated one's too."""

    @abstractmethod
    async def memory(self, person_id: int, memory_id: int) -> MemoryRecord: ...

    @abstractmethod
    async def correct_memory(
        self, person_id: int, memory_id: int, text: str, vector: bytes | None = None
    ) -> int: ...

    @abstractmethod
    async def forget_memory(self, person_id: int, memory_id: int) -> int: ...

    @abstractmethod
    async def unlearned(self, person_id: int, limit: int = 64) -> list[Message]: ...

    @abstractmethod
    async def people_to_learn(self) -> list[Person]:
        """Everyone with turns not learned from yet: a stop that could not wait for their
        learning leaves it to the next start (``Memory.resume``)."""

    @abstractmethod
    async def unkinded(self, person_id: int, limit: int = 256) -> list[Message]:
        """The person's learned turns whose kinds are not indexed yet (``memory.kinds``)."""

    @abstractmethod
    async def add_kinds(self, person_id: int, found: Sequence[tuple[int, str]]) -> None:
        """Index what each of the person's learned turns (by id) names kinds of."""

    @abstractmethod
    async def learn(
        self, person_id: int, learned: Sequence[Learned], memories: Sequence[NewMemory]
    ) -> list[int]: ...

    @abstractmethod
    async def search_turns(
        self,
        person_id: int,
        terms: Sequence[str],
        limit: int,
        context_weight: float = 0.3,
        exclude: Sequence[int] = (),
    ) -> list[tuple[int, float]]: ...

    @abstractmethod
    async def search_kinds(
        self, person_id: int, terms: Sequence[str], limit: int, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        """(message id, BM25 score over what the person's turns name kinds of)."""

    @abstractmethod
    async def search_memories(
        self, person_id: int, terms: Sequence[str], limit: int
    ) -> list[tuple[int, float]]: ...

    @abstractmethod
    async def searchable(self, person_id: int) -> tuple[int, int]:
        """How many of the person's turns and memory records full-text search reaches (a
        store may answer with the counts its last searches made)."""

    async def ready_search(self, people: Sequence[int], seconds: float) -> int:
        """Read ahead what full-text search holds of each of ``people`` between searches,
        in their order, for at most ``seconds``; how many people's. A store that holds
        nothing reads nothing."""
        return 0

    @abstractmethod
    async def vectors_since(self, person_id: int, version: int) -> VectorChanges:
        """The person's vectors added since ``version`` (all of them when that is 0 or
        something was removed since), read at one moment with the version they make up."""

    @abstractmethod
    async def foreign_vectors(
        self, person_id: int, size: int, limit: int = 256
    ) -> list[tuple[str, int, str]]:
        """Up to ``limit`` of the person's vectors of another ``size`` in bytes (made by
        another embedder), as ("turn" or "memory", its id, the text it was made from)."""

    @abstractmethod
    async def replace_vectors(
        self, person_id: int, vectors: Sequence[tuple[str, int, bytes]]
    ) -> None:
        """Put new vectors in place of the person's ("turn" or "memory", id, vector), where
        the item still has one; the cached copies take them as added."""

    # one person's letters
    @abstractmethod
    async def add_letter(self, person_id: int, recipient: str, notes: str, text: str) -> Letter:
        """Keep a new letter; refused with ``Departing`` once she is leaving."""

    @abstractmethod
    async def letters(
        self, person_id: int, *, limit: int = 100, before_id: int | None = None
    ) -> list[Letter]:
        """The person's letters, newest first; page back with ``before_id``."""

    @abstractmethod
    async def letter(self, person_id: int, letter_id: int) -> Letter:
        """One of the person's letters; ``NotFound`` for anyone else's, as for no letter."""

    @abstractmethod
    async def change_letter(
        self,
        person_id: int,
        letter_id: int,
        *,
        text: str | None = None,
        recipient: str | None = None,
        notes: str | None = None,
    ) -> Letter:
        """Keep the fields given (not ``None``) and return the letter as it now stands."""

    @abstractmethod
    async def delete_letter(self, person_id: int, letter_id: int) -> None:
        """Delete the letter, leaving no copy of its words in the store's files."""

    # one person's whole record, for export and import
    @abstractmethod
    async def person_by_id(self, person_id: int) -> Person | None: ...

    @abstractmethod
    async def person_data(self, person_id: int) -> PersonData:
        """Everything kept about the person, read as one consistent snapshot."""

    @abstractmethod
    async def restore_person(
        self,
        data: PersonData,
        token_hash: str,
        turns: Sequence[Learned],
        memory_vectors: Sequence[bytes | None],
    ) -> Person:
        """Write a whole person in one transaction: all of it, or nothing.

        The ids in ``data`` and ``turns`` are the archive's own; each row gets a new id in
        the same order, so the person's history reads as it did. ``turns`` index the
        messages for recall; ``memory_vectors`` go with ``data.memories``, one each.
        """
