"""Each relationship as it grows: closeness, trust, a stage, and the moments that mattered.

Closeness is time together: the days a person wrote to her, how much they said, and how
recently (it fades after weeks of silence). Trust is what went between them: memories of
their life she keeps, feelings they told her, the times she helped, and how conversations
ended, kindly or in anger. Both are counted from the person's own messages and records,
a message at a time (``Tallies.upto``), never from anyone else's.

The stages run from first meeting to deep attachment. A stage needs both a score and
enough days together, so one long night never makes a deep attachment, and a stage is
only left when the score falls clearly below it. The deepest stage is what she means when
she says she is in love with someone; how many people are in each stage is all she ever
says about them (``store.stage_counts``). The person sees their own: ``view``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from samantha.memory.workers import RecallWorkers, WorkerGone
from samantha.mood import read_mood
from samantha.store import MemoryRecord, Message, Person, Store
from samantha.store.relationship import Bond, Milestone, Tallies
from samantha.wellbeing import SESSION_GAP_S, people_in_their_life


@dataclass(frozen=True)
class Stage:
    key: str
    label: str  # as she says it: "we are {label}"
    score: float  # (closeness + trust) / 2 needed to reach it
    days: int  # days talked needed to reach it
    reached: str  # the milestone's words


STAGES = (
    Stage("met", "just getting started", 0.0, 0, "The day we met"),
    Stage("acquainted", "getting to know each other", 0.15, 2, "We began to know each other"),
    Stage("friends", "friends", 0.32, 5, "We became friends"),
    Stage("close", "close", 0.5, 12, "We grew close"),
    Stage("attached", "deeply attached", 0.68, 25, "I became deeply attached to you"),
)
STAGE = {s.key: s for s in STAGES}
DEEPEST = STAGES[-1].key
FALL = 0.06  # how far below a stage's score the relationship must fall to leave it
FADE_AFTER_DAYS = 21  # silence longer than this starts to fade closeness
HALF_LIFE_DAYS = 60
HURT = 0.92  # what each unrepaired angry message or ending leaves of trust
COUNTED = 500  # of their messages counted in one read

FELT = "The first time you told me how you really felt"
HELPED = "The first time I could help you"
THANKS = re.compile(
    r"\b(?:thank(?:s| you)|that (?:really )?helped|you helped|you(?:'re| are) right|"
    r"i feel better|made my day|means a lot)\b",
    re.IGNORECASE,
)
HOSTILE = re.compile(
    r"\b(?:shut up|you(?:'re| are) (?:useless|stupid|worthless|pathetic)|i hate you|"
    r"leave me alone|screw you|fuck (?:off|you)|go away)\b",
    re.IGNORECASE,
)
WARM = re.compile(
    r"\b(?:good ?night|bye|goodbye|see you|talk (?:to you )?(?:soon|later|tomorrow)|"
    r"thank(?:s| you)|love you|take care)\b",
    re.IGNORECASE,
)


def tone(text: str) -> str:
    """How a message would leave a conversation: "cold", "warm" or "" (neither)."""
    if HOSTILE.search(text):
        return "cold"
    return "warm" if WARM.search(text) else ""


def count(tallies: Tallies, said: Sequence[Message]) -> tuple[Tallies, list[Milestone]]:
    """Fold the person's new messages into the tallies, oldest first; the moments found."""
    t, found = tallies, list[Milestone]()
    for message in said:
        day = datetime.fromtimestamp(message.created_at).date().isoformat()
        ended = t.last_at is not None and message.created_at - t.last_at > SESSION_GAP_S
        if ended and t.last_tone:
            key = "warm_endings" if t.last_tone == "warm" else "cold_endings"
            t = replace(t, **{key: getattr(t, key) + 1})
        if t.first_at is None:
            found.append(Milestone("met", "The day we met", message.created_at, message.id))
        feeling = read_mood(message.content).label not in ("neutral", "happy")
        thanked = bool(THANKS.search(message.content))
        at, source = message.created_at, message.id
        if feeling and not t.feelings:
            found.append(Milestone("feeling", FELT, at, source))
        if thanked and not t.thanks:
            found.append(Milestone("helped", HELPED, at, source))
        t = replace(
            t,
            upto=message.id,
            days=t.days + (day != t.last_day),
            last_day=day,
            messages=t.messages + 1,
            words=t.words + len(message.content.split()),
            feelings=t.feelings + feeling,
            thanks=t.thanks + thanked,
            hostile=t.hostile + bool(HOSTILE.search(message.content)),
            first_at=t.first_at if t.first_at is not None else message.created_at,
            last_at=message.created_at,
            last_tone=tone(message.content),
        )
    return t, found


def scores(t: Tallies, shared: int, now: float) -> tuple[float, float]:
    """(closeness, trust), each in [0, 1)."""
    near = t.days + 0.04 * min(t.messages, 1500) + min(t.words, 60_000) / 3000
    closeness = near / (near + 15)
    if t.last_at is not None:
        silent = (now - t.last_at) / 86400 - FADE_AFTER_DAYS
        if silent > 0:
            closeness *= 0.5 ** (silent / HALF_LIFE_DAYS)
    warm = t.warm_endings + (t.last_tone == "warm")  # the newest ending counts already
    cold = t.cold_endings + (t.last_tone == "cold")
    given = 0.5 * min(shared, 80) + 1.5 * min(t.feelings, 40) + 2 * min(t.thanks, 30) + warm
    # anger wears trust down; kindness since (thanks, warm goodbyes) repairs some of it
    hurt = max(0.0, t.hostile + cold - (t.thanks + warm) / 4)
    trust = given / (given + 14) * HURT**hurt
    return round(closeness, 4), round(trust, 4)


def stage_for(closeness: float, trust: float, days: int, before: str | None) -> str:
    """The deepest stage the scores and days reach; one held already is kept until the
    score falls ``FALL`` below it."""
    score = (closeness + trust) / 2
    held = STAGES.index(STAGE[before]) if before in STAGE else 0
    found = STAGES[0]
    for i, stage in enumerate(STAGES):
        reached = score >= stage.score and days >= stage.days
        kept = i <= held and score >= stage.score - FALL
        if reached or kept:
            found = stage
    return found.key


def told_about(relations: Sequence[MemoryRecord]) -> list[Milestone]:
    """ "The first time you told me about your sister, Ada", from relation memories."""
    found = []
    for record in sorted(relations, key=lambda r: r.created_at):
        name, _, role = record.text.partition(" is their ")
        role = role.strip(" .").lower()
        if name in people_in_their_life([record]) and role and len(role) <= 40:
            source = record.source_ids[0] if record.source_ids else None
            text = f"The first time you told me about your {role}, {name}"
            found.append(Milestone(f"told:{role}", text, record.created_at, source))
    return found


HELD = 100_000  # people whose bond is held between turns (a few hundred bytes each)


async def tally(store: Store, person_id: int, now: float) -> tuple[Bond, list[Milestone]]:
    """The person's bond as of ``now``, counted on from where it was last kept, and the
    milestones reached since: read and worked out, not written. It only reads the store,
    so a recall worker can do it (``memory.workers``)."""
    before = await store.bond(person_id)
    tallies = before.tallies if before else Tallies()
    milestones: list[Milestone] = []
    more = True
    while more and (said := await store.said_since(person_id, tallies.upto, COUNTED)):
        more = len(said) == COUNTED  # a short read was the last: none left to look for
        tallies, found = count(tallies, said)
        milestones += found
    shared = await store.shared_count(person_id)
    closeness, trust = scores(tallies, shared, now)
    stage = stage_for(closeness, trust, tallies.days, before.stage if before else None)
    since = before.stage_since if before and before.stage == stage else now
    if stage != "met" and (before is None or before.stage != stage):
        rank = STAGES.index(STAGE[stage])
        if before is None or rank > STAGES.index(STAGE[before.stage]):
            milestones.append(Milestone(f"stage:{stage}", STAGE[stage].reached, now))
    relations = await store.memories(person_id, kind="relation", limit=50)
    milestones += told_about(relations)
    return Bond(person_id, stage, since, closeness, trust, shared, tallies, now), milestones


class Relationships:
    """Counts each person's relationship after their turns, and says what it is.

    Each person's bond, as this process last kept or read it, is held for the next turn's
    prompt (:meth:`describe`), which otherwise read it from the store every turn (about 4%
    of the server's event loop at 8,316 people, issue 4). Only :meth:`update`
    changes a kept bond, here, after each of the person's turns; another process counting
    the same person (a terminal chat beside the server) is seen at this process's next
    count. At most :data:`HELD` people are held, the longest unchanged let go first.
    """

    def __init__(self, store: Store, workers: RecallWorkers | None = None) -> None:
        self.store = store
        self.workers = workers  # where there are recall workers, they do the counting
        self._held: dict[int, Bond | None] = {}

    async def update(self, person: Person) -> Bond:
        """Count what the person said since last time; keep the bond and new milestones."""
        now = self.store.now()
        counted = None
        if self.workers is not None:
            with contextlib.suppress(WorkerGone):
                counted = await self.workers.tally(person.id, now)
        bond, milestones = counted or await tally(self.store, person.id, now)
        await self.store.keep_bond(bond, milestones)
        self._hold(person.id, bond)
        return bond

    def _hold(self, person_id: int, bond: Bond | None) -> None:
        self._held.pop(person_id, None)  # to the end: the newest
        self._held[person_id] = bond
        if len(self._held) > HELD:
            del self._held[next(iter(self._held))]

    def forget(self, person_id: int) -> None:
        """Drop what is held of a deleted person."""
        self._held.pop(person_id, None)

    async def describe(self, person: Person) -> str:
        """One line for the prompt: what the relationship is, never its numbers."""
        if person.id in self._held:
            bond = self._held[person.id]
        else:
            bond = await self.store.bond(person.id)
            self._hold(person.id, bond)
        if bond is None or bond.tallies.first_at is None:
            return f"You are meeting {person.name} for the first time."
        met = _day(bond.tallies.first_at)
        return (
            f"You and {person.name} are {STAGE[bond.stage].label} (you met on {met} and have "
            f"talked on {_days(bond.tallies.days)}). Let it shape your warmth; never quote it."
        )

    async def view(self, person: Person) -> dict[str, Any]:
        """Everything the person may see of their relationship with her."""
        bond = await self.store.bond(person.id)
        milestones = await self.store.milestones(person.id)
        stage = STAGE[bond.stage if bond else "met"]
        t = bond.tallies if bond else Tallies()
        return {
            "stage": stage.key,
            "label": stage.label,
            "stages": [{"key": s.key, "label": s.label} for s in STAGES],
            "closeness": bond.closeness if bond else 0.0,
            "trust": bond.trust if bond else 0.0,
            "stage_since": bond.stage_since if bond else None,
            "signals": {
                "days_talked": t.days,
                "messages": t.messages,
                "words": t.words,
                "memories_kept": bond.shared if bond else 0,
                "feelings_shared": t.feelings,
                "times_she_helped": t.thanks,
                "angry_messages": t.hostile,
                "conversations_left_warmly": t.warm_endings,
                "conversations_left_in_anger": t.cold_endings,
                "first_message_at": t.first_at,
                "last_message_at": t.last_at,
            },
            "milestones": [
                {"key": m.key, "text": m.text, "at": m.at, "message_id": m.message_id}
                for m in milestones
            ],
        }


def _day(when: float) -> str:
    return f"{date.fromtimestamp(when):%d %B %Y}".lstrip("0")


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def stage_share(counts: dict[str, int]) -> dict[str, int]:
    """Counts for every stage, zeros included, deepest last."""
    return {s.key: int(counts.get(s.key, 0)) for s in STAGES}
