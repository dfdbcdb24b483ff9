"""The relationship in archive.json, and back: her bond with the person, and its milestones.

Its counts carry the names the person sees at ``GET /v1/me/relationship``. Messages are
named by the archive's ids: ``counted_upto`` is the last message counted, so after an
import counting goes on where it stopped and no message is counted twice. The day of that
last message is not written: it is worked out again from ``last_message_at`` on import, in
the receiving server's time zone, as the next message's day will be.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from samantha.archive.schema import checked_time, iso
from samantha.store.relationship import Bond, Milestone, Tallies

Document = dict[str, Any]
NEITHER = "neither"  # a last message that would leave things neither warm nor cold


def to_relationship(
    bond: Bond | None, milestones: Sequence[Milestone], messages: Mapping[int, int]
) -> Document | None:
    """The bond as archive.json holds it (None: never counted); ``messages`` gives the
    archive's id of each of the server's messages."""
    if bond is None:
        return None
    t = bond.tallies
    counted = [new for old, new in messages.items() if old <= t.upto]
    return {
        "stage": bond.stage,
        "stage_since": iso(bond.stage_since),
        "closeness": bond.closeness,
        "trust": bond.trust,
        "counted_at": iso(bond.updated_at),
        "counted_upto": max(counted, default=None),
        "last_tone": t.last_tone or NEITHER,
        "signals": {
            "days_talked": t.days,
            "messages": t.messages,
            "words": t.words,
            "memories_kept": bond.shared,
            "feelings_shared": t.feelings,
            "times_she_helped": t.thanks,
            "angry_messages": t.hostile,
            "conversations_left_warmly": t.warm_endings,
            "conversations_left_in_anger": t.cold_endings,
            "first_message_at": _iso(t.first_at),
            "last_message_at": _iso(t.last_at),
        },
        "milestones": [
            {
                "key": m.key,
                "text": m.text,
                "at": iso(m.at),
                "source": messages.get(m.message_id) if m.message_id is not None else None,
            }
            for m in milestones
        ],
    }


def from_relationship(found: Document | None) -> tuple[Bond | None, tuple[Milestone, ...]]:
    """A checked relationship as the store's records, its message ids still the archive's
    (the store makes them its own as it writes them)."""
    if found is None:
        return None, ()
    s = found["signals"]
    last_at = _time(s["last_message_at"])
    tallies = Tallies(
        upto=found["counted_upto"] or 0,
        days=s["days_talked"],
        last_day=date.fromtimestamp(last_at).isoformat() if last_at is not None else "",
        messages=s["messages"],
        words=s["words"],
        feelings=s["feelings_shared"],
        thanks=s["times_she_helped"],
        hostile=s["angry_messages"],
        warm_endings=s["conversations_left_warmly"],
        cold_endings=s["conversations_left_in_anger"],
        first_at=_time(s["first_message_at"]),
        last_at=last_at,
        last_tone="" if found["last_tone"] == NEITHER else found["last_tone"],
    )
    bond = Bond(
        0,
        found["stage"],
        checked_time(found["stage_since"]),
        float(found["closeness"]),
        float(found["trust"]),
        s["memories_kept"],
        tallies,
        checked_time(found["counted_at"]),
    )
    milestones = tuple(
        Milestone(m["key"], m["text"], checked_time(m["at"]), m["source"])
        for m in found["milestones"]
    )
    return bond, milestones


def _iso(ts: float | None) -> str | None:
    return iso(ts) if ts is not None else None


def _time(text: str | None) -> float | None:
    return checked_time(text) if text is not None else None
