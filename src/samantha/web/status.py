"""Is she there? Model status for people and monitors; counts for the operator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from samantha import __version__
from samantha.system import SIMULATED_WARNING
from samantha.web.deps import Admin, System
from samantha.web.errors import outage

router = APIRouter(tags=["status"])


@router.get("/v1/status")
async def status(sam: System) -> dict[str, Any]:
    """Whether the model is up, and whether it is a simulation. Open to everyone."""
    model = sam.llm.describe()
    body: dict[str, Any] = {
        "version": __version__,
        "persona": sam.persona.name,
        "greeting": sam.persona.greeting,
        "model": model,
    }
    if model["simulated"]:
        body["warning"] = SIMULATED_WARNING
    return body


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(sam: System) -> Any:
    if not sam.llm.available:
        return outage(sam.settings.retry_after_s, "the model is not loaded")
    return {"status": "ready"}


@router.get("/v1/admin/counts", dependencies=[Admin])
async def counts(sam: System) -> dict[str, int]:
    """How many people, conversations and messages are kept, in total."""
    return await sam.store.counts()
