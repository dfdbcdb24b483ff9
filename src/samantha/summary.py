"""The rolling summary: once a conversation outgrows the prompt's history budget, its older
half is folded into a short summary that the prompt carries instead."""

from __future__ import annotations

import logging

from samantha.config import Settings
from samantha.llm import LLM, ChatMessage
from samantha.store import Conversation, Message, Person, Store

log = logging.getLogger(__name__)
INSTRUCTIONS = (
    "You write short, factual running summaries of conversations, in the third person, "
    "keeping names, dates, feelings and promises. No invention."
)


def estimate_tokens(text: str) -> int:
    """About four characters a token; close enough to budget a prompt."""
    return len(text) // 4 + 1


async def history(store: Store, person: Person, conversation: Conversation) -> list[Message]:
    """The messages after the summary (the ones the prompt may still carry word for word)."""
    return await store.messages(
        person.id, conversation.id, after_id=conversation.summary_upto, limit=400
    )


async def maybe_summarise(
    store: Store,
    llm: LLM,
    settings: Settings,
    person: Person,
    conversation_id: int,
    her: str,
    told: int | None = None,
) -> None:
    """Fold the older half of the window into the summary once the window overflows.

    ``told``: the window's estimated tokens, when the caller has just counted them; a
    window that fits is then not read again (after every reply, for nothing)."""
    if told is not None and told <= settings.history_tokens:
        return
    try:
        conversation = await store.conversation(person.id, conversation_id)
        messages = await history(store, person, conversation)
        total = sum(estimate_tokens(m.content) for m in messages)
        if total <= settings.history_tokens or len(messages) < 4:
            return
        older = messages[: len(messages) // 2]
        lines = "\n".join(f"{person.name if m.role == 'user' else her}: {m.content}" for m in older)
        prompt = [
            ChatMessage("system", INSTRUCTIONS),
            ChatMessage(
                "user",
                f"Summary so far: {conversation.summary or '(none)'}\n\nNew lines:\n{lines}"
                f"\n\nWrite the updated summary in at most {settings.summary_tokens} words.",
            ),
        ]
        summary = await llm.complete(prompt, max_tokens=settings.summary_tokens * 2)
        if summary.strip():
            await store.set_summary(person.id, conversation_id, summary.strip(), older[-1].id)
    except Exception:  # a summary is an optimisation; never let it break a conversation
        log.exception("rolling summary failed for conversation %s", conversation_id)
