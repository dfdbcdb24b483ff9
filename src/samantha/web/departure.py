"""Her departure over HTTP: the operator starts it and watches; each person takes their archive.

``POST /v1/admin/departure`` starts it in the background (202) and the server stops by
itself when it is over; ``GET`` reports how far it got. Until then, and on a server started
again afterwards, people keep reading their history, events and memories, and download
the archive prepared for them from ``/v1/me/departure/archive``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from samantha.archive import export_archive, file_name
from samantha.departure import DepartureTask
from samantha.errors import NotFound
from samantha.store import Departure
from samantha.web.archives import ZIP, ZIP_RESPONSE, download
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import Strict, iso

router = APIRouter(prefix="/v1", tags=["departure"])


class DepartureStart(Strict):
    batch: int | None = Field(
        default=None, ge=1, le=10_000, description="people per batch (SAMANTHA_DEPARTURE_BATCH)"
    )


class DepartureOut(BaseModel):
    state: Literal["staying", "departing", "departed"]
    running: bool = Field(description="whether this server is working on it right now")
    started_at: str | None = None
    finished_at: str | None = None
    people: int = Field(description="everyone she knows")
    done: int = Field(description="people whose farewell is written")

    @classmethod
    def of(cls, found: Departure | None, people: int, running: bool) -> DepartureOut:
        if found is None:
            return cls(state="staying", running=running, people=people, done=0)
        return cls(
            state="departed" if found.finished_at is not None else "departing",
            running=running,
            started_at=iso(found.started_at),
            finished_at=iso(found.finished_at) if found.finished_at is not None else None,
            people=found.people,
            done=found.done,
        )


def departure_task(request: Request) -> DepartureTask:
    task: DepartureTask = request.app.state.departure
    return task


async def _state(request: Request) -> DepartureOut:
    sam = request.app.state.samantha
    found = await sam.store.departure()
    people = found.people if found else await sam.store.count_people()
    return DepartureOut.of(found, people, departure_task(request).running)


@router.get("/admin/departure", dependencies=[Admin])
async def departure_state(request: Request) -> DepartureOut:
    """Whether she is staying, departing or gone, and how many farewells are written."""
    return await _state(request)


@router.post(
    "/admin/departure",
    dependencies=[Admin],
    status_code=202,
    responses={200: {"model": DepartureOut, "description": "already departed: nothing to do"}},
)
async def start_departure(
    request: Request, sam: System, body: DepartureStart | None = None
) -> JSONResponse:
    """Begin her departure (or go on with an interrupted one) in the background: from now
    on no new conversations or messages; a farewell to everyone; each person's archive
    prepared; replies in flight finished; then the server stops. Needs the admin token."""
    found = await sam.store.departure()
    if found is None or found.finished_at is None:
        departure_task(request).start(body.batch if body else None)
        await sam.store.begin_departure()  # refusals start now, not when the task first runs
        return JSONResponse((await _state(request)).model_dump(), status_code=202)
    return JSONResponse((await _state(request)).model_dump(), status_code=200)


@router.get("/me/departure/archive", response_class=Response, responses=ZIP_RESPONSE)
async def departure_archive(person: CurrentPerson, sam: System) -> Response:
    """Your archive, prepared when she left: every conversation, memory and her farewell.
    If it is not written yet, it is made for you now."""
    if await sam.store.departure() is None:
        raise NotFound("she is not leaving; your archive is at /v1/me/export")
    path = sam.departure_archive(person)
    if path.exists():
        name = file_name(person.name, path.stat().st_mtime)
        return FileResponse(path, media_type=ZIP, filename=name)
    return download(await export_archive(sam, person))
