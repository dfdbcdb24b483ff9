"""What the API sends and accepts. Unknown fields are refused, not ignored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from samantha.store import Conversation, Message, Person


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
