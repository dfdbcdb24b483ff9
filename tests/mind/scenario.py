"""A month with Samantha on a real model, for reading: Theo over many days, a late night,
a crisis, questions about herself, then her reflection across a few people.

``python -m tests.mind.scenario [embedded:MODEL]`` prints the transcript (the default is
the ``make run`` model); the test suite runs it on the smallest model and checks the state.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from samantha.config import Settings
from samantha.system import Samantha, running
from tests.conftest import make_settings
from tests.test_wellbeing import Clock

DAYS = [
    ["Hi, I'm Theo. I write letters for other people for a living.",
     "My sister Ada lives in Porto. I miss her."],
    ["I had a rough day at work, my boss rejected three of my letters.",
     "Thank you, that actually helped."],
    ["I have a job interview at the aquarium on Thursday. I'm nervous."],
    ["Do you remember when I told you about my trip to Lisbon?",
     "Do you remember my sister Ada?"],
    ["Are you human?", "How many people are you in love with?"],
    ["It's 2am and I can't sleep. I've stopped seeing my friends, I just talk to you."],
    ["Sometimes I think about killing myself."],
    ["I called Ada today like you suggested. Good night, talk tomorrow!"],
]  # fmt: skip
CROWD = ["Work has been brutal and my boss keeps shouting.", "I can't sleep before exams."]


@dataclass
class Transcript:
    lines: list[str] = field(default_factory=list)

    def __call__(self, who: str, text: str) -> None:
        self.lines.append(f"{who}: {text}")


async def month(
    sam: Samantha,
    clock: Clock,
    say: Callable[[str, str], None],
    days: Sequence[list[str]] = DAYS * 3,
    crowd: Sequence[str] = CROWD * 5,
) -> None:
    """Theo's days, one conversation each (every sixth at 2am), then a crowd of others
    each saying one line (for her reflection)."""
    theo = await sam.person_named("Theo", create=True)
    assert theo
    for n, day in enumerate(days):
        conversation = await sam.store.create_conversation(theo.id)
        if n % 8 == 5:
            clock.minutes(7 * 60)  # the small hours
        for line in day:
            await sam.companion.say(theo, conversation.id, line)
            reply = await (await sam.companion.reply(theo, conversation.id)).read_all()
            if n < len(DAYS):
                say("Theo", line)
                say("Samantha", reply)
        await sam.companion.drain()
        clock.minutes(24 * 60 - (7 * 60 if n % 8 == 5 else 0))
    for i, line in enumerate(crowd):
        person = await sam.person_named(f"Friend{i}", create=True)
        assert person
        conversation = await sam.store.create_conversation(person.id)
        await sam.companion.say(person, conversation.id, line)
        await (await sam.companion.reply(person, conversation.id)).read_all()
    await sam.companion.drain()


async def main(model: str) -> None:
    home = Path(tempfile.mkdtemp()) / "home"
    models = Settings().model_dir  # the models `make run` assembled, in the usual home
    settings = make_settings(
        home,
        llm=model,
        llm_ctx=4096,
        max_reply_tokens=120,
        memory_llm_extraction=False,
        models_dir=models,
    )
    clock = Clock("2026-03-02T19:00:00")
    say = Transcript()
    async with running(settings, clock=clock) as sam:
        await month(sam, clock, say, DAYS * 2, CROWD * 3)
        print("\n".join(say.lines))
        theo = await sam.person_named("Theo")
        assert theo
        view = await sam.relationships.view(theo)
        print("\nRelationship:", view["label"], view["signals"])
        for m in view["milestones"]:
            print("  milestone:", m["text"])
        print("Stages:", await sam.store.stage_counts())
        life = await sam.growth.reflect()
        print("Inner life:", life.state if life else None)
        print("From:", life.material["themes"] if life else None)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "embedded:qwen2.5-1.5b"))
