"""The archive schema: one copy of it, understood by the checker, and clear about mistakes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from samantha.archive.checks import KEYWORDS, check
from samantha.archive.schema import SCHEMA, SCHEMAS
from samantha.errors import InputError
from samantha.relationship import STAGES
from samantha.system import Samantha

DOCS = Path(__file__).parents[2] / "docs" / "archive.md"


def example() -> dict[str, Any]:
    """The smallest archive with one of everything (the one in docs/archive.md)."""
    return {
        "format": "samantha-archive",
        "version": 3,
        "exported_at": "2026-03-09T10:00:00+00:00",
        "samantha_version": "0.1.0",
        "person": {"name": "Theo", "created_at": "2026-03-02T19:00:00+00:00"},
        "conversations": [
            {
                "id": 1,
                "title": "",
                "created_at": "2026-03-02T19:00:05+00:00",
                "updated_at": "2026-03-02T19:00:09+00:00",
                "summary": "",
                "summary_upto": None,
                "messages": [
                    {
                        "id": 1,
                        "role": "user",
                        "content": "My sister Ada lives in Porto.",
                        "status": "complete",
                        "created_at": "2026-03-02T19:00:05+00:00",
                        "forgotten": False,
                    },
                    {
                        "id": 2,
                        "role": "assistant",
                        "content": "Porto! Do you visit her often?",
                        "status": "complete",
                        "created_at": "2026-03-02T19:00:09+00:00",
                        "forgotten": False,
                    },
                ],
            }
        ],
        "memories": [
            {
                "id": 1,
                "kind": "relation",
                "text": "Ada is their sister",
                "subject": "relation:sister:ada",
                "happened_on": None,
                "happened_until": None,
                "importance": 0.7,
                "origin": "rule",
                "created_at": "2026-03-02T19:00:06+00:00",
                "superseded_by": None,
                "sources": [1],
            }
        ],
        "relationship": {
            "stage": "met",
            "stage_since": "2026-03-02T19:00:10+00:00",
            "closeness": 0.065,
            "trust": 0.0345,
            "counted_at": "2026-03-02T19:00:10+00:00",
            "counted_upto": 1,
            "last_tone": "neither",
            "signals": {
                "days_talked": 1,
                "messages": 1,
                "words": 6,
                "memories_kept": 1,
                "feelings_shared": 0,
                "times_she_helped": 0,
                "angry_messages": 0,
                "conversations_left_warmly": 0,
                "conversations_left_in_anger": 0,
                "first_message_at": "2026-03-02T19:00:05+00:00",
                "last_message_at": "2026-03-02T19:00:05+00:00",
            },
            "milestones": [
                {
                    "key": "met",
                    "text": "The day we met",
                    "at": "2026-03-02T19:00:05+00:00",
                    "source": 1,
                },
                {
                    "key": "told:sister",
                    "text": "The first time you told me about your sister, Ada",
                    "at": "2026-03-02T19:00:06+00:00",
                    "source": 1,
                },
            ],
        },
        "letters": [
            {
                "id": 1,
                "to": "Ada",
                "notes": "Tell her I miss Porto.",
                "text": "Dear Ada,\n\nI miss Porto, and you in it.\n\nWith love,\nTheo",
                "created_at": "2026-03-05T21:00:00+00:00",
                "updated_at": "2026-03-05T21:04:00+00:00",
                "pdf": "letters/1.pdf",
            }
        ],
    }


def example_v2() -> dict[str, Any]:
    """The same in version 2, made before the relationship was kept: still read."""
    return {**example(), "version": 2, "relationship": None}


def example_v1() -> dict[str, Any]:
    """The same in version 1, made before letters: still read."""
    return {**example_v2(), "version": 1, "letters": []}


def keywords(schema: Any) -> set[str]:
    if isinstance(schema, list):
        return set().union(*(keywords(s) for s in schema))
    if not isinstance(schema, dict):
        return set()
    found = set(schema) - {"properties", "$defs"}
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            found |= set().union(*(keywords(v) for v in value.values()))
        elif key in ("items",):
            found |= keywords(value)
    return found


def test_the_checker_understands_every_keyword_the_schema_uses() -> None:
    assert all(keywords(schema) <= KEYWORDS for schema in SCHEMAS.values())


def test_version_1_archives_are_still_read_and_hold_no_letters() -> None:
    check(example_v1())
    with pytest.raises(InputError, match="letters must have at most 0 item"):
        check({**example_v1(), "letters": example()["letters"]})
    with pytest.raises(InputError, match=r"belongs to nothing in archive\.json"):
        check(example_v1(), ["letters/1.pdf"])
    with pytest.raises(InputError, match="belongs to nothing"):
        check(example_v1(), ["farewell.pdf"])
    check(example(), ["letters/1.pdf", "farewell.pdf"])
    with pytest.raises(InputError, match=r"'letters/2\.pdf', which belongs to nothing"):
        check(example(), ["letters/2.pdf"])


def test_version_2_archives_are_still_read_and_hold_no_relationship() -> None:
    check(example_v2(), ["letters/1.pdf", "farewell.pdf"])
    with pytest.raises(InputError, match="relationship must be null"):
        check({**example_v2(), "relationship": example()["relationship"]})


async def test_the_stages_are_hers_and_the_counts_are_named_as_the_person_sees_them(
    sam: Samantha,
) -> None:
    """A stage renamed or added, or a count renamed, is a new version of the format."""
    relationship = SCHEMA["properties"]["relationship"]["properties"]
    assert relationship["stage"]["enum"] == [s.key for s in STAGES]
    theo = await sam.person_named("Theo", create=True)
    assert theo is not None
    seen = await sam.relationships.view(theo)
    assert list(relationship["signals"]["properties"]) == list(seen["signals"])


def test_the_documented_schema_and_example_are_the_real_ones() -> None:
    text = DOCS.read_text("utf-8")
    assert json.dumps(SCHEMA, indent=2, ensure_ascii=False) in text
    assert json.dumps(example(), indent=2, ensure_ascii=False) in text
    check(example())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for step in parents:
            target = target[int(step)] if step.isdigit() else target[step]
        if value is KeyError:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


@pytest.mark.parametrize(
    "change,message",
    [
        (_set("format", "other-app"), "not a Samantha archive"),
        (_set("version", 4), "version 4 archive; this Samantha reads versions 1, 2, 3"),
        (_set("version", "1"), "version '1' archive"),
        (_set("version", True), "version True archive"),
        (_set("person.name", KeyError), "person.name is missing"),
        (_set("person.name", "n" * 65), "person.name is over 64 characters"),
        (_set("tokens", ["sam_x"]), "tokens is not a field of this format"),
        (_set("conversations.0.messages.0.role", "system"), "role must be one of user, assistant"),
        (_set("conversations.0.messages.1.status", "streaming"), "messages[1].status must be"),
        (_set("conversations.0.messages.0.created_at", "yesterday"), "must be a date and time"),
        (_set("conversations.0.created_at", "2026-03-02T19:00:05"), "with its offset"),
        (_set("conversations.0.messages.0.id", 0), "messages[0].id must be at least 1"),
        (_set("conversations.0.messages.0.id", True), "id must be integer, not boolean"),
        (_set("conversations.0.messages.1.id", 1), "messages repeat the id 1"),
        (_set("conversations.0.messages.0.content", None), "content must be string, not null"),
        (_set("conversations.0.messages.0.forgotten", "no"), "forgotten must be boolean"),
        (_set("conversations.0.messages.0.content", "\ud800"), "not valid Unicode"),
        (_set("conversations.0.summary_upto", 9), "summary_upto is not a message of this"),
        (_set("conversations", {}), "conversations must be array, not object"),
        (_set("memories.0.kind", "secret"), "memories[0].kind must be one of fact"),
        (_set("memories.0.importance", 2), "importance must be at most 1"),
        (_set("memories.0.sources", []), "sources must have at least 1 item"),
        (_set("memories.0.sources", [3]), "sources[0] names message 3, not here"),
        (_set("memories.0.superseded_by", 1), "superseded_by names memory 1, not another"),
        (_set("memories.0.text", ""), "memories[0].text must not be empty"),
        (_set("relationship.stage", "soulmates"), "relationship.stage must be one of met,"),
        (_set("relationship.stage", None), "relationship.stage must be one of"),
        (_set("relationship.closeness", 1.5), "relationship.closeness must be at most 1"),
        (_set("relationship.trust", -0.1), "relationship.trust must be at least 0"),
        (_set("relationship.trust", "high"), "relationship.trust must be number, not string"),
        (_set("relationship.stage_since", "lately"), "relationship.stage_since must be a date"),
        (_set("relationship.counted_upto", 2**64), "counted_upto must be at most"),
        (_set("relationship.counted_upto", 7), "relationship.counted_upto names message 7"),
        (_set("relationship.last_tone", ""), "relationship.last_tone must be one of warm"),
        (_set("relationship.signals.messages", -1), "signals.messages must be at least 0"),
        (_set("relationship.signals.words", 10**30), "signals.words must be at most"),
        (_set("relationship.signals.words", 6.0), "signals.words must be integer, not number"),
        (_set("relationship.signals.days_talked", True), "must be integer, not boolean"),
        (_set("relationship.signals.days_talked", "1"), "must be integer, not string"),
        (_set("relationship.signals.last_message_at", 0), "must be string or null"),
        (_set("relationship.signals.hugs", 3), "signals.hugs is not a field of this format"),
        (_set("relationship.signals", KeyError), "relationship.signals is missing"),
        (_set("relationship.milestones.0.key", ""), "milestones[0].key must not be empty"),
        (_set("relationship.milestones.1.key", "met"), "milestones repeat the key 'met'"),
        (_set("relationship.milestones.0.text", None), "milestones[0].text must be string"),
        (_set("relationship.milestones.1.source", 9), "milestones[1].source names message 9"),
        (_set("relationship.milestones.0.source", 0), "milestones[0].source must be at least 1"),
        (_set("relationship.milestones", {}), "relationship.milestones must be array"),
        (_set("relationship", []), "relationship must be object or null, not array"),
        (_set("letters.0.text", ""), "letters[0].text must not be empty"),
        (_set("letters.0.to", "a" * 101), "letters[0].to is over 100 characters"),
        (_set("letters.0.pdf", "../x.pdf"), "letters[0].pdf must be 'letters/1.pdf'"),
        (_set("letters.0.cc", "Bob"), "letters[0].cc is not a field of this format"),
        (_set("letters.0.updated_at", "soon"), "letters[0].updated_at must be a date"),
        (_set("letters", [{"text": "Dear Ada"}]), "letters[0].id is missing"),
    ],
)
def test_a_malformed_archive_names_the_bad_field(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = copy.deepcopy(example())
    change(doc)
    with pytest.raises(InputError) as refused:
        check(doc)
    assert message in str(refused.value)
    assert refused.value.code in ("invalid_archive", "unsupported_archive")
