"""The OpenAI-compatible backend against a real OpenAI-compatible server on loopback.

The server is llama.cpp's own HTTP server (from ``xllamacpp``) running the small model, so
the request and the streamed response are the real wire format.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xllamacpp
from pydantic import SecretStr

from samantha.errors import ModelHTTPError, ModelUnavailable
from samantha.llm import ChatMessage, load_llm
from samantha.llm.catalog import resolve
from tests.conftest import make_settings

KEY = "test-key-123"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    params = xllamacpp.CommonParams()
    params.model.path = str(resolve("smollm2-135m", tmp_path_factory.mktemp("m")))
    params.n_parallel = 2
    params.n_ctx = 2048
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.verbosity = -1
    params.port = 0
    params.api_keys = [KEY]
    server: Any = xllamacpp.Server(params)
    yield server.listening_address + "/v1"
    del server


def settings_for(tmp_path: Path, url: str, key: str | None = KEY):  # type: ignore[no-untyped-def]
    return make_settings(
        tmp_path,
        llm="openai:smollm2",
        openai_base_url=url,
        openai_api_key=SecretStr(key) if key else None,
    )


async def test_streams_from_a_real_server(server_url: str, tmp_path: Path) -> None:
    llm = load_llm("openai:smollm2", settings_for(tmp_path, server_url))
    pieces = [
        p
        async for p in llm.stream(
            [ChatMessage("user", "Say hello.")], max_tokens=12, temperature=0.0
        )
    ]
    assert len(pieces) > 2 and "".join(pieces).strip()
    await llm.close()


async def test_wrong_key_is_an_http_error(server_url: str, tmp_path: Path) -> None:
    llm = load_llm("openai:smollm2", settings_for(tmp_path, server_url, key="wrong"))
    with pytest.raises(ModelHTTPError) as caught:
        await llm.complete([ChatMessage("user", "hi")], max_tokens=4)
    assert caught.value.status == 401
    await llm.close()


async def test_unreachable_server_is_an_outage(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = load_llm("openai:x", settings_for(tmp_path, f"http://127.0.0.1:{port}/v1"))
    with pytest.raises(ModelUnavailable):
        await llm.complete([ChatMessage("user", "hi")], max_tokens=4)
    assert not llm.available
    await llm.close()
