"""The archive's JSON Schema (draft 2020-12), written once, here, as data.

It ships in every archive as ``schema.json``, is copied into ``docs/archive.md``, and is
what ``samantha.archive.checks`` walks. Version 3 added the relationship, version 2
letters; the older versions are kept beside it (version 2: the relationship always null;
version 1: letters always empty too), so archives made before either still import.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from samantha.auth import MAX_NAME

FORMAT = "samantha-archive"
VERSION = 3  # what this Samantha writes
MAX_ID = 2**53 - 1  # ids and counts a JavaScript reader can hold exactly
MAX_RECIPIENT = 100
MAX_MILESTONE_KEY = 100
# samantha.relationship.STAGES as of version 3, written out: a new stage is a new version
STAGE_KEYS = ["met", "acquainted", "friends", "close", "attached"]
FAREWELL = "farewell.pdf"  # her farewell as handwritten pages, in an archive from departure


def _id(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": description}


def _time(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "date-time", "description": description}


def _nullable(kind: str, description: str) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description}


def _count(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": description}


def _share(description: str) -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "maximum": 1, "description": description}


def _message_or_null(description: str) -> dict[str, Any]:
    return {**_nullable("integer", description), "minimum": 1, "maximum": MAX_ID}


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
        "summary_upto": _message_or_null("the last message the summary covers (null: none)"),
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

MILESTONE = _object(
    {
        "key": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_MILESTONE_KEY,
            "description": 'which moment, each once: "met", "feeling", "helped", "told:sister",'
            ' "stage:friends", ...',
        },
        "text": {"type": "string", "minLength": 1, "description": "the moment in her words"},
        "at": _time("when it happened"),
        "source": _message_or_null("the message it happened in (null: none, as for a stage)"),
    },
    "a moment that mattered between them",
)

RELATIONSHIP = {
    **_object(
        {
            "stage": {
                "enum": STAGE_KEYS,
                "description": "from first meeting to deep attachment: met, acquainted,"
                " friends, close, attached",
            },
            "stage_since": _time("when it reached this stage"),
            "closeness": _share("0-1: days together, how much and how recently"),
            "trust": _share("0-1: what they shared, her help, how they left things"),
            "counted_at": _time("when it was last counted (after her last reply)"),
            "counted_upto": _message_or_null(
                "the last message counted (null: none); later ones are counted after an import"
            ),
            "last_tone": {
                "enum": ["warm", "cold", "neither"],
                "description": "how the last message counted would leave a conversation, kindly"
                " or in anger; counted as the conversation's ending once the next one begins",
            },
            "signals": _object(
                {
                    "days_talked": _count("days the person wrote to her"),
                    "messages": _count("messages they wrote"),
                    "words": _count("words in them"),
                    "memories_kept": _count("memories of their life she kept, when counted"),
                    "feelings_shared": _count("messages that told her how they really felt"),
                    "times_she_helped": _count("times they said she helped"),
                    "angry_messages": _count("messages said in anger at her"),
                    "conversations_left_warmly": _count("conversations left with a kind word"),
                    "conversations_left_in_anger": _count("conversations left in anger"),
                    "first_message_at": {
                        **_nullable("string", "when they first wrote (null: never)"),
                        "format": "date-time",
                    },
                    "last_message_at": {
                        **_nullable("string", "when they last wrote (null: never)"),
                        "format": "date-time",
                    },
                },
                "the counts closeness and trust are made of, as GET /v1/me/relationship shows",
            ),
            "milestones": {
                "type": "array",
                "items": {"$ref": "#/$defs/milestone"},
                "description": "the moments that mattered, oldest first",
            },
        },
        "the relationship as she last counted it",
    ),
    "type": ["object", "null"],  # null: never counted (they have not written to her yet)
}

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
            "relationship": RELATIONSHIP,
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
        "milestone": MILESTONE,
    },
}


def _version_2() -> dict[str, Any]:
    """Version 2, as it was: the same but for ``relationship``, whose place was kept null."""
    old = copy.deepcopy(SCHEMA)
    old["$id"], old["title"] = "urn:samantha:archive:2", "Samantha archive, version 2"
    old["properties"]["version"] = {"const": 2}
    old["properties"]["relationship"] = {
        "type": "null",
        "description": "reserved for the state of the relationship; this version of"
        " Samantha keeps none, so it is always null",
    }
    del old["$defs"]["milestone"]
    return old


def _version_1() -> dict[str, Any]:
    """Version 1, as it was: version 2 but for ``letters``, whose place was kept empty."""
    old = _version_2()
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


SCHEMAS: dict[int, dict[str, Any]] = {1: _version_1(), 2: _version_2(), VERSION: SCHEMA}


def iso(ts: float) -> str:
    """A time as the archive writes it: ISO 8601 in UTC, to the microsecond."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def parse_time(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 time with an offset; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def checked_time(text: str) -> float:
    """Seconds since the epoch for a time ``check`` accepted already."""
    moment = parse_time(text)
    if moment is None:  # check() refused it already
        raise ValueError(f"not a checked time: {text!r}")
    return moment
