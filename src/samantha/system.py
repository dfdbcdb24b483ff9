"""The running system: settings, store, model, persona and mind, opened and closed together.

The CLI and the web app both run Samantha through this one object, so a conversation in the
terminal and one over HTTP are the same code path.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from samantha.auth import add_person
from samantha.config import Settings
from samantha.embeddings import Embedder, load_embedder
from samantha.errors import ConfigError
from samantha.events import Events
from samantha.files import safe_name
from samantha.growth import Growth
from samantha.letters import Letters
from samantha.llm import LLM, load_llm
from samantha.memory import STOP_LEARNING_S, Memory
from samantha.metrics import Metrics
from samantha.persona import Persona, default_persona, load_persona
from samantha.presence import Presence
from samantha.proactive import FollowUps
from samantha.relationship import Relationships
from samantha.store import Clock, Person, Store, open_store
from samantha.turn import Companion

log = logging.getLogger(__name__)
SIMULATED_WARNING = (
    "SIMULATED MODEL IN USE: replies are fixed text for load testing, not Samantha. "
    "Set SAMANTHA_LLM to an embedded: or openai: model for real conversations."
)


@dataclass
class Samantha:
    settings: Settings
    store: Store
    llm: LLM
    persona: Persona
    companion: Companion
    events: Events
    follow_ups: FollowUps
    letters: Letters

    @property
    def memory(self) -> Memory:
        return self.companion.memory

    @property
    def metrics(self) -> Metrics:
        return self.companion.metrics

    @property
    def presence(self) -> Presence:
        return self.companion.presence

    @property
    def relationships(self) -> Relationships:
        return self.companion.relationships

    @property
    def growth(self) -> Growth:
        return self.companion.growth

    async def person_named(self, name: str, *, create: bool = False) -> Person | None:
        person = await self.store.person_by_name(name.strip())
        if person is None and create:
            person, _ = await add_person(self.store, name)
        return person

    def departure_archive(self, person: Person) -> Path:
        """Where departure leaves the person's archive until they take it."""
        name = f"{person.id}-{safe_name(person.name)}.samantha.zip"
        return self.settings.departure_dir / name

    async def delete_person(self, person_id: int) -> dict[str, int]:
        """Delete a person and every trace of them: the store's rows and files first, then
        what this process holds about them. Returns how many rows of each kind went."""
        removed = await self.store.delete_person(person_id)
        self.forget_departure_archive(person_id)
        self.companion.forget(person_id)
        await self.memory.forget_person(person_id)
        return removed

    def forget_departure_archive(self, person_id: int) -> None:
        """Remove the archive departure left for a person (after they are deleted)."""
        folder = self.settings.departure_dir
        for path in folder.glob(f"{person_id}-*.samantha.zip") if folder.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    llm: LLM | None = None,
    clock: Clock | None = None,
    load_model: bool = True,
) -> AsyncIterator[Samantha]:
    """Open everything Samantha needs; close it all on the way out."""
    store = open_store(settings.db_path, clock=clock)
    await store.open()
    model = llm or load_llm(settings.llm, settings)
    if model.simulated:
        log.warning(SIMULATED_WARNING)
    persona = load_persona(settings.persona) if settings.persona else default_persona()
    memory = Memory(
        store,
        _embedder(settings),
        self_name=persona.name,
        llm=model if settings.memory_llm_extraction and not model.simulated else None,
        idle=model,
        cache_mb=settings.vector_cache_mb,
        processes=settings.recall_processes,
    )
    presence, metrics = Presence(), Metrics()
    metrics.watch(lambda: presence.people, lambda: presence.streams)
    metrics.model_up.set_function(lambda: float(model.available))
    companion = Companion(
        store, model, persona, settings, memory, metrics=metrics, presence=presence
    )
    try:
        if load_model:
            await model.start()
        await companion.growth.load()
        await memory.resume()  # what the last stop left unlearned, in the background
        events = Events(store, heartbeat_s=settings.events_heartbeat_s)
        follow_ups = FollowUps(store, events, settings)
        letters = Letters(store, model, memory, companion.admission, settings, persona.name)
        try:
            yield Samantha(settings, store, model, persona, companion, events, follow_ups, letters)
        finally:
            events.close()  # its streams end, and its watch
    finally:
        await companion.drain(STOP_LEARNING_S)
        await memory.close()
        await model.close()
        await store.close()


def _embedder(settings: Settings) -> Embedder | None:
    """The configured embedder; without its packages, recall goes on by words alone."""
    try:
        return load_embedder(settings.embedder, settings.embed_threads)
    except ConfigError as exc:
        log.warning("dense recall is off: %s", exc)
        return None
