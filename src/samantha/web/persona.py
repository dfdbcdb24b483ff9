"""Who she is, as a Character Card V2 that SillyTavern and other apps can import."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Query, Response

from samantha.persona import card_png, export_card
from samantha.web.deps import SignedIn, System

router = APIRouter(prefix="/v1/persona", tags=["persona"])


@router.get(
    "/card",
    dependencies=[SignedIn],
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "image/png": {}}}},
)
async def card(sam: System, format: Literal["json", "png"] = Query("json")) -> Response:
    """The running persona as a ``chara_card_v2`` card: JSON, or a PNG carrying it."""
    name = "".join(c for c in sam.persona.name if c.isalnum()) or "persona"
    if format == "png":
        body, media = card_png(sam.persona), "image/png"
    else:
        body = json.dumps(export_card(sam.persona), ensure_ascii=False).encode()
        media = "application/json"
    headers = {"Content-Disposition": f'attachment; filename="{name}.{format}"'}
    return Response(body, media_type=media, headers=headers)
