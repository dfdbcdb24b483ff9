"""The archive's JSON Schema (draft 2020-12), and the checks an import runs against it.

The schema is written once, here, as data: it ships in every archive as ``schema.json``,
is copied into ``docs/archive.md``, and is what ``check`` walks. ``check`` understands the
few keywords the schema uses (a test keeps it that way), then checks what a schema cannot
say: ids are unique and every reference points at something in the same archive.
Each problem is an ``InputError`` that names the field, e.g.
``conversations[0].messages[2].role``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from samantha.auth import MAX_NAME
from samantha.errors import InputError

FORMAT = "samantha-archive"
VERSION = 1
MAX_ID = 2**53 - 1  # ids a JavaScript reader can hold exactly


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

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:samantha:archive:1",
    "title": "Samantha archive, version 1",
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
                " Samantha keeps none, so it is always null in version 1",
            },
            "letters": {
                "type": "array",
                "maxItems": 0,
                "description": "reserved for letters (text, with their PDF beside archive.json);"
                " this version of Samantha writes none, so it is always empty in version 1",
            },
        },
        "Everything one Samantha kept about one person. Ids are the archive's own, numbered"
        " from 1 in the order things happened; they are not the ids of any server.",
    ),
    "$defs": {"conversation": CONVERSATION, "message": MESSAGE, "memory": MEMORY},
}
KEYWORDS = frozenset(  # the JSON Schema keywords ``check`` understands
    {
        *("$schema", "$id", "$ref", "$defs", "title", "description", "type", "properties"),
        *("required", "additionalProperties", "items", "enum", "const", "format"),
        *("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"),
    }
)
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def check(doc: Any) -> None:
    """Refuse anything but a version 1 archive, naming the first field that is wrong."""
    check_version(doc)
    _walk(SCHEMA, doc, "")
    _check_references(doc)


def check_version(doc: Any) -> None:
    """Tell a document that is not an archive, or one too new, from a malformed one."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(
            f'archive.json is not a Samantha archive (its "format" is not "{FORMAT}")',
            code="unsupported_archive",
        )
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise InputError(
            f"this is a version {version!r} archive; this Samantha reads version {VERSION}"
            " (a newer Samantha may read it)",
            code="unsupported_archive",
        )


def _fail(path: str, problem: str) -> InputError:
    return InputError(
        f"archive.json: {path or 'the document'} {problem}", code="invalid_archive", status=422
    )


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind not in ("boolean",):
        return False
    return isinstance(value, _TYPES[kind])


def _walk(schema: dict[str, Any], value: Any, path: str) -> None:
    if "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].removeprefix("#/$defs/")]
    if "const" in schema and (value != schema["const"] or type(value) is not type(schema["const"])):
        raise _fail(path, f"must be {schema['const']!r}")
    if "enum" in schema and (not isinstance(value, str) or value not in schema["enum"]):
        raise _fail(path, "must be one of " + ", ".join(schema["enum"]))
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if kinds and not any(_is(value, k) for k in kinds):
        raise _fail(path, f"must be {' or '.join(kinds)}, not {_name(value)}")
    if isinstance(value, dict):
        _walk_object(schema, value, path)
    elif isinstance(value, list):
        _walk_array(schema, value, path)
    elif isinstance(value, str):
        _check_text(schema, value, path)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(schema, value, path)


def _check_number(schema: dict[str, Any], value: float, path: str) -> None:
    if value < schema.get("minimum", value):
        raise _fail(path, f"must be at least {schema['minimum']}")
    if value > schema.get("maximum", value):
        raise _fail(path, f"must be at most {schema['maximum']}")


def _walk_object(schema: dict[str, Any], value: dict[str, Any], path: str) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", ()):
        if key not in value:
            raise _fail(_join(path, key), "is missing")
    if schema.get("additionalProperties") is False:
        for key in value:
            if key not in properties:
                raise _fail(_join(path, key), "is not a field of this format")
    for key, item in value.items():
        if key in properties:
            _walk(properties[key], item, _join(path, key))


def _walk_array(schema: dict[str, Any], value: list[Any], path: str) -> None:
    if len(value) < schema.get("minItems", 0):
        raise _fail(path, f"must have at least {schema['minItems']} item(s)")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        raise _fail(path, f"must have at most {schema['maxItems']} item(s)")
    if "items" in schema:
        for index, item in enumerate(value):
            _walk(schema["items"], item, f"{path}[{index}]")


def _check_text(schema: dict[str, Any], value: str, path: str) -> None:
    if len(value) < schema.get("minLength", 0):
        raise _fail(path, "must not be empty")
    if len(value) > schema.get("maxLength", len(value)):
        raise _fail(path, f"is over {schema['maxLength']} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(path, "is not valid Unicode text (a lone surrogate)") from None
    if schema.get("format") == "date-time" and parse_time(value) is None:
        raise _fail(path, "must be a date and time with its offset, e.g. 2026-03-02T19:00:00+00:00")


def parse_time(text: str) -> float | None:
    """Seconds since the epoch for an ISO 8601 time with an offset; None if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _check_references(doc: dict[str, Any]) -> None:
    conversations = doc["conversations"]
    messages = [(c, m) for c in conversations for m in c["messages"]]
    _unique("conversations", (c["id"] for c in conversations))
    _unique("messages", (m["id"] for _, m in messages))
    _unique("memories", (m["id"] for m in doc["memories"]))
    for i, c in enumerate(conversations):
        if c["summary_upto"] is not None and c["summary_upto"] not in {
            m["id"] for m in c["messages"]
        }:
            raise _fail(f"conversations[{i}].summary_upto", "is not a message of this conversation")
    message_ids = {m["id"] for _, m in messages}
    memory_ids = {m["id"] for m in doc["memories"]}
    for i, memory in enumerate(doc["memories"]):
        for j, source in enumerate(memory["sources"]):
            if source not in message_ids:
                raise _fail(f"memories[{i}].sources[{j}]", f"names message {source}, not here")
        newer = memory["superseded_by"]
        if newer is not None and (newer not in memory_ids or newer == memory["id"]):
            raise _fail(f"memories[{i}].superseded_by", f"names memory {newer}, not another here")


def _unique(what: str, ids: Iterable[int]) -> None:
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise _fail(what, f"repeat the id {repeated[0]}; each id must be used once")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _name(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is(value, kind):
            return kind
    return type(value).__name__
