"""Watching the server: Prometheus ``/metrics``, and one structured log line per request."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from samantha.metrics import CONTENT_TYPE
from samantha.web.deps import Credentials, System, require_admin
from samantha.web.errors import ERROR_CODE_HEADER

ERROR_CODE = ERROR_CODE_HEADER.lower().encode()
log = logging.getLogger("samantha.http")
router = APIRouter(tags=["status"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(sam: System, credentials: Credentials) -> Response:
    """Counts and timings in Prometheus text format.

    Needs the admin token unless ``SAMANTHA_METRICS_PUBLIC`` is set (Prometheus sends it with
    ``authorization: {credentials: ...}`` in its scrape config).
    """
    if not sam.settings.metrics_public:
        await require_admin(sam, credentials)
    return Response(sam.metrics.render(), media_type=CONTENT_TYPE)


class Observe:
    """Count and time every HTTP request by its route template, and log it.

    The time is to the start of the response: for a streamed reply that is when the
    person's message is stored and her first words are ready, which is what a client feels.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        # the app's own copy of the scope, for what it adds (the route, FastAPI's exit
        # stacks, the exception handlers): the server keeps a connection's last scope
        # until its next request, a minute later for a person talking at a human pace, and
        # at 8,316 people those additions were tens of thousands of objects the garbage
        # collector walked at each young collection (issue 4)
        scope = dict(scope)

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                code = dict(message.get("headers") or []).get(ERROR_CODE)
                self._record(scope, status, time.perf_counter() - started, code)
            await send(message)

        try:
            await self.app(scope, receive, observed)
        except Exception:
            self._record(scope, status, time.perf_counter() - started, b"internal_error")
            raise

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float, code: bytes | None) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        state = getattr(scope.get("app"), "state", None)
        sam = getattr(state, "samantha", None)
        if sam is not None:
            sam.metrics.requests.labels(method, route, str(status)).inc()
            sam.metrics.request_time.labels(route).observe(seconds)
            if code:
                sam.metrics.errors.labels(code.decode("latin-1")).inc()
        ms = round(seconds * 1000, 1)
        fields = {"method": method, "route": route, "status": status, "ms": ms}
        log.info("%s %s %d %.1f ms", method, route, status, ms, extra=fields)
