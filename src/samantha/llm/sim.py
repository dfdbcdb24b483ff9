"""A simulated model for load benchmarks: fixed text streamed at a set token rate.

It measures everything except the model. The server logs a warning at start-up and
reports ``simulated: true`` in its status so nobody mistakes it for a real companion.
The model part of the string may set the rate and the text: ``sim:rate=40,text=Hello``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.llm.base import LLM, ChatMessage
from samantha.llm.registry import register_provider

DEFAULT_TEXT = (
    "I'm a simulated model, streaming fixed words so the rest of Samantha can be measured. "
    "Nothing I say here comes from a real mind."
)


class SimulatedLLM(LLM):
    provider = "sim"
    simulated = True

    def __init__(self, model: str, settings: Settings) -> None:
        super().__init__(model or "fixed")
        self.rate = settings.sim_rate
        self.text = DEFAULT_TEXT
        for option in filter(None, (o.strip() for o in model.split(","))):
            key, _, value = option.partition("=")
            if key == "rate":
                try:
                    self.rate = float(value)
                except ValueError:
                    raise ConfigError(f"sim rate must be a number, not {value!r}") from None
            elif key == "text" and value:
                self.text = value
            else:
                raise ConfigError(f"unknown sim option {option!r}; use rate=N or text=...")
        if self.rate <= 0:
            raise ConfigError("sim rate must be above 0 tokens/s")

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        words = self.text.split(" ")[:max_tokens]
        for i, word in enumerate(words):
            await asyncio.sleep(1.0 / self.rate)
            yield word if i == 0 else " " + word


def register() -> None:
    register_provider("sim", SimulatedLLM)
