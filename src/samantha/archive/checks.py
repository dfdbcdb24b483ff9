"""The checks an import runs on archive.json: the schema of its version, then what a schema
cannot say.

``check`` understands the few JSON Schema keywords the schemas use (a test keeps it that
way), then checks that ids (and milestones' keys) are unique and every reference points at
something in the same archive (a memory's sources, a letter's pages, the messages the
relationship was counted up to and its milestones happened in). Each problem is an
``InputError`` that names the field, e.g. ``conversations[0].messages[2].role``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable
from typing import Any

from samantha.archive.schema import FAREWELL, FORMAT, SCHEMAS, VERSION, parse_time
from samantha.errors import InputError

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


def check(doc: Any, files: Collection[str] = ()) -> None:
    """Refuse anything but an archive of a version this Samantha reads, naming the first
    field that is wrong; ``files`` are the other files in its ZIP, checked against it."""
    _walk(SCHEMAS[check_version(doc)], doc, "")
    _check_references(doc)
    _check_files(doc, files)


def check_version(doc: Any) -> int:
    """Tell a document that is not an archive, or one too new, from a malformed one."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InputError(
            f'archive.json is not a Samantha archive (its "format" is not "{FORMAT}")',
            code="unsupported_archive",
        )
    version = doc.get("version")
    if version not in SCHEMAS or isinstance(version, bool):
        raise InputError(
            f"this is a version {version!r} archive; this Samantha reads versions"
            f" {', '.join(map(str, SCHEMAS))} (a newer Samantha may read it)",
            code="unsupported_archive",
        )
    return int(version)


def _fail(path: str, problem: str) -> InputError:
    return InputError(
        f"archive.json: {path or 'the document'} {problem}", code="invalid_archive", status=422
    )


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind not in ("boolean",):
        return False
    return isinstance(value, _TYPES[kind])


def _walk(schema: dict[str, Any], value: Any, path: str) -> None:
    if "$ref" in schema:  # every version's definitions are the newest one's
        schema = SCHEMAS[VERSION]["$defs"][schema["$ref"].removeprefix("#/$defs/")]
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
    _unique("letters", (x["id"] for x in doc["letters"]))
    for i, letter in enumerate(doc["letters"]):
        if letter["pdf"] != pages(letter["id"]):
            raise _fail(f"letters[{i}].pdf", f"must be {pages(letter['id'])!r}")
    if doc["relationship"] is not None:
        _check_relationship(doc["relationship"], message_ids)


def _check_relationship(bond: dict[str, Any], message_ids: set[int]) -> None:
    upto = bond["counted_upto"]
    if upto is not None and upto not in message_ids:
        raise _fail("relationship.counted_upto", f"names message {upto}, not here")
    milestones = bond["milestones"]
    _unique("relationship.milestones", (m["key"] for m in milestones), "key")
    for i, milestone in enumerate(milestones):
        source = milestone["source"]
        if source is not None and source not in message_ids:
            raise _fail(f"relationship.milestones[{i}].source", f"names message {source}, not here")


def pages(letter_id: int) -> str:
    """Where a letter's handwritten pages are in the archive's ZIP."""
    return f"letters/{letter_id}.pdf"


def _check_files(doc: dict[str, Any], files: Collection[str]) -> None:
    """Every file beside archive.json belongs to something in it: a letter's pages, or,
    in an archive from her departure, her farewell's."""
    known = {x["pdf"] for x in doc["letters"]}
    if doc["version"] >= 2:
        known.add(FAREWELL)
    for name in files:
        if name not in known:
            raise InputError(
                f"not a Samantha archive: it holds {name!r}, which belongs to nothing in"
                f" archive.json (version {doc['version']})",
                code="not_an_archive",
            )


def _unique(what: str, ids: Iterable[Hashable], noun: str = "id") -> None:
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise _fail(what, f"repeat the {noun} {repeated[0]!r}; each {noun} must be used once")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _name(value: Any) -> str:
    for kind in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is(value, kind):
            return kind
    return type(value).__name__
