"""A bare HTTP/1.1 client for the load generator, on asyncio streams.

With thousands of open streams, a full client library spends more CPU per stream than the
server does, and the generator shares the machine with the server it measures. This one
does only what the benchmark needs: one request per connection, a JSON body, and the
response's body read whole or line by line (plain or chunked).
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

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await self._reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self._reader.readline()
                    return
                data = await self._reader.readexactly(size)
                await self._reader.readexactly(2)
                yield data
        else:
            length = int(self.headers.get("content-length", "0"))
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
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
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
