from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from samantha.config import Settings
from samantha.system import Samantha, running
from tests.fakes import ScriptedLLM
from tests.test_wellbeing import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock("2026-03-02T18:00:00")


@pytest.fixture
async def her(settings: Settings, fake: ScriptedLLM, clock: Clock) -> AsyncIterator[Samantha]:
    """Samantha on the scripted model, with a clock the test moves."""
    async with running(settings, llm=fake, clock=clock) as sam:
        yield sam
