"""README.md: the same archive for a person to read, with no program needed.

Conversations are dated transcripts; memories are listed with the words they came from;
the relationship is told as the person sees it, its stage in her words and its milestones.
It is written from archive.json alone (plus her name), so the two always agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from samantha.relationship import STAGE

Document = dict[str, Any]


def day_and_time(text: str) -> str:
    return f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M} UTC"


def quote(text: str) -> str:
    """Their words as a block quote, so no line of theirs can become a heading here."""
    return "\n".join(f"> {line}".rstrip() for line in (text or "(nothing)").splitlines())


def render(doc: Document, companion: str) -> str:
    name = doc["person"]["name"]
    lines = [
        f"# {name} and {companion}",
        "",
        f"Everything {companion} kept about {name}, exported {day_and_time(doc['exported_at'])}"
        f" by Samantha {doc['samantha_version']}.",
        "",
        "- `archive.json` holds all of it for programs (the format is described by"
        " `schema.json`, JSON Schema draft 2020-12); `samantha import` reads it back.",
        "- This page is the same archive to read.",
        "",
        f"{len(doc['conversations'])} conversation(s),"
        f" {sum(len(c['messages']) for c in doc['conversations'])} message(s),"
        f" {len(doc['memories'])} memory record(s), {len(doc['letters'])} letter(s).",
        "",
        "## Conversations",
    ]
    for c in doc["conversations"]:
        lines += _conversation(c, name, companion)
    lines += ["", f"## What {companion} remembers", ""]
    lines += _memories(doc) or ["Nothing yet."]
    lines += ["", "## The two of you", ""]
    lines += _relationship(doc["relationship"], companion)
    lines += ["", "## Letters", ""]
    lines += _letters(doc) or ["None yet.", ""]
    return "\n".join(lines)


def _letters(doc: Document) -> list[str]:
    lines = []
    for x in doc["letters"]:
        changed = ""
        if x["updated_at"] != x["created_at"]:
            changed = f", last changed {day_and_time(x['updated_at'])}"
        lines += [
            f"### To {' '.join(x['to'].split())}",
            "",
            f"Letter {x['id']}, written {day_and_time(x['created_at'])}{changed};"
            f" handwritten pages in `{x['pdf']}`.",
            "",
            quote(x["text"]),
            "",
        ]
    return lines


def _relationship(found: Document | None, companion: str) -> list[str]:
    if found is None:
        return ["Nothing counted yet: you had not written to her."]
    signals = found["signals"]
    lines = [
        f"You and {companion} are {STAGE[found['stage']].label}, since"
        f" {day_and_time(found['stage_since'])}: you talked on {signals['days_talked']} day(s)"
        f" and wrote {signals['messages']} message(s). Closeness {found['closeness']:.2f} and"
        f" trust {found['trust']:.2f}, each from 0 to 1, as she counted them"
        f" {day_and_time(found['counted_at'])}.",
    ]
    if found["milestones"]:
        lines += ["", "What mattered, in her words:", ""]
    for m in found["milestones"]:
        source = f" (message {m['source']})" if m["source"] is not None else ""
        lines.append(f"- {day_and_time(m['at'])}: {' '.join(m['text'].split())}{source}")
    return lines


def _conversation(c: Document, name: str, companion: str) -> list[str]:
    title = c["title"] or f"Conversation {c['id']}"
    lines = ["", f"### {title}", "", f"Started {day_and_time(c['created_at'])}."]
    if c["summary"]:
        lines += ["", f"*Her summary so far:* {c['summary']}"]
    speakers = {"user": name, "assistant": companion}
    for m in c["messages"]:
        notes = [f"message {m['id']}"]
        if m["status"] != "complete":
            notes.append(m["status"])
        if m["forgotten"]:
            notes.append("forgotten: never recalled")
        lines += [
            "",
            f"**{speakers[m['role']]}**, {day_and_time(m['created_at'])} ({', '.join(notes)})",
            "",
            quote(m["content"]),
        ]
    return lines


def _memories(doc: Document) -> list[str]:
    said = {m["id"]: m for c in doc["conversations"] for m in c["messages"]}
    lines = []
    for r in doc["memories"]:
        notes = [r["kind"], f"remembered {day_and_time(r['created_at'])}"]
        if r["happened_on"]:
            until = f" to {r['happened_until']}" if r["happened_until"] else ""
            notes.append(f"happened {r['happened_on']}{until}")
        if r["superseded_by"]:
            notes.append(f"replaced by memory {r['superseded_by']}")
        lines.append(f"- **{r['text']}** (memory {r['id']}: {'; '.join(notes)})")
        for source in r["sources"]:
            words = " ".join(said[source]["content"].split())
            lines.append(f"  - from message {source}: “{words[:300]}”")
    return lines
