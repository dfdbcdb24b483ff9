"""What the API sends and accepts. Unknown fields are refused, not ignored, and an id
SQLite could not hold is refused (422) before it reaches the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from samantha.archive import Imported
from samantha.memory import Recollection
from samantha.store import Conversation, MemoryRecord, Message, Person

LARGEST_ID = 2**63 - 1  # SQLite's largest integer: no row has a larger id
ItemId = Annotated[int, Path(ge=1, le=LARGEST_ID, description="its id")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=LARGEST_ID, description="only those older than this id")
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPerson(Strict):
    name: str = Field(min_length=1, max_length=64)


class NewConversation(Strict):
    title: str = Field(default="", max_length=200)


class NewMessage(Strict):
    content: str = Field(description="what the person says")
    stream: bool = Field(default=True, description="stream the reply as server-sent events")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


class PersonOut(BaseModel):
    id: int
    name: str
    created_at: str

    @classmethod
    def of(cls, p: Person) -> PersonOut:
        return cls(id=p.id, name=p.name, created_at=iso(p.created_at))


class PersonCreated(BaseModel):
    person: PersonOut
    token: str = Field(description="shown once; only its hash is kept")


class ImportedOut(PersonCreated):
    conversations: int
    messages: int
    memories: int
    letters: int

    @classmethod
    def of(cls, done: Imported) -> ImportedOut:
        return cls(
            person=PersonOut.of(done.person),
            token=done.token,
            conversations=done.conversations,
            messages=done.messages,
            memories=done.memories,
            letters=done.letters,
        )


class ConversationOut(BaseModel):
    id: int
    title: str
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, c: Conversation) -> ConversationOut:
        return cls(
            id=c.id, title=c.title, created_at=iso(c.created_at), updated_at=iso(c.updated_at)
        )


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    role: Literal["user", "assistant"]
    content: str
    status: str
    created_at: str

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id,
            conversation_id=m.conversation_id,
            role=m.role,
            content=m.content,
            status=m.status,
            created_at=iso(m.created_at),
        )


class ReplyOut(BaseModel):
    message: MessageOut
    reply: MessageOut


class CorrectMemory(Strict):
    text: str = Field(min_length=1, max_length=2000, description="what is true instead")


class MemoryOut(BaseModel):
    id: int
    kind: str
    text: str
    happened_on: str | None
    importance: float
    origin: str
    created_at: str
    superseded_by: int | None
    source_ids: list[int]

    @classmethod
    def of(cls, m: MemoryRecord) -> MemoryOut:
        return cls(
            id=m.id,
            kind=m.kind,
            text=m.text,
            happened_on=m.happened_on,
            importance=m.importance,
            origin=m.origin,
            created_at=iso(m.created_at),
            superseded_by=m.superseded_by,
            source_ids=list(m.source_ids),
        )


class MemoryDetail(BaseModel):
    memory: MemoryOut
    sources: list[MessageOut]


class RecalledOut(BaseModel):
    message: MessageOut
    score: float
    memories: list[MemoryOut]

    @classmethod
    def of(cls, r: Recollection) -> RecalledOut:
        return cls(
            message=MessageOut.of(r.message),
            score=round(r.score, 5),
            memories=[MemoryOut.of(m) for m in r.memories],
        )
