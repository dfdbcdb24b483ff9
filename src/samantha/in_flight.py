"""Replies in flight: counted from the moment one is asked for until it is stored, so a
departure (or anything else that must not cut a reply short) can wait for them to land."""

from __future__ import annotations

import asyncio


class InFlight:
    def __init__(self) -> None:
        self.count = 0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def took_off(self) -> None:
        self.count += 1
        self._quiet.clear()

    def landed(self) -> None:
        self.count = max(0, self.count - 1)
        if not self.count:
            self._quiet.set()

    async def until_quiet(self, longest: float) -> bool:
        """Wait at most ``longest`` seconds for every reply in flight to be stored; say
        whether they all were (a reply nobody reads never lands, hence the limit)."""
        try:
            await asyncio.wait_for(self._quiet.wait(), longest)
        except TimeoutError:
            return False
        return True
