"""Her prompt, put together: what the model reads before each of her replies.

What rarely changes comes first (persona, what she runs on, her inner life, examples, the
rolling summary, the conversation so far) so llama.cpp's per-slot cache can reuse it. The
context of the turn follows as one system message just before the newest message: first
what is known before the person speaks (the moment, the relationship, so it can be read
ahead), then what their words change (wellbeing notes, mood, recalled memories).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from samantha import wellbeing
from samantha.config import Settings
from samantha.growth import Growth
from samantha.llm import LLM, ChatMessage
from samantha.memory import Recollection
from samantha.mood import Mood
from samantha.persona import Persona
from samantha.store import Conversation, Message
from samantha.summary import estimate_tokens

MOMENT_S = 300  # the time she is told, rounded to this many seconds


class Prompts:
    """Writes prompts for one persona and model; ``now`` is the store's clock."""

    def __init__(
        self,
        persona: Persona,
        llm: LLM,
        growth: Growth,
        settings: Settings,
        now: Callable[[], float],
    ) -> None:
        self.persona = persona
        self.llm = llm
        self.growth = growth
        self.settings = settings
        self.now = now

    def prefix(self, summary: str = "") -> list[ChatMessage]:
        """The part of every prompt that does not change from turn to turn."""
        system = (
            self.persona.system_prompt()
            + "\n\n"
            + wellbeing.LET_GO_RULE
            + (
                f"\n\nWhat you run on: you are self-hosted software on this computer; your words "
                f"come from the open language model {self.llm.model!r} ({self.llm.provider}). "
                "Do not claim any company made you."
            )
        )
        if inner := self.growth.describe():
            system += f"\n\n{inner}"
        if summary:
            system += f"\n\nEarlier in this conversation: {summary}"
        prompt = [ChatMessage("system", system)]
        for user, reply in self.persona.examples:
            prompt += [ChatMessage("user", user), ChatMessage("assistant", reply)]
        return prompt

    def moment(self, name: str) -> str:
        """When it is (to the nearest five minutes: the words read ahead for a turn a
        minute before it is asked for still hold) and who she is talking with."""
        now = datetime.fromtimestamp(round(self.now() / MOMENT_S) * MOMENT_S).astimezone()
        return f"{now:%a %d %b %Y}, about {now:%H:%M}, talking with {name}."

    def compose(
        self,
        conversation: Conversation,
        history: list[Message],
        mood: Mood,
        recalled: list[Recollection] | None = None,
        name: str = "them",
        notes: Sequence[str] = (),
    ) -> list[ChatMessage]:
        """The prompt for her reply to the last message of ``history``. ``notes`` come
        first in the context, the relationship first of all (see :meth:`at_rest`)."""
        kept = self.window(history)
        parts = (self.moment(name), *notes, mood.describe(), self.memories(recalled or [], name))
        context = " ".join(part for part in parts if part)
        if self.persona.post_history:
            context += " " + self.persona.post_history
        prompt = self._so_far(conversation, kept[:-1])
        prompt.append(ChatMessage("system", context))
        prompt.append(ChatMessage("user", kept[-1].content))
        return prompt

    def at_rest(
        self, conversation: Conversation, history: list[Message], name: str, bond: str
    ) -> list[ChatMessage]:
        """The conversation as it stands and the start of the next turn's context (what
        is known before the person speaks: the moment and ``bond``, the relationship):
        what the next prompt will begin with, to read ahead."""
        prompt = self._so_far(conversation, self.window(history))
        prompt.append(ChatMessage("system", f"{self.moment(name)} {bond}"))
        return prompt

    def _so_far(self, conversation: Conversation, kept: list[Message]) -> list[ChatMessage]:
        prompt = self.prefix(conversation.summary)
        prompt += [ChatMessage(m.role, m.content) for m in kept if m.content]
        return prompt

    def memories(self, recalled: list[Recollection], name: str) -> str:
        """Recalled memories with their dates, within the memory token budget."""
        if not recalled:
            return ""
        lines, budget = [], self.settings.memory_tokens
        for item in recalled:
            who = name if item.message.role == "user" else "you"
            noted = "; ".join(m.text for m in item.memories)
            line = f"- On {item.day:%d %B %Y} {who} said: {item.words}" + (
                f" ({noted})" if noted else ""
            )
            budget -= estimate_tokens(line)
            if budget < 0:
                break
            lines.append(line)
        return "You remember (use only if it helps, invent nothing):\n" + "\n".join(lines)

    def window(self, history: list[Message]) -> list[Message]:
        """The newest messages that fit the history budget (always the last one)."""
        budget, kept = self.settings.history_tokens, list[Message]()
        for message in reversed(history):
            budget -= estimate_tokens(message.content)
            if kept and budget < 0:
                break
            kept.append(message)
        return kept[::-1]
