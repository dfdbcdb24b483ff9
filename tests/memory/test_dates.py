from datetime import date

import pytest

from samantha.memory.dates import find_times

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    "text,start,end",
    [
        ("My interview is next Thursday", "2026-03-05", "2026-03-05"),
        ("I went to a support group yesterday", "2026-03-01", "2026-03-01"),
        ("we met two weeks ago", "2026-02-16", "2026-02-22"),
        ("I was born on 7 May 1990", "1990-05-07", "1990-05-07"),
        ("in May 2023 I moved", "2023-05-01", "2023-05-31"),
        ("last summer was great", "2025-06-01", "2025-08-31"),
        ("see you in 3 days", "2026-03-05", "2026-03-05"),
        ("June 5th, 2022 was fun", "2022-06-05", "2022-06-05"),
        ("last weekend we hiked", "2026-02-28", "2026-03-01"),
        ("the day after tomorrow", "2026-03-04", "2026-03-04"),
        ("last Friday", "2026-02-27", "2026-02-27"),
        ("next month", "2026-04-01", "2026-04-30"),
        ("last year", "2025-01-01", "2025-12-31"),
    ],
)
def test_resolves_against_the_day_it_was_said(text: str, start: str, end: str) -> None:
    found = find_times(text, MONDAY)
    assert found, text
    assert (found[0].start.isoformat(), found[0].end.isoformat()) == (start, end)


@pytest.mark.parametrize("text", ["I may go", "", "nothing about time here", "on the 45th"])
def test_no_time_no_mention(text: str) -> None:
    assert find_times(text, MONDAY) == []


def test_hostile_and_huge_input_is_fine() -> None:
    text = ("next " * 5000) + "Thursday " + "x" * 100_000
    assert find_times(text, MONDAY)[0].start == date(2026, 3, 5)
