"""Times people mention, resolved to calendar dates against when they said them.

"My interview is next Thursday", said on Monday 3 March, becomes Thursday 6 March; "two
weeks ago" becomes a range. Rules, not a model: cheap, exact where the words are, and
silent where they are not. Each mention keeps its words so a memory can show its source.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "a few": 3,
    "several": 3,
}
SEASONS = {
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
    "fall": (9, 11),
    "winter": (12, 2),
}
NAMED_DAYS = {
    "the day before yesterday": -2,
    "the day after tomorrow": 2,
    "yesterday": -1,
    "last night": -1,
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "tomorrow": 1,
}


def _alternatives(words: Iterable[str]) -> str:
    return "(" + "|".join(sorted(words, key=len, reverse=True)) + ")"


_NUM = _alternatives([r"\d{1,3}", *NUMBERS])
_UNIT = r"(day|week|month|year)s?"
_MONTH = _alternatives(MONTHS)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_WEEKDAY = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"


@dataclass(frozen=True)
class TimeMention:
    text: str
    start: date
    end: date

    @property
    def is_day(self) -> bool:
        return self.start == self.end

    def describe(self) -> str:
        if self.is_day:
            return f"{self.start:%A %d %B %Y}"
        return f"{self.start:%d %B %Y} to {self.end:%d %B %Y}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _week_of(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def _relative(unit: str, amount: int, today: date) -> tuple[date, date]:
    if unit == "day":
        target = today + timedelta(days=amount)
        return target, target
    if unit == "week":
        return _week_of(today + timedelta(weeks=amount))
    if unit == "month":
        shifted = _add_months(today, amount)
        return _month_range(shifted.year, shifted.month)
    return date(today.year + amount, 1, 1), date(today.year + amount, 12, 31)


def _absolute(day_text: str, month_text: str, year_text: str | None, today: date) -> date | None:
    month = MONTHS.get(month_text.lower().rstrip("."))
    if month is None:
        return None
    year = int(year_text) if year_text else today.year
    try:
        return date(year, month, int(day_text))
    except ValueError:
        return None


def _season(name: str, shift: int, today: date) -> tuple[date, date]:
    first, last = SEASONS[name]
    year = today.year + shift
    if first > last:  # winter spans the new year
        return date(year - 1, 12, 1), _month_range(year, last)[1]
    return date(year, first, 1), _month_range(year, last)[1]


def _amount(text: str) -> int:
    return int(text) if text.isdigit() else NUMBERS[text]


RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"\b{_DAY} (?:of )?{_MONTH},? ?(\d{{4}})?\b"), "day_month"),
    (re.compile(rf"\b{_MONTH} {_DAY}(?:,? (\d{{4}}))?\b"), "month_day"),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "iso"),
    (re.compile(rf"\b{_alternatives(NAMED_DAYS)}\b"), "named_day"),
    (re.compile(rf"\b(?:in )?{_NUM} {_UNIT} ago\b"), "ago"),
    (re.compile(rf"\bin {_NUM} {_UNIT}\b"), "in"),
    (re.compile(rf"\b(last|next|this|coming) {_WEEKDAY}\b"), "rel_weekday"),
    (re.compile(r"\b(last|next|this) (weekend|week|month|year)\b"), "rel_unit"),
    (re.compile(r"\b(last|next|this) (spring|summer|autumn|fall|winter)\b"), "rel_season"),
    (re.compile(rf"\b(?:in|during|since|last|this|next)? ?{_MONTH} (\d{{4}})\b"), "month_year"),
    (re.compile(r"\b(?:in|since|during) (\d{4})\b"), "year"),
    (re.compile(rf"\b(?:on|by|until|this|every) {_WEEKDAY}\b"), "weekday"),
]


def _resolve(kind: str, groups: tuple[str | None, ...], today: date) -> tuple[date, date] | None:
    g = [x or "" for x in groups]
    if kind == "day_month":
        day = _absolute(g[0], g[1], groups[2], today)
        return (day, day) if day else None
    if kind == "month_day":
        day = _absolute(g[1], g[0], groups[2], today)
        return (day, day) if day else None
    if kind == "iso":
        try:
            day = date(int(g[0]), int(g[1]), int(g[2]))
        except ValueError:
            return None
        return day, day
    if kind == "named_day":
        return _relative("day", NAMED_DAYS[g[0]], today)
    if kind in ("ago", "in"):
        amount = _amount(g[0]) * (-1 if kind == "ago" else 1)
        return _relative(g[1], amount, today)
    if kind == "rel_weekday":
        target = WEEKDAYS[g[1]]
        if g[0] == "last":
            back = (today.weekday() - target) % 7 or 7
            day = today - timedelta(days=back)
        else:
            ahead = (target - today.weekday()) % 7 or 7
            day = today + timedelta(days=ahead)
        return day, day
    if kind == "rel_unit":
        shift = {"last": -1, "next": 1, "this": 0}[g[0]]
        if g[1] == "weekend":
            saturday = _week_of(today + timedelta(weeks=shift))[0] + timedelta(days=5)
            return saturday, saturday + timedelta(days=1)
        return _relative(g[1], shift, today)
    if kind == "rel_season":
        return _season(g[1], {"last": -1, "next": 1, "this": 0}[g[0]], today)
    if kind == "month_year":
        return _month_range(int(g[1]), MONTHS[g[0].rstrip(".")])
    if kind == "year":
        return date(int(g[0]), 1, 1), date(int(g[0]), 12, 31)
    if kind == "weekday":
        ahead = (WEEKDAYS[g[0]] - today.weekday()) % 7
        day = today + timedelta(days=ahead)
        return day, day
    return None


def find_times(text: str, today: date) -> list[TimeMention]:
    """Every time expression in ``text``, resolved against ``today``; overlaps keep the first."""
    lowered = text.lower()
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, TimeMention]] = []
    for pattern, kind in RULES:
        for match in pattern.finditer(lowered):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            resolved = _resolve(kind, match.groups(), today)
            if resolved is None:
                continue
            taken.append(span)
            found.append((span[0], TimeMention(text[span[0] : span[1]].strip(), *resolved)))
    return [mention for _, mention in sorted(found, key=lambda item: item[0])]
