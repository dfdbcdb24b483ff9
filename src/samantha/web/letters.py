"""A person's letters over HTTP: write one from notes, read, change, redraft, delete, and
download each as handwritten pages or all of them as a book.

Everything is under ``/v1/me/letters`` and reaches only the token holder's own letters:
another person's letter id answers 404, exactly as an id never given.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from samantha.errors import ModelError, ModelUnavailable
from samantha.files import safe_name
from samantha.store import Letter
from samantha.web.deps import CurrentPerson, System
from samantha.web.errors import error_response
from samantha.web.schemas import BeforeId, ItemId, Strict, iso

router = APIRouter(prefix="/v1/me/letters", tags=["letters"])
PDF = "application/pdf"
TEXT = "text/plain; charset=utf-8"
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}
}


class NewLetter(Strict):
    to: str = Field(description="whom the letter is to", examples=["Ada"])
    notes: str = Field(description="what you want to say; she drafts it in your voice")


class ChangeLetter(Strict):
    text: str | None = Field(default=None, description="the letter's words, as you want them")
    to: str | None = Field(default=None, description="whom it is to")


class Redraft(Strict):
    note: str = Field(description="what to change, e.g. 'shorter, and mention the tram'")


class LetterOut(BaseModel):
    id: int
    to: str
    notes: str = Field(description="what you asked for, each redraft's note after it")
    text: str
    created_at: str
    updated_at: str
    pdf: str = Field(description="where its handwritten pages are")

    @classmethod
    def of(cls, x: Letter) -> LetterOut:
        return cls(
            id=x.id,
            to=x.recipient,
            notes=x.notes,
            text=x.text,
            created_at=iso(x.created_at),
            updated_at=iso(x.updated_at),
            pdf=f"{router.prefix}/{x.id}?format=pdf",
        )


def attachment(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def letter_file(x: Letter, suffix: str) -> str:
    day = datetime.fromtimestamp(x.created_at).date().isoformat()
    return f"letter-{x.id}-to-{safe_name(x.recipient)}-{day}.{suffix}"


async def drafted(work: Awaitable[Letter]) -> Any:
    """The letter a draft made, or the model's failure said as what it is: nothing kept."""
    try:
        return LetterOut.of(await work)
    except ModelUnavailable:
        raise  # 503 with Retry-After, as for replies
    except ModelError as exc:
        return error_response(502, exc.code, f"{exc}; nothing was kept, try again")


@router.post("", status_code=201, response_model=LetterOut)
async def write(body: NewLetter, person: CurrentPerson, sam: System) -> Any:
    """Draft a letter from your notes, in your voice, from what you told her; kept at once."""
    return await drafted(sam.letters.write(person, body.to, body.notes))


@router.get("")
async def list_letters(
    person: CurrentPerson,
    sam: System,
    before: BeforeId = None,
    limit: int = Query(100, ge=1, le=500),
) -> list[LetterOut]:
    """Your letters, newest first; page back with ``before``."""
    found = await sam.store.letters(person.id, limit=limit, before_id=before)
    return [LetterOut.of(x) for x in found]


@router.get("/book.pdf", response_class=Response, responses=PDF_RESPONSE)
async def book(person: CurrentPerson, sam: System) -> Response:
    """All your letters, oldest first, bound as one book (PDF)."""
    name = f"letters-{safe_name(person.name)}.pdf"
    return attachment(await sam.letters.book(person), PDF, name)


@router.get(
    "/{letter_id}",
    response_model=LetterOut,
    responses={200: {"content": {PDF: {}, TEXT: {}}}},
)
async def show(
    letter_id: ItemId,
    person: CurrentPerson,
    sam: System,
    format: Literal["json", "pdf", "txt"] = "json",
) -> Any:
    """One letter: as JSON, as handwritten pages (``?format=pdf``) or as text (``txt``)."""
    letter = await sam.store.letter(person.id, letter_id)
    if format == "pdf":
        return attachment(await sam.letters.pdf(person, letter_id), PDF, letter_file(letter, "pdf"))
    if format == "txt":
        return attachment((letter.text + "\n").encode(), TEXT, letter_file(letter, "txt"))
    return LetterOut.of(letter)


@router.patch("/{letter_id}")
async def change(
    letter_id: ItemId, body: ChangeLetter, person: CurrentPerson, sam: System
) -> LetterOut:
    """Keep your own words for it (and whom it is to)."""
    return LetterOut.of(await sam.letters.edit(person, letter_id, body.text, body.to))


@router.post("/{letter_id}/redraft", response_model=LetterOut)
async def redraft(letter_id: ItemId, body: Redraft, person: CurrentPerson, sam: System) -> Any:
    """She drafts the body again with your note; your salutation and closing stay."""
    return await drafted(sam.letters.redraft(person, letter_id, body.note))


@router.delete("/{letter_id}", status_code=204)
async def delete(letter_id: ItemId, person: CurrentPerson, sam: System) -> Response:
    """Delete it, every copy of its words."""
    await sam.store.delete_letter(person.id, letter_id)
    return Response(status_code=204)
