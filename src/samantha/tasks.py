"""Waiting for background work within a limit, and stopping what is left: a stopping
server waits so long for learning and counting, then stops them where they are."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

Tasks = list[asyncio.Task[Any]]


async def finished(
    busy: Callable[[], Iterable[asyncio.Task[Any] | None]], longest: float | None
) -> Tasks:
    """Wait until none of the tasks ``busy()`` gives is running, for ``longest`` seconds at
    most (without it, as long as that takes); the tasks still running then."""
    loop = asyncio.get_running_loop()
    deadline = None if longest is None else loop.time() + longest
    while running := [t for t in busy() if t is not None and not t.done()]:
        left = None if deadline is None else deadline - loop.time()
        if left is not None and left <= 0:
            return running
        await asyncio.wait(running, timeout=left)
    return []


def retrieved(future: asyncio.Future[Any]) -> None:
    """A done callback for a future whose error may go unawaited (its caller left):
    asyncio then logs "exception was never retrieved"; the error is still raised to
    whoever awaits it."""
    if not future.cancelled():
        future.exception()


async def stop(tasks: Tasks) -> None:
    """Cancel ``tasks`` and wait until each has ended."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
