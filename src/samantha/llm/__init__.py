"""Language-model backends: one small interface, its implementations, one place that picks.

A backend streams text for a list of chat messages. It is chosen by a ``provider:model``
string (``embedded:qwen2.5-1.5b``, ``embedded:/path/to/model.gguf``, ``openai:gpt-4o-mini``,
``sim:``); built-in providers are registered through the same seam as any other, so a test
can register a fake one with :func:`register_provider`.
"""

from __future__ import annotations

from samantha.llm.base import LLM, ChatMessage, Role
from samantha.llm.registry import load_llm, parse_spec, register_provider

__all__ = ["LLM", "ChatMessage", "Role", "load_llm", "parse_spec", "register_provider"]
