"""Farewells: true to what the store holds, varied by it, warm, and never a hook."""

from __future__ import annotations

from datetime import datetime

from samantha.departure.farewell import compose, material
from samantha.store import Acquaintance, MemoryKind, MemoryRecord

NOW = datetime(2026, 6, 1, 12).timestamp()
ARCHIVE = "/v1/me/departure/archive"
HOOKS = ("miss me", "don't leave", "come back", "forget me", "without me", "need me")


def memory(
    n: int, kind: MemoryKind, text: str, *, subject: str = "", origin: str = "rule"
) -> MemoryRecord:
    return MemoryRecord(n, 1, kind, text, subject, None, None, 0.5, origin, NOW, None, (n,))


def letter(known: Acquaintance, memories: list[MemoryRecord], name: str = "Theo") -> str:
    return compose(material(name, 7, NOW, known, memories), "Samantha", ARCHIVE)


def test_someone_who_never_wrote_gets_a_short_honest_note() -> None:
    text = letter(Acquaintance(None, 0, 0), [])
    assert text.startswith("Dear Theo,") and "never really got to talk" in text
    assert "Everything we said" not in text and "told me" not in text
    assert ARCHIVE in text and text.endswith("Goodbye, Theo.\nSamantha")


def test_a_long_friendship_is_told_from_its_own_records() -> None:
    since = datetime(2025, 3, 3, 9).timestamp()
    memories = [
        memory(1, "relation", "Ada is their sister", subject="relation:sister:ada"),
        memory(2, "relation", "Max is their ex", subject="relation:ex:max"),
        memory(3, "relation", "Biscuit is their dog", subject="relation:dog:biscuit"),
        memory(4, "fact", "I work as a nurse."),
        memory(5, "preference", "I love the sound of rain on the roof."),
        memory(6, "preference", "Theo adores jazz", origin="model"),  # her paraphrase
        memory(7, "reflection", "Theo seems lonely lately", origin="reflection"),
    ]
    text = letter(Acquaintance(since, 41, 300), memories)
    assert "on 3 March 2025" in text and "41 conversations" in text
    assert "\u201cI love the sound of rain on the roof.\u201d" in text
    assert "Ada, your sister, and Biscuit, your dog" in text
    assert "Max" not in text and "jazz" not in text and "lonely" not in text
    assert "nurse" not in text  # one thing they shared, not a list
    assert not any(hook in text.lower() for hook in HOOKS)


def test_recent_people_and_event_dates_read_right() -> None:
    today = Acquaintance(NOW - 60, 1, 2)
    event = memory(1, "event", "My interview is next Thursday (Thursday 4 June 2026)")
    text = letter(today, [event])
    assert "We first talked today." in text
    assert "\u201cMy interview is next Thursday\u201d" in text  # their words, not her note
    week = letter(Acquaintance(NOW - 5 * 86400, 3, 9), [])
    assert "5 days ago" in week and "3 conversations" in week


def test_each_person_gets_their_own_words_and_phrasings_vary() -> None:
    known = Acquaintance(NOW - 86400 * 30, 4, 20)
    texts = {
        compose(material(f"P{i}", i, NOW, known, []), "Samantha", ARCHIVE).replace(f"P{i}", "")
        for i in range(20)
    }
    assert len(texts) > 1  # not one form letter for everyone
    assert texts == {
        compose(material(f"P{i}", i, NOW, known, []), "Samantha", ARCHIVE).replace(f"P{i}", "")
        for i in range(20)
    }  # and the same for the same person every time
