"""The FastAPI application: API under /v1, OpenAPI at /docs, the chat page at /."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from samantha import __version__, pauses
from samantha.auth import ensure_admin_token
from samantha.config import Settings
from samantha.departure import DepartureTask, sigterm
from samantha.growth import reflect_every
from samantha.llm import LLM
from samantha.memory.kinds import wordnet
from samantha.memory.workers import WorkerGone
from samantha.proactive import run_every
from samantha.store import Clock
from samantha.system import Samantha, running
from samantha.trends import Trends
from samantha.voice import Voice
from samantha.web import (
    archives,
    conversations,
    departure,
    errors,
    events,
    follow_ups,
    letters,
    memories,
    observe,
    openai_compat,
    pacing,
    people,
    persona,
    relationship,
    status,
    voice,
)

log = logging.getLogger(__name__)
STATIC = resources.files("samantha") / "web" / "static"
WORKERS_S = 90.0  # the longest /readyz waits for the recall workers (memory.workers)


async def _load(sam: Samantha, ears: Voice, settle: bool) -> None:
    if sam.memory.workers is not None:
        # ready before the first people talk, instead of starting with the first recall
        # (the recalls meanwhile are done in the server, when it is busiest)
        sam.memory.workers.start()
    await sam.llm.start()
    await sam.llm.warm(sam.companion.prompts.prefix())
    await ears.start()
    if sam.memory.workers is not None:
        try:  # ready once they are: until then the server recalls in its own process
            async with asyncio.timeout(WORKERS_S):
                await sam.memory.workers.started()
        except (WorkerGone, TimeoutError) as exc:
            log.warning("recall is in the server's process until its workers are up: %r", exc)
    if settle:
        await asyncio.to_thread(wordnet)  # read at start by learning's thread
        set_aside()


def set_aside() -> None:
    """Set what was loaded for good (modules, WordNet's 150,000 objects, the model's
    tables) aside from the garbage collector, and collect the young generation seldom
    (see :mod:`samantha.pauses`). Each full pass walked all of it: 60 ms before any
    work, 170 ms under load, and 0.8-1.2 s every 6-10 s with 8,316 streams open (issue
    4), with every reply on the way waiting. Only for a server with a process of its
    own: what is set aside is never collected."""
    pauses.settle()


async def _resume_departure(sam: Samantha, task: DepartureTask) -> None:
    """A departure the last run of the server did not finish goes on by itself."""
    found = await sam.store.departure()
    if found is not None and found.finished_at is None:
        log.warning(
            "going on with the departure begun before: %d of %d done", found.done, found.people
        )
        task.start()


def create_app(
    settings: Settings,
    *,
    llm: LLM | None = None,
    clock: Clock | None = None,
    stop: Callable[[], None] = sigterm,
    speech: Voice | None = None,
    own_process: bool = False,
) -> FastAPI:
    """The app; ``stop`` ends the server once departure is over (tests pass their own),
    ``speech`` is her voice, loaded once (tests share one; by default it loads with the
    model, in the background), and ``own_process`` says the app has its process to itself
    (``samantha serve``): what it loads is then set aside from the garbage collector."""

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
            app.state.departure = leaving = DepartureTask(sam, stop)
            app.state.trends = Trends(sam.metrics)
            app.state.voice = ears = speech or Voice(settings)
            # the page is up while the model loads; /readyz waits for all of it
            app.state.loading = loading = asyncio.create_task(_load(sam, ears, own_process))
            background = [loading, asyncio.create_task(app.state.trends.run())]
            if settings.proactive_interval_s:
                interval = settings.proactive_interval_s
                background.append(asyncio.create_task(run_every(sam.follow_ups, interval)))
            if settings.growth_reflect_h:
                every = settings.growth_reflect_h * 3600
                background.append(asyncio.create_task(reflect_every(sam.growth, every)))
            await _resume_departure(sam, leaving)
            yield
            await leaving.close()
            for task in background:
                task.cancel()
            for task in background:
                with suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="Samantha",
        version=__version__,
        description="A companion who remembers. Every person sees only their own data.",
        lifespan=lifespan,
        # FastAPI asks OpenTelemetry's global providers on every request whether anyone
        # configured them (reading the environment each time: 3% of the event loop under
        # load, issue 4). Samantha reports through her own /metrics and configures none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    errors.install(app, settings.retry_after_s)
    app.add_middleware(
        errors.BodyLimit,
        limit=settings.max_body_bytes,
        paths={archives.IMPORT_PATH: settings.max_import_bytes},
    )
    # event streams opened in a crowd (everyone's app coming back at once) go in a few at
    # each turn of the event loop, so the replies under way are not held up behind them
    app.add_middleware(pacing.Paced, paths={events.PATH})
    app.add_middleware(observe.Observe)  # outermost: it also sees what BodyLimit refuses
    # Routes are matched in order, each path against each route until one fits: the two
    # every person uses all the time (a message and its reply, the event stream) come
    # first, 41 µs to route a request to them against 74 behind the rest (none of whose
    # paths they could take)
    routers = (
        conversations,
        events,
        people,
        archives,
        memories,
        letters,
        openai_compat,
        persona,
        departure,
        follow_ups,
        relationship,
        voice,
    )
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
