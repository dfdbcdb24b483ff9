"""Archives over HTTP: a person downloads their own; the operator exports and imports anyone.

An archive is a ZIP (see ``docs/archive.md``). A person's token reaches only ``/me/export``:
no route takes another person's id with a person's token.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from samantha.archive import Exported, export_archive, file_name, import_archive, read_archive
from samantha.errors import NotFound
from samantha.web.deps import Admin, CurrentPerson, System
from samantha.web.schemas import ImportedOut, ItemId

router = APIRouter(prefix="/v1", tags=["export"])
IMPORT_PATH = "/v1/people/import"  # its body limit is SAMANTHA_MAX_IMPORT_BYTES
ZIP = "application/zip"
ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ZIP: {"schema": {"type": "string", "format": "binary"}}}}
}
ZIP_BODY = {
    "requestBody": {
        "required": True,
        "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def download(exported: Exported) -> Response:
    name = file_name(exported.person.name, exported.made_at)
    return Response(
        exported.archive,
        media_type=ZIP,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/me/export", response_class=Response, responses=ZIP_RESPONSE)
async def export_mine(person: CurrentPerson, sam: System) -> Response:
    """Everything Samantha keeps about you, as one archive to keep or take elsewhere."""
    return download(await export_archive(sam, person))


@router.get(
    "/people/{person_id}/export",
    dependencies=[Admin],
    response_class=Response,
    responses=ZIP_RESPONSE,
)
async def export_person(sam: System, person_id: ItemId) -> Response:
    """A person's archive. Needs the admin token."""
    person = await sam.store.person_by_id(person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found")
    return download(await export_archive(sam, person))


@router.post(
    IMPORT_PATH.removeprefix("/v1"), status_code=201, dependencies=[Admin], openapi_extra=ZIP_BODY
)
async def import_person(
    request: Request,
    sam: System,
    name: str | None = Query(None, alias="as", description="import under this name instead"),
) -> ImportedOut:
    """A person from an archive (the ZIP is the body), with a new token, shown once.

    Checked whole before anything is written; a name already taken is refused (409)
    unless ``as`` gives another. Needs the admin token.
    """
    body = await request.body()
    data = await asyncio.to_thread(read_archive, body, sam.settings.max_import_bytes)
    return ImportedOut.of(await import_archive(sam, data, name))
