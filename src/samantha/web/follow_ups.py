"""A person's say in what she sends on her own and in her session reminder: their settings,
and every follow-up, sent or still to come, with the memories it comes from."""

from __future__ import annotations

from typing import Literal, Self

from fastapi import APIRouter
from pydantic import (
    BaseModel,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from samantha.config import reminder_minutes, time_of_day
from samantha.proactive import Planned, preferences
from samantha.store import PersonSettings
from samantha.web.deps import CurrentPerson, System
from samantha.web.schemas import MemoryOut, Strict, iso
from samantha.wellbeing import reminder_in_force

router = APIRouter(prefix="/v1/me", tags=["follow-ups"])


class SettingsOut(BaseModel):
    proactive: bool = Field(description="whether she follows up on your plans on her own")
    quiet_start: str = Field(description="quiet hours begin (HH:MM, the server's time)")
    quiet_end: str = Field(description="quiet hours end; equal to quiet_start: none")
    per_day: int = Field(description="the most follow-ups you get in a day (the operator's)")
    window_days: int = Field(description="days after an event in which she still asks")
    session_reminder_min: int = Field(
        description="she mentions how long you have talked after this many minutes; 0: never"
    )
    session_reminder_default: bool = Field(
        description="true: the operator's default; false: your own choice"
    )


class ChangeSettings(Strict):
    proactive: StrictBool | None = None
    quiet_start: StrictStr | None = None
    quiet_end: StrictStr | None = None
    session_reminder_min: StrictInt | None = None

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        return None if value is None else time_of_day(value)

    @field_validator("session_reminder_min")
    @classmethod
    def _minutes(cls, value: int | None) -> int | None:
        return None if value is None else reminder_minutes(value)

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: send proactive, quiet_start, quiet_end or session_reminder_min"
            )
        if None in (getattr(self, name) for name in self.model_fields_set):
            raise ValueError("a setting cannot be null; send the value you want")
        return self


class FollowUpOut(BaseModel):
    state: Literal["sent", "planned", "off"] = Field(
        description="sent, planned (at due_at), or off (your switch is off)"
    )
    text: str = Field(description="what she says, or will say")
    memories: list[MemoryOut] = Field(description="what she remembers that it is about")
    due_at: str | None
    sent_at: str | None
    conversation_id: int | None
    message_id: int | None

    @classmethod
    def of(cls, p: Planned) -> FollowUpOut:
        return cls(
            state=p.state,
            text=p.text,
            memories=[MemoryOut.of(m) for m in p.memories],
            due_at=iso(p.due_at) if p.due_at is not None else None,
            sent_at=iso(p.sent_at) if p.sent_at is not None else None,
            conversation_id=p.conversation_id,
            message_id=p.message_id,
        )


async def _current(sam: System, person_id: int) -> SettingsOut:
    own = await sam.store.person_settings(person_id)
    prefs = preferences(sam.settings, own)
    return SettingsOut(
        proactive=prefs.proactive,
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
        per_day=sam.settings.proactive_per_day,
        window_days=sam.settings.proactive_window_days,
        session_reminder_min=reminder_in_force(sam.settings, own),
        session_reminder_default=own.session_reminder_min is None,
    )


@router.get("/settings")
async def settings(person: CurrentPerson, sam: System) -> SettingsOut:
    """Your settings in force: your own choices, the operator's defaults for the rest."""
    return await _current(sam, person.id)


@router.patch("/settings")
async def change_settings(body: ChangeSettings, person: CurrentPerson, sam: System) -> SettingsOut:
    """Change any of ``proactive``, ``quiet_start``, ``quiet_end``,
    ``session_reminder_min``; the rest stay."""
    changes = PersonSettings(
        body.proactive, body.quiet_start, body.quiet_end, body.session_reminder_min
    )
    await sam.store.change_person_settings(person.id, changes)
    return await _current(sam, person.id)


@router.get("/follow-ups")
async def follow_ups(person: CurrentPerson, sam: System) -> list[FollowUpOut]:
    """Every follow-up she sent you and each she plans, newest first, with its memories."""
    await sam.memory.learn(person.id, person.name)  # include what was said a moment ago
    return [FollowUpOut.of(p) for p in await sam.follow_ups.plan(person.id)]
