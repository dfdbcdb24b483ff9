"""The relationship half of the store interface: each person's bond with her, its
milestones, and the only cross-person figure about it (how many people are in each stage).

Her own inner life is kept here too: it belongs to nobody, and is built only from counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Tallies:
    """What has been counted of a person's own messages so far, up to message ``upto``."""

    upto: int = 0
    days: int = 0  # days they wrote to her
    last_day: str = ""
    messages: int = 0
    words: int = 0
    feelings: int = 0  # messages that told her how they really felt
    thanks: int = 0  # times they said she helped
    hostile: int = 0  # messages said in anger at her
    warm_endings: int = 0  # conversations left with a kind word
    cold_endings: int = 0  # conversations left in anger
    first_at: float | None = None
    last_at: float | None = None
    last_tone: str = ""  # how their newest message would leave things: "warm", "cold", ""


@dataclass(frozen=True)
class Bond:
    """One relationship as it stands: scores in [0, 1], its stage and since when."""

    person_id: int
    stage: str
    stage_since: float
    closeness: float
    trust: float
    shared: int  # memories of their life she keeps
    tallies: Tallies
    updated_at: float


@dataclass(frozen=True)
class Milestone:
    """A moment that mattered, once per ``key`` ("met", "told:sister", "stage:friends")."""

    key: str
    text: str
    at: float
    message_id: int | None = None


@dataclass(frozen=True)
class InnerLife:
    """A version of her inner life and the aggregate counts it was built from."""

    version: int
    created_at: float
    state: dict[str, Any]
    material: dict[str, Any] = field(default_factory=dict)


class RelationshipStore(ABC):
    @abstractmethod
    async def bond(self, person_id: int) -> Bond | None:
        """The person's relationship, or None before it was first counted."""

    @abstractmethod
    async def shared_count(self, person_id: int) -> int:
        """How many current memories of the person's life she keeps."""

    @abstractmethod
    async def keep_bond(self, bond: Bond, milestones: Sequence[Milestone]) -> list[Milestone]:
        """Store the bond and any milestones not reached before, in one transaction;
        return the ones that are new. A deleted person's bond is not written."""

    @abstractmethod
    async def milestones(self, person_id: int) -> list[Milestone]:
        """The person's milestones, oldest first."""

    @abstractmethod
    async def stage_counts(self) -> dict[str, int]:
        """How many people are in each stage: counts, never who."""

    @abstractmethod
    async def theme_counts(
        self, themes: Mapping[str, Sequence[str]], since: float
    ) -> dict[str, tuple[int, int]]:
        """For each theme, (people, messages) among people's own messages since ``since``
        that use any of its words. Counts only: no text leaves the store."""

    @abstractmethod
    async def active_people(self, since: float) -> int:
        """How many people wrote to her since ``since``."""

    @abstractmethod
    async def add_inner_life(self, state: dict[str, Any], material: dict[str, Any]) -> InnerLife:
        """Keep a new version of her inner life."""

    @abstractmethod
    async def inner_life(self, limit: int = 20) -> list[InnerLife]:
        """Her inner life's versions, newest first."""
