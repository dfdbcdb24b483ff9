"""Pick a backend from one ``provider:model`` string."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from samantha.config import Settings
from samantha.errors import ConfigError
from samantha.llm.base import LLM

Factory = Callable[[str, Settings], LLM]

_BUILTIN = {
    "embedded": "samantha.llm.embedded",
    "openai": "samantha.llm.openai",
    "sim": "samantha.llm.sim",
}
_registered: dict[str, Factory] = {}


def register_provider(name: str, factory: Factory) -> None:
    """Make ``name:...`` strings build backends with ``factory(model, settings)``."""
    _registered[name] = factory


def parse_spec(spec: str) -> tuple[str, str]:
    provider, sep, model = spec.partition(":")
    if not sep or not provider:
        raise ConfigError(
            f"model setting {spec!r} is not of the form provider:model "
            f"(providers: {', '.join(sorted({*_BUILTIN, *_registered}))})"
        )
    return provider.strip().lower(), model.strip()


def load_llm(spec: str, settings: Settings) -> LLM:
    provider, model = parse_spec(spec)
    if provider not in _registered and provider in _BUILTIN:
        module = importlib.import_module(_BUILTIN[provider])
        module.register()
    factory = _registered.get(provider)
    if factory is None:
        known = ", ".join(sorted({*_BUILTIN, *_registered}))
        raise ConfigError(f"unknown model provider {provider!r}; known: {known}")
    return factory(model, settings)
