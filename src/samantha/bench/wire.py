"""A bare HTTP/1.1 client for the load generator, on asyncio streams.

With thousands of open streams, a full client library spends more CPU per stream than the
server does, and the generator shares the machine with the server it measures. This one
does only what the benchmark needs: a JSON body, and the response's body read whole or
line by line (plain or chunked); a request on a connection of its own, or on one kept
open between requests (:class:`Connection`), as a browser keeps one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any


class Response:
    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.status = status
        self.headers = headers
        self._reader = reader
        self._writer = writer
        self.ended = False  # the body was read to its end

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks, from where the last reading of it stopped."""
        if self.ended:
            return
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self._reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self._reader.readline()
                    self.ended = True
                    return
                data = await self._reader.readexactly(size)
                await self._reader.readexactly(2)
                yield data
        else:
            length = int(self.headers.get("content-length", "0"))
            self.ended = True
            if length:
                yield await self._reader.readexactly(length)

    async def lines(self) -> AsyncIterator[str]:
        pending = b""
        async for chunk in self.chunks():
            pending += chunk
            *whole, pending = pending.split(b"\n")
            for line in whole:
                yield line.decode("utf-8").rstrip("\r")
        if pending:
            yield pending.decode("utf-8")

    def connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The connection the response came on, for the next request once it has ended."""
        return self._reader, self._writer

    async def json(self) -> Any:
        return json.loads(b"".join([c async for c in self.chunks()]))

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()


async def request(
    host: str,
    port: int,
    method: str,
    path: str,
    *,
    token: str = "",
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Send one request on a new connection; the caller reads the response and closes it."""
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    return await _send(reader, writer, host, port, method, path, token, body, headers or {})


class Connection:
    """A connection kept open between one's requests, as a browser keeps one: each request
    goes once the last response was read (:meth:`done`), on the same connection while it
    has been idle under ``idle_s`` (less than the server waits before it closes one), on a
    new one otherwise. A connection the server said it would close is not used again."""

    def __init__(self, host: str, port: int, idle_s: float) -> None:
        self.host, self.port, self.idle_s = host, port, idle_s
        self._open: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._since = 0.0

    async def request(
        self, method: str, path: str, *, token: str = "", body: Any = None
    ) -> Response:
        loop = asyncio.get_running_loop()
        if self._open is not None and (
            loop.time() - self._since > self.idle_s or self._open[0].at_eof()
        ):
            await self.close()  # idle too long, or the server closed it meanwhile
        if self._open is None:
            self._open = await asyncio.open_connection(self.host, self.port, limit=1 << 20)
        reader, writer = self._open
        self._open = None  # until the response is read to its end
        try:
            return await _send(
                reader, writer, self.host, self.port, method, path, token, body, {}, keep=True
            )
        except BaseException:
            writer.close()
            raise

    async def done(self, response: Response) -> None:
        """Read what is left of ``response`` and keep its connection for the next request
        (or close it, when the server will)."""
        try:
            async for _ in response.chunks():
                pass
        except BaseException:
            await response.close()
            raise
        if response.headers.get("connection", "").lower() == "close":
            await response.close()
            return
        self._open = response.connection()
        self._since = asyncio.get_running_loop().time()

    async def close(self) -> None:
        if self._open is not None:
            _, writer = self._open
            self._open = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _send(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    port: int,
    method: str,
    path: str,
    token: str,
    body: Any,
    headers: dict[str, str],
    keep: bool = False,
) -> Response:
    """Send a request, on a connection to be closed after it or kept for the next."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    head.append("Connection: keep-alive" if keep else "Connection: close")
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        writer.close()
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    found: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        key, _, value = line.decode("latin-1").partition(":")
        found[key.strip().lower()] = value.strip()
    return Response(status, found, reader, writer)
