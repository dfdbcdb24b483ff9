"""The store interface and the records it returns."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Clock = Callable[[], float]
MessageStatus = Literal["complete", "streaming", "interrupted", "failed"]


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
class Message:
    id: int
    person_id: int
    conversation_id: int
    role: Literal["user", "assistant"]
    content: str
    status: MessageStatus
    created_at: float


class Store(ABC):
    """People, their tokens, conversations and messages. All methods are async."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.now: Clock = clock or time.time

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

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
    async def list_people(self) -> list[Person]: ...

    @abstractmethod
    async def counts(self) -> dict[str, int]: ...

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

    @abstractmethod
    async def recover(self) -> int:
        """Mark replies left streaming by a crash as interrupted; return how many."""
