"""The load generator's HTTP client: a person's requests go on one connection kept open
between them, as a browser's do, each once the last response was read to its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from samantha.bench import wire

HOST = "127.0.0.1"


class Server:
    """Answers every request with a chunked body of three lines, counting connections."""

    def __init__(self, close_after: bool = False) -> None:
        self.connections = 0
        self.requests: list[str] = []
        self.close_after = close_after
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        while line := await reader.readline():
            self.requests.append(line.decode().split()[1])
            length = 0
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            close = b"Connection: close\r\n" if self.close_after else b""
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + close + b"\r\n")
            for part in (b"event: token\n", b"data: one\n", b"data: two\n"):
                writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            if self.close_after:
                break
        writer.close()


async def serving(server: Server) -> AsyncIterator[Server]:
    listening = await asyncio.start_server(server.serve, HOST, 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


@pytest.fixture
async def kept() -> AsyncIterator[Server]:
    async for server in serving(Server()):
        yield server


@pytest.fixture
async def closing() -> AsyncIterator[Server]:
    async for server in serving(Server(close_after=True)):
        yield server


async def first_line(response: wire.Response) -> str:
    async for line in response.lines():
        return line
    return ""


async def test_requests_go_one_after_another_on_one_kept_connection(kept: Server) -> None:
    via = wire.Connection(HOST, kept.port, idle_s=60)
    for n in range(3):
        response = await via.request("POST", f"/m{n}", token="t", body={"n": n})
        assert response.status == 200
        assert await first_line(response) == "event: token"  # read in part, as a reply is
        await via.done(response)  # the rest read, and the connection kept
    await via.close()
    assert kept.requests == ["/m0", "/m1", "/m2"]
    assert kept.connections == 1


async def test_a_connection_idle_too_long_is_opened_again(kept: Server) -> None:
    via = wire.Connection(HOST, kept.port, idle_s=0.0)
    for _ in range(2):
        response = await via.request("GET", "/")
        await via.done(response)
        await asyncio.sleep(0.01)
    await via.close()
    assert kept.connections == 2


async def test_a_connection_the_server_closes_is_not_used_again(closing: Server) -> None:
    via = wire.Connection(HOST, closing.port, idle_s=60)
    for _ in range(2):
        response = await via.request("GET", "/")
        assert [line async for line in response.lines()][-1] == "data: two"
        await via.done(response)
    assert closing.connections == 2
