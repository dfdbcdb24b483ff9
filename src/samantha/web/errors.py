"""Every failure becomes a JSON error with a code a client can act on; never a bare 500.

Shape: ``{"error": {"code": "...", "message": "..."}}``. Model outages answer 503 with
``operating_system_not_found`` and a ``Retry-After`` header; so do refusals when too many
replies are on the way (503 ``busy``, 429 ``too_many_replies``). Once she is leaving,
anything new answers 503 ``departing``, with no ``Retry-After``: trying again will not help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from samantha.errors import (
    AuthError,
    Departing,
    InputError,
    ModelError,
    ModelUnavailable,
    NotFound,
    Overloaded,
    SamanthaError,
)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


ERROR_CODE_HEADER = "X-Error-Code"


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The one way an error leaves the server; its code also rides in a header for metrics."""
    return JSONResponse(
        error_body(code, message, **extra),
        status_code=status,
        headers={**(headers or {}), ERROR_CODE_HEADER: code},
    )


def outage(retry_after: int, detail: str, **extra: Any) -> JSONResponse:
    return error_response(
        503,
        ModelUnavailable.code,
        f"Operating System Not Found: {detail}",
        headers={"Retry-After": str(retry_after)},
        **extra,
    )


def refused(exc: Overloaded, message: str, **extra: Any) -> JSONResponse:
    """A reply refused before it started: come back after ``Retry-After`` seconds."""
    headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status, exc.code, message, headers=headers, **extra)


def client_gone() -> JSONResponse:
    """For the log only: the client left before her reply began (nginx's 499)."""
    return error_response(499, "client_gone", "the client went away before the reply began")


def install(app: FastAPI, retry_after: int) -> None:
    @app.exception_handler(SamanthaError)
    async def samantha_error(_: Request, exc: SamanthaError) -> JSONResponse:
        if isinstance(exc, ModelUnavailable):
            return outage(retry_after, str(exc))
        if isinstance(exc, Overloaded):
            return refused(exc, str(exc))
        if isinstance(exc, InputError):
            return error_response(exc.status, exc.code, str(exc))
        if isinstance(exc, NotFound):
            return error_response(404, exc.code, str(exc))
        if isinstance(exc, AuthError):
            return error_response(401, exc.code, str(exc), headers={"WWW-Authenticate": "Bearer"})
        if isinstance(exc, Departing):
            return error_response(503, exc.code, str(exc))
        if isinstance(exc, ModelError):
            return error_response(502, exc.code, f"{exc}; your message is kept, try again")
        return error_response(500, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        details = [
            f"{'.'.join(str(x) for x in p.get('loc', ())[1:]) or 'body'}: {p.get('msg')}"
            for p in problems
        ]
        return error_response(422, "invalid_request", "; ".join(details))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not parse the body at all
            return error_response(400, "invalid_json", "the request body is not UTF-8 JSON")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before any handler sees them.

    ``paths`` give a few routes their own limit (an archive upload is far larger than a
    message); every other path gets ``limit``.
    """

    def __init__(self, app: ASGIApp, limit: int, paths: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope["path"], self.limit)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        message = f"the request body is over {limit} bytes"
        response = error_response(413, "request_too_large", message)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
