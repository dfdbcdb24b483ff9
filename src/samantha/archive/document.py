"""archive.json, to and from what the store keeps about a person.

The archive numbers everything itself (conversations, messages, memories, letters), from
1, in the order things happened, and the relationship points at messages by those numbers:
a server's row ids say nothing about a person's life, and would differ on the next server.
Importing keeps that order, so exporting again gives the same numbers and the same document.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from typing import Any

from samantha import __version__
from samantha.archive.checks import pages
from samantha.archive.relationship import from_relationship, to_relationship
from samantha.archive.schema import FORMAT, VERSION, checked_time, iso
from samantha.store import (
    Conversation,
    Letter,
    MemoryRecord,
    Message,
    Person,
    PersonData,
    corrected_id,
    corrected_subject,
)

Document = dict[str, Any]


def _numbering(ids: list[int]) -> dict[int, int]:
    return {old: new for new, old in enumerate(sorted(ids), 1)}


def to_document(data: PersonData, exported_at: float) -> Document:
    """The person's record as archive.json, with the archive's own ids."""
    conversations = _numbering([c.id for c in data.conversations])
    messages = _numbering([m.id for m in data.messages])
    memories = _numbering([m.id for m in data.memories])
    history: dict[int, list[Message]] = defaultdict(list)
    for message in sorted(data.messages, key=lambda m: m.id):
        history[message.conversation_id].append(message)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": iso(exported_at),
        "samantha_version": __version__,
        "person": {"name": data.person.name, "created_at": iso(data.person.created_at)},
        "conversations": [
            {
                "id": conversations[c.id],
                **_conversation(c, history[c.id], messages),
                "messages": [_message(m, messages, data.forgotten) for m in history[c.id]],
            }
            for c in sorted(data.conversations, key=lambda c: c.id)
        ],
        "memories": [
            _memory(m, memories, messages) for m in sorted(data.memories, key=lambda m: m.id)
        ],
        "relationship": to_relationship(data.bond, data.milestones, messages),
        "letters": [_letter(x, n) for n, x in enumerate(sorted(data.letters, key=_id), 1)],
    }


def _id(letter: Letter) -> int:
    return letter.id


def _letter(x: Letter, number: int) -> Document:
    return {
        "id": number,
        "to": x.recipient,
        "notes": x.notes,
        "text": x.text,
        "created_at": iso(x.created_at),
        "updated_at": iso(x.updated_at),
        "pdf": pages(number),
    }


def _conversation(c: Conversation, own: list[Message], numbers: dict[int, int]) -> Document:
    covered = bisect_right([m.id for m in own], c.summary_upto)  # messages the summary covers
    return {
        "title": c.title,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "summary": c.summary,
        "summary_upto": numbers[own[covered - 1].id] if covered else None,
    }


def _message(m: Message, numbers: dict[int, int], forgotten: frozenset[int]) -> Document:
    return {
        "id": numbers[m.id],
        "role": m.role,
        "content": m.content,
        "status": "interrupted" if m.status == "streaming" else m.status,
        "created_at": iso(m.created_at),
        "forgotten": m.id in forgotten,
    }


def _memory(r: MemoryRecord, memories: dict[int, int], messages: dict[int, int]) -> Document:
    corrects = corrected_id(r.subject)
    return {
        "id": memories[r.id],
        "kind": r.kind,
        "text": r.text,
        "subject": corrected_subject(memories[corrects]) if corrects in memories else r.subject,
        "happened_on": r.happened_on,
        "happened_until": r.happened_until,
        "importance": r.importance,
        "origin": r.origin,
        "created_at": iso(r.created_at),
        "superseded_by": memories.get(r.superseded_by) if r.superseded_by else None,
        "sources": sorted(messages[s] for s in r.source_ids),
    }


def from_document(doc: Document) -> PersonData:
    """A checked archive.json as the store's records, still with the archive's ids."""
    person = Person(0, doc["person"]["name"], checked_time(doc["person"]["created_at"]))
    conversations, messages, forgotten = [], [], set()
    for c in doc["conversations"]:
        conversations.append(
            Conversation(
                c["id"],
                0,
                c["title"],
                checked_time(c["created_at"]),
                checked_time(c["updated_at"]),
                c["summary"],
                c["summary_upto"] or 0,
            )
        )
        for m in c["messages"]:
            role, content, status, said = m["role"], m["content"], m["status"], m["created_at"]
            messages.append(Message(m["id"], 0, c["id"], role, content, status, checked_time(said)))
            if m["forgotten"]:
                forgotten.add(m["id"])
    memories = [
        MemoryRecord(
            r["id"],
            0,
            r["kind"],
            r["text"],
            r["subject"],
            r["happened_on"],
            r["happened_until"],
            float(r["importance"]),
            r["origin"],
            checked_time(r["created_at"]),
            r["superseded_by"],
            tuple(sorted(set(r["sources"]))),
        )
        for r in doc["memories"]
    ]
    letters = [
        Letter(
            x["id"],
            0,
            x["to"],
            x["notes"],
            x["text"],
            checked_time(x["created_at"]),
            checked_time(x["updated_at"]),
        )
        for x in doc["letters"]
    ]
    return PersonData(
        person,
        tuple(sorted(conversations, key=lambda c: c.id)),
        tuple(sorted(messages, key=lambda m: m.id)),
        frozenset(forgotten),
        tuple(sorted(memories, key=lambda m: m.id)),
        tuple(sorted(letters, key=_id)),
        *from_relationship(doc["relationship"]),
    )
