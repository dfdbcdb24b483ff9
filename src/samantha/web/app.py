"""The FastAPI application: API under /v1, OpenAPI at /docs, the chat page at /."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from samantha import __version__
from samantha.auth import ensure_admin_token
from samantha.config import Settings
from samantha.llm import LLM
from samantha.store import Clock
from samantha.system import Samantha, running
from samantha.trends import Trends
from samantha.web import (
    archives,
    conversations,
    errors,
    events,
    memories,
    observe,
    openai_compat,
    people,
    persona,
    status,
)

log = logging.getLogger(__name__)
STATIC = resources.files("samantha") / "web" / "static"


async def _load(sam: Samantha) -> None:
    await sam.llm.start()
    await sam.llm.warm(sam.companion.prefix())


def create_app(
    settings: Settings, *, llm: LLM | None = None, clock: Clock | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        token, created = ensure_admin_token(settings.home)
        if created:
            print(f"Admin token (shown once, kept in {settings.home}/admin.token): {token}")
        async with running(settings, llm=llm, clock=clock, load_model=False) as sam:
            interrupted = await sam.store.recover()
            if interrupted:
                log.warning("marked %d replies interrupted by the last shutdown", interrupted)
            app.state.samantha = sam
            app.state.trends = Trends(sam.metrics)
            loading = asyncio.create_task(_load(sam))  # the page is up while the model loads
            sampling = asyncio.create_task(app.state.trends.run())
            yield
            for task in (loading, sampling):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="Samantha",
        version=__version__,
        description="A companion who remembers. Every person sees only their own data.",
        lifespan=lifespan,
    )
    errors.install(app, settings.retry_after_s)
    app.add_middleware(
        errors.BodyLimit,
        limit=settings.max_body_bytes,
        paths={archives.IMPORT_PATH: settings.max_import_bytes},
    )
    app.add_middleware(observe.Observe)  # outermost: it also sees what BodyLimit refuses
    routers = (people, archives, conversations, events, memories, openai_compat, persona)
    for module in (*routers, status, observe):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text("utf-8"))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(str(STATIC / "icon.svg"), media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
