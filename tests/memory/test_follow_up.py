"""Which remembered events she asks about, and how: from real memories the rules draw."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from samantha.memory.extract import extract
from samantha.memory.follow_up import question, told_after
from samantha.store import MemoryRecord, Message

MONDAY = datetime(2026, 3, 2, 10, 0).timestamp()  # local time, as people say things


def event(text: str, said_at: float = MONDAY) -> MemoryRecord:
    """The event memory the rules draw from ``text``, as the store would return it."""
    found = [m for m in extract(Message(7, 1, 1, "user", text, "complete", said_at))]
    (memory,) = [m for m in found if m.kind == "event"]
    return MemoryRecord(
        1,
        1,
        "event",
        memory.text,
        memory.subject,
        memory.happened_on,
        memory.happened_until,
        memory.importance,
        memory.origin,
        said_at,
        None,
        (7,),
    )


def day_after(memory: MemoryRecord, days: int = 1) -> date:
    return date.fromisoformat(memory.happened_until or "") + timedelta(days=days)


@pytest.mark.parametrize(
    ("said", "asked"),
    [
        (
            "My interview at the aquarium is on Thursday.",
            "How did your interview at the aquarium go?",
        ),
        ("Oh, I've got an exam on Friday.", "How did your exam go?"),
        ("I have a job interview next Wednesday.", "How did your job interview go?"),
        ("The party is on Saturday!", "How did the party go?"),
        ("Ada's wedding is next Saturday.", "How did Ada's wedding go?"),
        (
            "My sister Ada is visiting next Thursday.",
            "You mentioned your sister Ada was visiting yesterday. How did it go?",
        ),
        (
            "I have a job interview tomorrow at 10.",
            "You mentioned you had a job interview yesterday at 10. How did it go?",
        ),
        (
            "We're flying to Rome next weekend.",
            "You mentioned you were flying to Rome last weekend. How did it go?",
        ),
        (
            "Tomorrow is my first day at the new job!",
            "You mentioned yesterday was your first day at the new job. How did it go?",
        ),
        (
            "I am presenting my thesis in two days, I hope it goes well.",
            "You mentioned you were presenting your thesis yesterday. How did it go?",
        ),
        (
            "I\u2019m seeing my therapist tonight.",  # a typographic apostrophe
            "You mentioned you were seeing your therapist yesterday. How did it go?",
        ),
        (
            "My flight leaves tomorrow.",  # no verb she can move back safely: she quotes
            "On Monday you told me: “My flight leaves tomorrow.” How did it go?",
        ),
    ],
)
def test_a_plan_gets_a_question_in_their_own_words(said: str, asked: str) -> None:
    memory = event(said)
    assert question(memory, MONDAY, day_after(memory)) == asked


def test_the_time_is_said_from_the_day_she_asks() -> None:
    memory = event("My sister Ada is visiting next Thursday.")
    assert question(memory, MONDAY, date(2026, 3, 6)) == (
        "You mentioned your sister Ada was visiting yesterday. How did it go?"
    )
    assert question(memory, MONDAY, date(2026, 3, 8)) == (
        "You mentioned your sister Ada was visiting on Thursday. How did it go?"
    )


@pytest.mark.parametrize(
    "said",
    [
        "Can you remind me about the dentist tomorrow?",  # a question, not a plan
        "I go to yoga every Thursday.",  # a habit
        "The party isn't happening on Friday.",  # called off
        "I'm not going to the gym tomorrow.",
        "We cancelled the trip next weekend.",
        "I had a great run yesterday.",  # a story: it already happened
        "I'm moving to Lisbon next month.",  # a month is too vague to ask about
        "I'm so happy this morning.",  # said on the day itself, and over
    ],
)
def test_not_every_dated_sentence_is_a_plan_to_ask_about(said: str) -> None:
    memory = event(said)
    assert question(memory, MONDAY, day_after(memory)) is None


def test_nothing_is_asked_before_the_day_is_over_or_about_what_the_model_wrote() -> None:
    memory = event("My interview at the aquarium is on Thursday.")
    assert question(memory, MONDAY, date(2026, 3, 5)) is None  # Thursday itself
    assert question(memory, MONDAY, date(2026, 3, 6)) is not None
    written = replace(memory, text="Theo has an interview at the aquarium.", origin="model")
    assert question(written, MONDAY, date(2026, 3, 6)) is None  # third person: not her words


def test_a_story_told_after_the_day_is_told_after() -> None:
    plan = event("My interview at the aquarium is on Thursday.")
    story = event("The interview went great yesterday!", datetime(2026, 3, 6, 7).timestamp())
    assert not told_after(plan, MONDAY)
    assert told_after(story, story.created_at)
