"""People and tokens: the operator creates people; each person sees only themselves."""

from __future__ import annotations

from fastapi import APIRouter

from samantha.auth import add_person
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import NewPerson, PersonCreated, PersonOut

router = APIRouter(prefix="/v1", tags=["people"])


@router.post("/people", status_code=201, dependencies=[Admin])
async def create_person(body: NewPerson, sam: System) -> PersonCreated:
    """Create a person and return their token, once. Needs the admin token."""
    person, token = await add_person(sam.store, body.name)
    return PersonCreated(person=PersonOut.of(person), token=token)


@router.get("/people", dependencies=[Admin])
async def list_people(sam: System) -> list[PersonOut]:
    """Everyone Samantha knows. Needs the admin token."""
    return [PersonOut.of(p) for p in await sam.store.list_people()]


@router.get("/me")
async def me(person: CurrentPerson) -> PersonOut:
    """Who this token belongs to."""
    return PersonOut.of(person)
