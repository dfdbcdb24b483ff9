"""A person's memory, in their hands: list, search, see the source, correct, forget."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from samantha.store import MemoryKind, MemoryRecord
from samantha.web.deps import CurrentPerson, System
from samantha.web.schemas import (
    BeforeId,
    CorrectMemory,
    ItemId,
    MemoryDetail,
    MemoryOut,
    MessageOut,
    RecalledOut,
)

router = APIRouter(prefix="/v1/memories", tags=["memory"])


@router.get("")
async def list_memories(
    person: CurrentPerson,
    sam: System,
    kind: MemoryKind | None = None,
    include_superseded: bool = False,
    before: BeforeId = None,
    limit: int = Query(100, ge=1, le=500),
) -> list[MemoryOut]:
    """What she remembers about you, newest first."""
    await sam.memory.learn(person.id, person.name)  # include what was said a moment ago
    found = await sam.store.memories(
        person.id, kind=kind, include_superseded=include_superseded, limit=limit, before_id=before
    )
    return [MemoryOut.of(m) for m in found]


@router.get("/search")
async def search(
    person: CurrentPerson,
    sam: System,
    q: str = Query(min_length=1, max_length=1000),
    k: int = Query(10, ge=1, le=50),
) -> list[RecalledOut]:
    """Recall as she does in conversation: the turns that best answer ``q``, with memories."""
    await sam.memory.learn(person.id, person.name)
    found = await sam.memory.recall(
        person.id, q, k=k, today=sam.companion.today(), speakers=sam.companion.speakers(person)
    )
    return [RecalledOut.of(r) for r in found]


@router.get("/{memory_id}")
async def show(memory_id: ItemId, person: CurrentPerson, sam: System) -> MemoryDetail:
    """One memory with the messages it came from."""
    record = await sam.store.memory(person.id, memory_id)
    return await _detail(sam, person.id, record)


@router.patch("/{memory_id}")
async def correct(
    memory_id: ItemId, body: CorrectMemory, person: CurrentPerson, sam: System
) -> MemoryDetail:
    """Put it right: the corrected memory replaces the old one, which is kept as superseded."""
    record = await sam.memory.correct(person.id, memory_id, body.text.strip())
    return await _detail(sam, person.id, record)


@router.delete("/{memory_id}", status_code=204)
async def forget(memory_id: ItemId, person: CurrentPerson, sam: System) -> Response:
    """Forget it: the memory goes, and its source words are never recalled again."""
    await sam.store.forget_memory(person.id, memory_id)
    return Response(status_code=204)


async def _detail(sam: System, person_id: int, record: MemoryRecord) -> MemoryDetail:
    sources = await sam.memory.sources(person_id, record)
    return MemoryDetail(memory=MemoryOut.of(record), sources=[MessageOut.of(m) for m in sources])
