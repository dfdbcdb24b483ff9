"""The backend contract: stream text chunks for chat messages, say whether you are up."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


class LLM(ABC):
    """A language model Samantha can talk through.

    ``stream`` yields text as it is generated; it raises
    :class:`~samantha.errors.ModelUnavailable` when the model cannot be reached at all and
    :class:`~samantha.errors.ModelError` for other failures. Closing the iterator early
    stops generation.
    """

    provider: ClassVar[str]
    simulated: ClassVar[bool] = False

    def __init__(self, model: str) -> None:
        self.model = model

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Load or connect. Failure here is reported by ``available``, not raised."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model."""

    @property
    def available(self) -> bool:
        return True

    @property
    def parallel(self) -> int | None:
        """How many replies it generates at once, where the backend fixes that number
        (llama.cpp's slots); ``None`` for a server that queues and batches on its own."""
        return None

    async def until_idle(self, longest: float) -> None:  # noqa: B027 - optional hook
        """Wait (at most ``longest`` seconds) until no reply is being generated.

        Background work that needs the CPU (embedding, extraction) waits here, so it does
        not slow a reply someone is waiting for on a machine with few cores.
        """

    async def warm(self, prefix: Sequence[ChatMessage]) -> None:  # noqa: B027 - optional hook
        """Read a prompt prefix ahead of time, where the backend keeps prompt caches."""

    async def read_ahead(self, messages: Sequence[ChatMessage]) -> None:  # noqa: B027
        """Read one conversation's prompt so far into one cache, before its next message is
        known (optional hook: only backends that keep prompt caches do anything)."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply in pieces as the model produces them.

        With ``json_schema``, a backend that can constrain its output to the schema (a
        grammar in llama.cpp, ``response_format`` on OpenAI-style servers) does so; callers
        still validate, since not every server honours it.
        """

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float = 0.2,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        parts = [
            piece
            async for piece in self.stream(
                messages, max_tokens=max_tokens, temperature=temperature, json_schema=json_schema
            )
        ]
        return "".join(parts)

    def describe(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "available": self.available,
            "simulated": self.simulated,
        }
