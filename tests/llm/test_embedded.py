from __future__ import annotations

import asyncio

from samantha.errors import ModelUnavailable
from samantha.llm import ChatMessage, load_llm
from samantha.llm.embedded import EmbeddedLLM
from tests.conftest import make_settings

HELLO = [ChatMessage("system", "You are kind."), ChatMessage("user", "Say hello to Theo.")]


async def test_the_small_model_really_streams(small_model: EmbeddedLLM) -> None:
    pieces = [p async for p in small_model.stream(HELLO, max_tokens=16, temperature=0.0)]
    assert len(pieces) > 3
    assert "".join(pieces).strip()


async def test_parallel_slots_serve_concurrent_streams(small_model: EmbeddedLLM) -> None:
    async def one(i: int) -> str:
        prompt = [ChatMessage("user", f"Count from {i} to {i + 5}.")]
        return await small_model.complete(prompt, max_tokens=24, temperature=0.0)

    replies = await asyncio.gather(*(one(i) for i in range(4)))
    assert all(r.strip() for r in replies)


async def test_closing_a_stream_stops_generation(small_model: EmbeddedLLM) -> None:
    stream = small_model.stream(HELLO, max_tokens=400, temperature=0.0)
    await anext(aiter(stream))
    await stream.aclose()  # type: ignore[attr-defined]
    assert small_model.generating == 0
    # the slot is free again: a short request completes after the early close
    assert await small_model.complete(HELLO, max_tokens=4)


async def test_a_closed_stream_leaves_its_slot_holding_the_conversation(
    small_model: EmbeddedLLM,
) -> None:
    """Closing a stream waits until llama.cpp has let its slot go: asked again at once,
    the same conversation goes to that slot and reads nothing of what it holds (sent while
    the slot was still busy, it went to another and read it all again)."""
    long = [ChatMessage("system", "You are kind and you listen well. " * 60), *HELLO[1:]]
    await small_model.complete(long, max_tokens=1)
    for _ in range(3):
        stream = small_model.stream(long, max_tokens=400, temperature=0.0)
        await anext(aiter(stream))
        await stream.aclose()  # type: ignore[attr-defined]
        request = {"messages": [m.as_dict() for m in long], "max_tokens": 1}
        answer = await asyncio.to_thread(small_model.engine.handle_chat_completions, request)
        assert answer["timings"]["prompt_n"] <= 2  # all but the last token read from its slot


async def test_reading_ahead_reads_the_header_of_their_next_message_too(
    small_model: EmbeddedLLM,
) -> None:
    """Read ahead, a slot holds the conversation at rest and the header of the person's
    next message: the reply reads fewer tokens than after reading the conversation alone
    (its own header is all that is left beside their words)."""
    said = ChatMessage("user", "Tell me about the sea tonight, please.")

    async def read_for_reply(at_rest: list[ChatMessage]) -> int:
        request = {"messages": [m.as_dict() for m in [*at_rest, said]], "max_tokens": 1}
        answer = await asyncio.to_thread(small_model.engine.handle_chat_completions, request)
        timings: dict[str, int] = answer["timings"]
        return timings["prompt_n"]

    alone = [ChatMessage("system", "You are kind and you listen well. " * 20)]
    await small_model.complete(alone, max_tokens=1)  # the conversation alone, as before
    ahead = [ChatMessage("system", "You are calm and you speak softly. " * 20)]
    await small_model.read_ahead(ahead)
    assert await read_for_reply(ahead) + 2 <= await read_for_reply(alone)


async def test_missing_model_is_an_outage_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    llm = load_llm("embedded:/nonexistent/model.gguf", make_settings(tmp_path))
    await llm.start()
    assert not llm.available
    try:
        stream = llm.stream(HELLO, max_tokens=4, temperature=0.0)
        await anext(aiter(stream))
        raise AssertionError("expected ModelUnavailable")
    except ModelUnavailable as exc:
        assert "does not exist" in str(exc)
    finally:
        await llm.close()


async def test_background_work_waits_for_replies_to_finish(small_model: EmbeddedLLM) -> None:
    assert small_model.generating == 0
    stream = small_model.stream(HELLO, max_tokens=200, temperature=0.0)
    await anext(aiter(stream))
    assert small_model.generating == 1
    waiter = asyncio.create_task(small_model.until_idle(600))
    await asyncio.sleep(0.05)
    assert not waiter.done()  # background work holds back while a reply is generated
    await stream.aclose()  # type: ignore[attr-defined]
    await waiter  # and goes ahead as soon as it is done
    assert small_model.generating == 0
