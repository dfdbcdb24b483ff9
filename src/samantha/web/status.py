"""Is she there? Model status for people and monitors; counts and trends for the operator."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from samantha import __version__
from samantha.system import SIMULATED_WARNING
from samantha.trends import Trends
from samantha.web.deps import Admin, System
from samantha.web.errors import outage

router = APIRouter(tags=["status"])


@router.get("/v1/status")
async def status(sam: System, request: Request) -> dict[str, Any]:
    """Whether the model is up, and whether it is a simulation; whether she can talk
    (``voice``: the socket at /v1/voice). Open to everyone."""
    model = sam.llm.describe()
    body: dict[str, Any] = {
        "version": __version__,
        "persona": sam.persona.name,
        "greeting": sam.persona.greeting,
        "model": model,
        "voice": request.app.state.voice.describe(),
    }
    if model["simulated"]:
        body["warning"] = SIMULATED_WARNING
    return body


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(sam: System, request: Request) -> Any:
    """Ready once everything the server loads as it starts is loaded: the model, her
    voice, memory's tables, the recall workers with their people's vectors (90 s at most:
    recall is then in the server's process until they are up). Until then a reply can
    wait seconds on the loading (it holds the interpreter), so a load balancer or a
    benchmark should not send people yet."""
    if not sam.llm.available:
        return outage(sam.settings.retry_after_s, "the model is not loaded")
    if not request.app.state.loading.done():
        return outage(sam.settings.retry_after_s, "still starting")
    return {"status": "ready"}


@router.get("/v1/admin/counts", dependencies=[Admin])
async def counts(sam: System) -> dict[str, int]:
    """How many people, conversations and messages are kept, in total."""
    return await sam.store.counts()


def trends(request: Request) -> Trends:
    found: Trends = request.app.state.trends
    return found


@router.get("/v1/admin/history", dependencies=[Admin])
async def history(kept: Annotated[Trends, Depends(trends)]) -> dict[str, Any]:
    """One sample a minute since the server started (six hours at most), oldest first:
    people connected, replies per minute, mean seconds to the first token."""
    return {"every_s": kept.every_s, "samples": [asdict(s) for s in kept.samples]}
