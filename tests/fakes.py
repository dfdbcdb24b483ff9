"""A scripted model registered through the real provider seam, for tests that need control.

``fake:`` replies with the next scripted text, records every prompt it was sent, and can
be told to be down (``ModelUnavailable``) or to fail part-way through a reply. With a
``gate`` (an ``asyncio.Event``), every reply waits for it before its first word, so a test
decides how long replies hold their slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from samantha.config import Settings
from samantha.errors import ModelError, ModelUnavailable
from samantha.llm import LLM, ChatMessage, register_provider


class ScriptedLLM(LLM):
    provider = "fake"

    def __init__(self, model: str = "", settings: Settings | None = None) -> None:
        super().__init__(model or "scripted")
        self.replies: list[str] = []
        self.default = "I hear you. Tell me more?"
        self.prompts: list[list[ChatMessage]] = []
        self.read: list[list[ChatMessage]] = []  # prompts read ahead
        self.schemas: list[dict[str, Any] | None] = []
        self.down = False
        self.fail_after: int | None = None
        self.before_stream: Callable[[], Awaitable[None]] | None = None
        self.delay = 0.0
        self.gate: asyncio.Event | None = None

    @property
    def available(self) -> bool:
        return not self.down

    async def read_ahead(self, messages: Sequence[ChatMessage]) -> None:
        self.read.append(list(messages))

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        if self.down:
            raise ModelUnavailable("the fake model is switched off")
        self.prompts.append(list(messages))
        self.schemas.append(json_schema)
        if self.before_stream is not None:
            await self.before_stream()
        if self.gate is not None:
            await self.gate.wait()
        text = self.replies.pop(0) if self.replies else self.default
        for i, word in enumerate(text.split(" ")):
            if self.fail_after is not None and i >= self.fail_after:
                raise ModelError("the fake model broke mid-reply")
            if self.delay:
                await asyncio.sleep(self.delay)
            yield word if i == 0 else " " + word


def register() -> None:
    register_provider("fake", ScriptedLLM)
