"""Any OpenAI-compatible chat server: vLLM, llama.cpp's server, Ollama, LM Studio, OpenAI.

The wire dialect lives here; the provider is only a base URL, a key and a model name,
all from settings (``SAMANTHA_OPENAI_BASE_URL``, ``SAMANTHA_OPENAI_API_KEY``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from samantha.config import Settings
from samantha.errors import ModelError, ModelHTTPError, ModelUnavailable
from samantha.llm.base import LLM, ChatMessage
from samantha.llm.registry import register_provider


class OpenAICompatibleLLM(LLM):
    provider = "openai"

    def __init__(self, model: str, settings: Settings) -> None:
        super().__init__(model or "default")
        self.base_url = settings.openai_base_url.rstrip("/")
        headers = {}
        if settings.openai_api_key is not None:
            headers["Authorization"] = f"Bearer {settings.openai_api_key.get_secret_value()}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.openai_timeout_s, connect=5.0),
        )
        self._up = True

    async def close(self) -> None:
        await self._client.aclose()

    @property
    def available(self) -> bool:
        return self._up

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        body = {
            "model": self.model,
            "messages": [m.as_dict() for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": json_schema, "strict": True},
            }
        try:
            async with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    text = (await response.aread()).decode("utf-8", "replace")
                    if response.status_code >= 500:
                        self._up = False
                    raise ModelHTTPError(response.status_code, text)
                self._up = True
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    for text in _deltas(data):
                        yield text
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
            self._up = False
            raise ModelUnavailable(
                f"cannot reach the model server at {self.base_url}: {exc}"
            ) from exc
        except httpx.HTTPError as exc:
            raise ModelError(f"the model server failed mid-reply: {exc}") from exc


def _deltas(data: str) -> list[str]:
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ModelError(f"the model server sent invalid JSON: {data[:200]}") from exc
    if "error" in chunk:
        raise ModelError(f"the model server reported: {chunk['error']}")
    return [
        text
        for choice in chunk.get("choices", [])
        if (text := (choice.get("delta") or {}).get("content"))
    ]


def register() -> None:
    register_provider("openai", OpenAICompatibleLLM)
