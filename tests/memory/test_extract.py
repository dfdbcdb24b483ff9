from __future__ import annotations

from datetime import datetime

from samantha.memory.extract import extract, search_text
from samantha.store import Message


def said(text: str, when: str = "2026-03-02 10:00") -> Message:
    ts = datetime.fromisoformat(when).timestamp()
    return Message(7, 1, 1, "user", text, "complete", ts)


def test_events_get_resolved_dates_and_keep_the_sentence() -> None:
    found = extract(said("My interview is next Thursday. Wish me luck!"))
    events = [m for m in found if m.kind == "event"]
    assert events[0].happened_on == "2026-03-05"
    assert "My interview is next Thursday" in events[0].text
    assert events[0].source_ids == (7,)


def test_people_in_their_life() -> None:
    found = extract(said("My sister Ada is visiting, and Tom is my best friend."))
    relations = {m.text for m in found if m.kind == "relation"}
    assert relations == {"Ada is their sister", "Tom is their best friend"}


def test_likes_and_facts_with_subjects_for_supersession() -> None:
    found = extract(said("I live in Paris. I really love jazz piano."))
    kinds = {(m.kind, m.subject) for m in found}
    assert ("fact", "fact:home") in kinds
    assert ("preference", "likes:jazz piano") in kinds


def test_nothing_found_in_small_talk_or_junk() -> None:
    assert extract(said("hmm ok")) == []
    assert extract(said("I'm a bit anxious about the visit, to be honest.")) == []
    roles = [m.subject for m in extract(said("I'm a nurse at the city hospital."))]
    assert roles == ["fact:role"]
    assert extract(said("\x00" * 10 + "💥" * 1000)) == []


def test_search_text_carries_speaker_and_dates() -> None:
    text = search_text(said("I went to the lake yesterday"), "Theo")
    assert text.startswith("Theo:") and "Sunday 01 March 2026" in text
