"""The archive's JSON Schema (draft 2020-12), written once, here, as data.

It ships in every archive as ``schema.json``, is copied into ``docs/archive.md``, and is
what ``samantha.archive.checks`` walks. Version 2 added letters; version 1 (letters always
empty) is kept beside it, so archives made before letters still import.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from samantha.auth import MAX_NAME

FORMAT = "samantha-archive"
VERSION = 2  # what this Samantha writes
MAX_ID = 2**53 - 1  # ids a JavaScript reader can hold exactly
MAX_RECIPIENT = 100
FAREWELL = "farewell.pdf"  # her farewell as handwritten pages, in an archive from departure


def _id(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": description}


def _time(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date-time", "description": description}


def _nullable(kind: str, description: str) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


MESSAGE = _object(
    {
        "id": _id("this archive's id for the message; memories' sources point at it"),
        "role": {"enum": ["user", "assistant"], "description": "user: the person; assistant: her"},
        "content": {"type": "string"},
        "status": {
            "enum": ["complete", "interrupted", "failed"],
            "description": "interrupted: the reply was cut off (kept as far as it got); a reply"
            " still being written when the archive was made is written as interrupted",
        },
        "created_at": _time("when it was said"),
        "forgotten": {
            "type": "boolean",
            "description": "true: the person asked her to forget what this turn said; it is"
            " kept in the transcript but never recalled",
        },
    },
    "one turn of a conversation",
)

CONVERSATION = _object(
    {
        "id": _id("this archive's id for the conversation"),
        "title": {"type": "string"},
        "created_at": _time("when it started"),
        "updated_at": _time("when it last changed"),
        "summary": {
            "type": "string",
            "description": "her rolling summary of the turns up to summary_upto",
        },
        "summary_upto": {
            **_nullable("integer", "the last message the summary covers (null: none)"),
            "minimum": 1,
            "maximum": MAX_ID,
        },
        "messages": {"type": "array", "items": {"$ref": "#/$defs/message"}},
    },
    "one conversation, its messages oldest first",
)

MEMORY = _object(
    {
        "id": _id("this archive's id for the memory"),
        "kind": {"enum": ["fact", "event", "preference", "relation", "reflection"]},
        "text": {"type": "string", "minLength": 1},
        "subject": {
            "type": "string",
            "description": "what it is about; a newer memory with the same subject supersedes"
            " it ('corrected:N' names memory N of this archive)",
        },
        "happened_on": _nullable("string", "for events: the day it happened (YYYY-MM-DD)"),
        "happened_until": _nullable("string", "for events: the last day"),
        "importance": {"type": "number", "minimum": 0, "maximum": 1},
        "origin": {
            "type": "string",
            "description": "how it was found: rule, model, corrected (by the person), reflection",
        },
        "created_at": _time("when she came to remember it"),
        "superseded_by": {
            **_nullable("integer", "the memory that replaced it (a correction, or newer news)"),
            "minimum": 1,
            "maximum": MAX_ID,
        },
        "sources": {
            "type": "array",
            "minItems": 1,
            "items": _id("a message this memory came from"),
            "description": "the messages it came from, by their ids in this archive",
        },
    },
    "something she remembers about the person, with the messages it came from",
)

LETTER = _object(
    {
        "id": _id("this archive's id for the letter"),
        "to": {"type": "string", "minLength": 1, "maxLength": MAX_RECIPIENT},
        "notes": {
            "type": "string",
            "description": "what the person asked her to write, each redraft's note after it",
        },
        "text": {
            "type": "string",
            "minLength": 1,
            "description": "the letter's words as they stand, salutation and closing included",
        },
        "created_at": _time("when it was first drafted (the date on its pages)"),
        "updated_at": _time("when its words last changed"),
        "pdf": {
            "type": "string",
            "description": "the file beside archive.json holding it as handwritten pages:"
            " letters/<id>.pdf (written on export, drawn again from the text on import)",
        },
    },
    "a letter the person wrote with her, in their own voice",
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"urn:samantha:archive:{VERSION}",
    "title": f"Samantha archive, version {VERSION}",
    **_object(
        {
            "format": {"const": FORMAT},
            "version": {"const": VERSION},
            "exported_at": _time("when the archive was made"),
            "samantha_version": {"type": "string", "description": "the Samantha that made it"},
            "person": _object(
                {
                    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
                    "created_at": _time("when they first met"),
                },
                "who the archive belongs to",
            ),
            "conversations": {"type": "array", "items": {"$ref": "#/$defs/conversation"}},
            "memories": {"type": "array", "items": {"$ref": "#/$defs/memory"}},
            "relationship": {
                "type": "null",
                "description": "reserved for the state of the relationship; this version of"
                " Samantha keeps none, so it is always null",
            },
            "letters": {
                "type": "array",
                "items": {"$ref": "#/$defs/letter"},
                "description": "the person's letters, oldest first, each with its pages beside"
                " archive.json",
            },
        },
        "Everything one Samantha kept about one person. Ids are the archive's own, numbered"
        " from 1 in the order things happened; they are not the ids of any server.",
    ),
    "$defs": {
        "conversation": CONVERSATION,
        "message": MESSAGE,
        "memory": MEMORY,
        "letter": LETTER,
    },
}


def _version_1() -> dict[str, Any]:
    """Version 1, as it was: the same but for ``letters``, whose place was kept empty."""
    old = copy.deepcopy(SCHEMA)
    old["$id"], old["title"] = "urn:samantha:archive:1", "Samantha archive, version 1"
    old["properties"]["version"] = {"const": 1}
    old["properties"]["relationship"]["description"] += " in version 1"
    old["properties"]["letters"] = {
        "type": "array",
        "maxItems": 0,
        "description": "reserved for letters (text, with their PDF beside archive.json);"
        " this version of Samantha writes none, so it is always empty in version 1",
    }
    del old["$defs"]["letter"]
    return old


SCHEMAS: dict[int, dict[str, Any]] = {1: _version_1(), VERSION: SCHEMA}


def parse_time(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 time with an offset; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None
