"""Trends for the operator's page: a few figures sampled every minute over the last hours.

``/metrics`` holds counters since the server started; a chart wants rates over time. This
keeps one sample a minute for six hours (360 small records) in the server process. Like
the counters it reads, it starts empty at each start; Prometheus is the place for more.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from samantha.metrics import Metrics

EVERY_S = 60.0
KEEP = 360


@dataclass(frozen=True)
class Sample:
    at: float  # unix seconds
    connected: int  # people with a stream open
    replies_per_min: float  # replies that ended (complete or cut off) in the last interval
    first_token_s: float | None  # mean time to first token then; None if no reply began


@dataclass(frozen=True)
class _Reading:
    at: float
    replies: float
    first_token_sum: float
    first_token_count: float


class Trends:
    def __init__(
        self,
        metrics: Metrics,
        *,
        every_s: float = EVERY_S,
        keep: int = KEEP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metrics, self.every_s, self.clock = metrics, every_s, clock
        self.samples: deque[Sample] = deque(maxlen=keep)
        self._last: _Reading | None = None

    def _read(self) -> _Reading:
        value = self.metrics.registry.get_sample_value
        replies = sum(
            value("samantha_turns_total", {"outcome": outcome}) or 0.0
            for outcome in ("complete", "interrupted")
        )
        return _Reading(
            at=self.clock(),
            replies=replies,
            first_token_sum=value("samantha_first_token_seconds_sum") or 0.0,
            first_token_count=value("samantha_first_token_seconds_count") or 0.0,
        )

    def sample(self) -> Sample:
        """Take one sample: the rates since the last one (zero for the first)."""
        now = self._read()
        last = self._last or now
        minutes = max(now.at - last.at, 1e-9) / 60
        began = now.first_token_count - last.first_token_count
        connected = self.metrics.registry.get_sample_value("samantha_connected_people") or 0
        sample = Sample(
            at=round(now.at, 3),
            connected=int(connected),
            replies_per_min=round((now.replies - last.replies) / minutes, 3),
            first_token_s=(
                round((now.first_token_sum - last.first_token_sum) / began, 4) if began else None
            ),
        )
        self._last = now
        self.samples.append(sample)
        return sample

    async def run(self) -> None:
        """Sample now and then every ``every_s`` seconds, until cancelled."""
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)
