"""People and tokens: the operator creates people; each person sees only themselves.

Deleting a person, by the operator or by the person, removes everything kept about them at
once and for good; their tokens stop working.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from samantha.auth import add_person
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import ItemId, NewPerson, PersonCreated, PersonOut

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


@router.delete("/people/{person_id}", status_code=204, dependencies=[Admin])
async def delete_person(sam: System, person_id: ItemId) -> Response:
    """Delete a person and everything kept about them. Needs the admin token."""
    await sam.delete_person(person_id)
    return Response(status_code=204)


@router.get("/me")
async def me(person: CurrentPerson) -> PersonOut:
    """Who this token belongs to."""
    return PersonOut.of(person)


@router.delete("/me", status_code=204)
async def delete_me(person: CurrentPerson, sam: System) -> Response:
    """Delete yourself: your conversations, memories and tokens go at once, for good."""
    await sam.delete_person(person.id)
    return Response(status_code=204)
