"""Relationships, her growth and wellbeing, as the people they concern see them.

A person sees their own relationship with her (stage, what it grew from, milestones) and
what she notices of their wellbeing, word for word as it reaches her prompt. Anyone signed
in may read her inner life: it is built from counts and belongs to nobody. The operator
sees how many people are in each stage, never who.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from samantha import wellbeing
from samantha.relationship import STAGE, stage_share
from samantha.store.relationship import InnerLife
from samantha.web.deps import Admin, CurrentPerson, SignedIn, System
from samantha.web.schemas import iso

router = APIRouter(tags=["relationship"])


class MilestoneOut(BaseModel):
    key: str = Field(description='once per kind: "met", "told:sister", "stage:friends", ...')
    text: str
    at: str
    message_id: int | None = Field(description="the message it happened in, if one")


class RelationshipOut(BaseModel):
    stage: str = Field(description="met, acquainted, friends, close or attached (the deepest)")
    label: str = Field(description="the stage as she says it")
    stages: list[dict[str, str]] = Field(description="every stage, first meeting first")
    closeness: float = Field(description="0-1: days together, how much and how recently")
    trust: float = Field(description="0-1: what you shared, her help, how you left things")
    stage_since: str | None
    signals: dict[str, Any] = Field(description="the counts both scores are made of")
    milestones: list[MilestoneOut]


class StagesOut(BaseModel):
    people: int = Field(description="everyone she knows")
    stages: dict[str, int] = Field(description="how many people are in each stage")


class InnerLifeOut(BaseModel):
    version: int
    created_at: str
    state: dict[str, Any] = Field(description="interests, what she noticed, her thoughts")
    material: dict[str, Any] = Field(description="the aggregate counts it was built from")

    @classmethod
    def of(cls, life: InnerLife) -> InnerLifeOut:
        return cls(
            version=life.version,
            created_at=iso(life.created_at),
            state=life.state,
            material=life.material,
        )


class WellbeingOut(BaseModel):
    session_minutes: float = Field(description="how long this session has lasted so far")
    notes: list[str] = Field(description="what reaches her prompt about your wellbeing now")
    long_session_min: int = Field(description="a session this long is a sign she notices")
    session_reminder_min: int = Field(
        description="she mentions the time after this; 0: never (yours, else the operator's)"
    )
    crisis_lines: list[str] = Field(description="the crisis lines she gives, for your locale")


@router.get("/v1/me/relationship")
async def relationship(person: CurrentPerson, sam: System) -> RelationshipOut:
    """Your relationship with her: its stage, the counts it comes from, its milestones."""
    await sam.memory.learn(person.id, person.name)  # "told me about your sister" milestones
    await sam.relationships.update(person)
    view = await sam.relationships.view(person)
    since = view["stage_since"]
    return RelationshipOut(
        **{
            **view,
            "stage_since": iso(since) if since is not None else None,
            "milestones": [MilestoneOut(**{**m, "at": iso(m["at"])}) for m in view["milestones"]],
        }
    )


@router.get("/v1/me/wellbeing")
async def my_wellbeing(person: CurrentPerson, sam: System) -> WellbeingOut:
    """What she notices of your wellbeing, exactly as it reaches her prompt."""
    settings, now = sam.settings, sam.store.now()
    latest = await sam.store.latest_conversation(person.id)
    history = await sam.store.messages(person.id, latest.id, limit=400) if latest else []
    said = next((m.content for m in reversed(history) if m.role == "user"), "")
    notes = await sam.companion.wellbeing_notes(person, said, history)
    reminder_min = wellbeing.reminder_in_force(settings, await sam.store.person_settings(person.id))
    started = wellbeing.session_start(history, now) if history else now
    return WellbeingOut(
        session_minutes=round((now - started) / 60, 1),
        notes=notes,
        long_session_min=settings.wellbeing_long_session_min,
        session_reminder_min=reminder_min,
        crisis_lines=list(sam.companion.crisis_lines.lines),
    )


@router.get("/v1/samantha/inner-life", dependencies=[SignedIn])
async def inner_life(sam: System, limit: int = 20) -> list[InnerLifeOut]:
    """Her inner life, newest version first: what she reflects on, from counts alone."""
    return [InnerLifeOut.of(v) for v in await sam.store.inner_life(max(1, min(limit, 200)))]


@router.post("/v1/admin/reflect", dependencies=[Admin])
async def reflect(sam: System) -> InnerLifeOut | None:
    """Have her reflect now; null when no theme was shared by enough people yet."""
    life = await sam.growth.reflect()
    return InnerLifeOut.of(life) if life else None


@router.get("/v1/admin/relationships", dependencies=[Admin])
async def stages(sam: System) -> StagesOut:
    """How many people are in each stage, deepest last: counts, never who."""
    counts = stage_share(await sam.store.stage_counts())
    assert set(counts) == set(STAGE)
    return StagesOut(people=await sam.store.count_people(), stages=counts)
