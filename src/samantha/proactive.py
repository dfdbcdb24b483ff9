"""Follow-ups: she asks how it went, the day after something that mattered to them.

A pass finds, in one query across everyone, the event memories that ended in the last
``proactive_window_days`` days and were not followed up yet. For each person whose switch
is on and whose quiet hours are not now, it asks about the earliest of those days: one
message per day of events (the same interview mentioned three times gets one question),
at most ``proactive_per_day`` messages a day. A follow-up due in quiet hours waits for the
first pass after they end; one that could not go within the window is not sent at all:
"how did it go?" a fortnight later is not care, it is a reminder.

Delivery is one store transaction (message, event, record); the person's open streams are
woken after it commits, and an offline person finds it on their stream and in the
conversation when they come back. Everything here is visible to the person it concerns:
``plan`` lists what was sent and what is still to come, and when.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Literal

from samantha.config import Settings
from samantha.events import Events
from samantha.memory.follow_up import question, told_after
from samantha.store import (
    EventToFollow,
    FollowUp,
    MemoryRecord,
    Message,
    PersonSettings,
    Store,
)

log = logging.getLogger(__name__)
BUSY_S = 600.0  # a message of theirs this recent may still be waiting for her reply


@dataclass(frozen=True)
class Preferences:
    """A person's follow-up settings in force: their own choices over the operator's."""

    proactive: bool
    quiet_start: str
    quiet_end: str

    def quiet(self, moment: datetime) -> bool:
        """Whether ``moment`` (server local time) falls in the quiet hours; equal start
        and end mean there are none."""
        start, end, now = _clock(self.quiet_start), _clock(self.quiet_end), moment.time()
        if start == end:
            return False
        if start < end:
            return start <= now < end
        return now >= start or now < end

    def free_from(self, moment: datetime) -> datetime:
        """The first moment at or after ``moment`` outside the quiet hours."""
        if not self.quiet(moment):
            return moment
        end = datetime.combine(moment.date(), _clock(self.quiet_end))
        return end if end > moment else end + timedelta(days=1)


def preferences(settings: Settings, own: PersonSettings) -> Preferences:
    return Preferences(
        settings.proactive if own.proactive is None else own.proactive,
        own.quiet_start or settings.quiet_start,
        own.quiet_end or settings.quiet_end,
    )


@dataclass(frozen=True)
class Sent:
    person_id: int
    message: Message
    memory_ids: tuple[int, ...]


@dataclass(frozen=True)
class Planned:
    """A follow-up as the person may see it: sent, or still to come and when."""

    state: Literal["sent", "planned", "off"]  # planned: at due_at; off: their switch is off
    text: str
    memories: tuple[MemoryRecord, ...]
    due_at: float | None = None
    sent_at: float | None = None
    conversation_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class _Group:
    """One person's events that ended on the same day: one follow-up covers them all."""

    ended: date
    events: tuple[EventToFollow, ...]

    def ask(self, on: date) -> tuple[str, list[int]] | None:
        """The question for the day ``on`` (from the first thing they said about that day
        that can be asked about) and every memory it covers; None if there is nothing to
        ask, or they already told her how it went."""
        if any(told_after(e.memory, e.said_at) for e in self.events):
            return None
        asked = [(text, e.memory.id) for e in self.events if (text := _question(e, on))]
        if not asked:
            return None
        return asked[0][0], [memory_id for _, memory_id in asked]


class FollowUps:
    def __init__(self, store: Store, events: Events, settings: Settings) -> None:
        self.store = store
        self.events = events
        self.settings = settings

    async def run(self, *, ignore_quiet: bool = False) -> list[Sent]:
        """One pass: send every follow-up that is due now; return what was sent.

        ``ignore_quiet`` is for an operator who runs a pass by hand and means it now.
        """
        moment = datetime.fromtimestamp(self.store.now())
        today = moment.date()
        first = today - timedelta(days=self.settings.proactive_window_days)
        found = await self.store.due_follow_ups(
            first.isoformat(),
            (today - timedelta(days=1)).isoformat(),
            default_on=self.settings.proactive,
            day_start=_midnight(today),
            per_day=self.settings.proactive_per_day,
        )
        sent: list[Sent] = []
        for person_id, theirs in groupby(found, key=lambda e: e.memory.person_id):
            events = list(theirs)
            prefs = preferences(self.settings, events[0].settings)
            if not prefs.proactive or (prefs.quiet(moment) and not ignore_quiet):
                continue
            sent += await self._send(person_id, _groups(events), moment)
        return sent

    async def _send(self, person_id: int, groups: list[_Group], moment: datetime) -> list[Sent]:
        sent: list[Sent] = []
        for group in groups:
            asked = group.ask(moment.date())
            if asked is None:
                continue
            text, memory_ids = asked
            message = await self.store.send_follow_up(
                person_id,
                memory_ids,
                text,
                day_start=_midnight(moment.date()),
                per_day=self.settings.proactive_per_day,
                busy_after=moment.timestamp() - BUSY_S,
            )
            if message is None:
                continue
            self.events.wake(person_id)
            sent.append(Sent(person_id, message, tuple(memory_ids)))
            log.info("follow-up sent to person %s", person_id)
        return sent

    async def plan(self, person_id: int) -> list[Planned]:
        """What she sent the person and what she means to ask, newest first: the words,
        the memories they come from, and when."""
        moment = datetime.fromtimestamp(self.store.now())
        prefs = preferences(self.settings, await self.store.person_settings(person_id))
        window = timedelta(days=self.settings.proactive_window_days)
        first = (moment.date() - window).isoformat()
        waiting = await self.store.follow_up_candidates(person_id, first)
        done = await self.store.follow_ups(person_id)
        counted = _sent_per_day(done)
        planned: list[Planned] = []
        for group in _groups(waiting):
            due = self._due(group.ended, moment, prefs, counted)
            asked = group.ask(due.date()) if due and due.date() <= group.ended + window else None
            if due is None or asked is None:
                continue
            counted[due.date()] = counted.get(due.date(), 0) + 1
            text, memory_ids = asked
            memories = tuple(e.memory for e in group.events if e.memory.id in memory_ids)
            state: Literal["planned", "off"] = "planned" if prefs.proactive else "off"
            planned.append(Planned(state, text, memories, due_at=due.timestamp()))
        remembered = await self.store.memories_by_id(person_id, [f.memory_id for f in done])
        about = {m.id: m for m in remembered}
        for message_id, items in groupby(done, key=lambda f: f.message_id):
            rows = list(items)
            planned.append(
                Planned(
                    "sent",
                    rows[0].text,
                    tuple(about[r.memory_id] for r in rows if r.memory_id in about),
                    sent_at=rows[0].sent_at,
                    conversation_id=rows[0].conversation_id,
                    message_id=message_id,
                )
            )
        return sorted(planned, key=lambda p: -(p.due_at or p.sent_at or 0.0))

    def _due(
        self, ended: date, moment: datetime, prefs: Preferences, counted: dict[date, int]
    ) -> datetime | None:
        """When a follow-up about a day that ended on ``ended`` will go: the day after at
        the earliest, out of quiet hours, on a day with room under the daily limit."""
        due = max(moment, datetime.combine(ended + timedelta(days=1), time()))
        for _ in range(self.settings.proactive_window_days + 1):
            due = prefs.free_from(due)
            if counted.get(due.date(), 0) < self.settings.proactive_per_day:
                return due
            due = datetime.combine(due.date() + timedelta(days=1), time())
        return None


def _question(event: EventToFollow, on: date) -> str | None:
    return question(event.memory, event.said_at, on)


def _clock(text: str) -> time:
    return time.fromisoformat(text)


def _midnight(day: date) -> float:
    return datetime.combine(day, time()).timestamp()


def _ended(event: EventToFollow) -> date:
    memory = event.memory
    return date.fromisoformat(memory.happened_until or memory.happened_on or "1970-01-01")


def _groups(events: Iterable[EventToFollow]) -> list[_Group]:
    """Events by the day they ended, oldest day first; in each, the first said first."""
    ordered = sorted(events, key=lambda e: (_ended(e), e.said_at, e.memory.id))
    return [_Group(day, tuple(items)) for day, items in groupby(ordered, key=_ended)]


def _sent_per_day(done: Iterable[FollowUp]) -> dict[date, int]:
    """How many follow-up messages went on each day."""
    days: dict[date, set[int]] = {}
    for item in done:
        days.setdefault(datetime.fromtimestamp(item.sent_at).date(), set()).add(item.message_id)
    return {day: len(messages) for day, messages in days.items()}


async def run_every(follow_ups: FollowUps, interval: float) -> None:
    """Run a pass every ``interval`` seconds until cancelled; a failed pass is logged and
    the next one runs as usual."""
    while True:
        try:
            await follow_ups.run()
        except Exception:
            log.exception("a follow-up pass failed; the next one runs in %.0f s", interval)
        await asyncio.sleep(interval)
