"""The embedded model: llama.cpp in-process through ``xllamacpp``, with parallel slots.

llama.cpp's server core batches every running request into one forward pass (continuous
batching), so concurrent conversations share the model instead of queueing behind each
other. Its call blocks, so each stream runs on a worker thread and hands chunks to the
event loop; returning ``True`` from the chunk callback stops generation, which is how a
client that went away stops costing tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from samantha.config import Settings
from samantha.errors import ModelError, ModelUnavailable, SamanthaError
from samantha.llm import catalog
from samantha.llm.base import LLM, ChatMessage
from samantha.llm.registry import register_provider

log = logging.getLogger(__name__)
_END = object()
CACHE_REUSE = 16  # tokens: the least run of a cached prompt worth shifting rather than reading


class EmbeddedLLM(LLM):
    provider = "embedded"

    def __init__(self, model: str, settings: Settings) -> None:
        super().__init__(model)
        self.settings = settings
        self.path: Path | None = None
        self.error: str | None = None
        self._server: Any = None
        self._pool = ThreadPoolExecutor(
            max_workers=settings.llm_parallel * 2, thread_name_prefix="llama"
        )
        self._lock = asyncio.Lock()
        self._last_try = 0.0
        self._active = 0
        self._idle: asyncio.Event | None = None

    def _params(self, path: Path) -> Any:
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_parallel = self.settings.llm_parallel
        params.n_ctx = self.settings.llm_ctx * self.settings.llm_parallel
        params.cpuparams.n_threads = self.settings.threads
        params.cpuparams_batch.n_threads = self.settings.threads
        # threads sleep between batches instead of spinning for the next: with two cores,
        # a spinning model starves speech, the web server and the other slots' callers
        params.cpuparams.poll = params.cpuparams_batch.poll = 0
        # a turn's prompt drops the last turn's context note, which sat before their words:
        # the slot's cache then matches only up to there, and the words and her reply after
        # it (50-100 tokens, 1-2 s on two cores) were read again. Chunks of at least this
        # many tokens that the cache still holds further on are shifted into place instead
        params.n_cache_reuse = CACHE_REUSE
        params.verbosity = -1
        params.port = 0  # llama.cpp also listens on loopback; lock it with a key nobody has
        params.api_keys = [secrets.token_urlsafe(24)]
        return params

    def _load(self) -> Any:
        import xllamacpp

        self.path = catalog.resolve(self.model, self.settings.model_dir)
        try:
            return xllamacpp.Server(self._params(self.path))
        except RuntimeError as exc:
            raise ModelUnavailable(f"llama.cpp could not load {self.path}: {exc}") from exc

    async def start(self) -> None:
        async with self._lock:
            if self._server is not None:
                return
            if self.error and time.monotonic() - self._last_try < self.settings.retry_after_s:
                return
            self._last_try = time.monotonic()
            try:
                self._server = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._load
                )
                self.error = None
                log.info("embedded model %s loaded from %s", self.model, self.path)
            except SamanthaError as exc:
                self.error = str(exc)
                log.error("embedded model unavailable: %s", exc)

    async def close(self) -> None:
        self._server = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def available(self) -> bool:
        return self._server is not None

    @property
    def parallel(self) -> int:
        return self.settings.llm_parallel

    @property
    def generating(self) -> int:
        """How many replies are being generated right now."""
        return self._active

    def _quiet(self) -> asyncio.Event:
        if self._idle is None:
            self._idle = asyncio.Event()
            self._idle.set()
        return self._idle

    async def until_idle(self, longest: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet().wait(), longest)

    async def warm(self, prefix: Sequence[ChatMessage]) -> None:
        """Read ``prefix`` into every parallel slot, so no first conversation pays for it.

        Each slot keeps its own cache; without this, the first turn on each slot reads the
        whole persona (seconds on a CPU) while a warm slot reads only the new words.
        """
        if self._server is None:
            return
        await asyncio.gather(
            *(
                self.complete([*prefix, ChatMessage("user", f"({slot})")], max_tokens=1)
                for slot in range(self.settings.llm_parallel)
            )
        )

    async def read_ahead(self, messages: Sequence[ChatMessage]) -> None:
        """Read ``messages`` into one slot (llama.cpp gives the next prompt that starts the
        same way to the slot holding the longest match), and the opening of the person's
        next message: an empty one renders as its role's header and an end, so the header
        is read here and only their words and her own header are left for the reply."""
        if self._server is not None:
            await self.complete([*messages, ChatMessage("user", "")], max_tokens=1)

    @property
    def engine(self) -> Any:
        """The llama.cpp server object, for benchmarks that call it directly."""
        return self._server

    async def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> AsyncIterator[str]:
        if self._server is None:
            await self.start()
        server = self._server
        if server is None:
            raise ModelUnavailable(self.error or "the embedded model is not loaded")
        request = {
            "messages": [m.as_dict() for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "cache_prompt": True,
        }
        if json_schema is not None:
            request["response_format"] = {"type": "json_object", "schema": json_schema}
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except RuntimeError:  # the loop is gone; stop generating
                return True
            return stop.is_set()

        def run() -> None:
            server.handle_chat_completions(request, on_chunk)

        future = loop.run_in_executor(self._pool, run)
        future.add_done_callback(lambda _: queue.put_nowait(_END))
        self._active += 1
        self._quiet().clear()
        try:
            while (chunk := await queue.get()) is not _END:
                if "timings" in chunk:  # how much of the prompt the slot's cache held
                    t = chunk["timings"]
                    log.debug(
                        "prompt: %s tokens cached, %s read in %.0f ms; %s generated",
                        t.get("cache_n"),
                        t.get("prompt_n"),
                        t.get("prompt_ms", 0),
                        t.get("predicted_n"),
                    )
                if "choices" not in chunk:
                    raise ModelError(f"llama.cpp error: {chunk.get('error', chunk)}")
                for choice in chunk["choices"]:
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
            if future.exception() is not None:
                raise ModelError(f"llama.cpp failed: {future.exception()}")
        finally:
            stop.set()  # seen at llama.cpp's next token (a prompt being read is read to its end)
            try:
                # its slot is free only then: a request sent before would find it busy and go
                # to another slot, which holds none of this conversation and reads it all again
                await asyncio.wait((future,))
            finally:
                self._active -= 1
                if self._active == 0:
                    self._quiet().set()


def register() -> None:
    register_provider("embedded", EmbeddedLLM)
