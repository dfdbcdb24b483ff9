"""What the server is doing, for Prometheus: ``/metrics`` renders these.

Each running system has its own registry (tests run several at once). Only counts and
timings are kept: no names, no ids, nothing a person said.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# no `_created` twin of every counter: scrapers don't need them
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# replies on a CPU take seconds; HTTP requests take milliseconds
REPLY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connected_people = Gauge(
            "samantha_connected_people", "People with a stream open right now", registry=r
        )
        self.open_streams = Gauge(
            "samantha_open_streams", "Streams open right now, all people together", registry=r
        )
        self.queue_depth = Gauge(
            "samantha_queue_depth", "Replies waiting in line for a free reply slot", registry=r
        )
        self.slots = Gauge(
            "samantha_reply_slots", "Replies the model may generate at once", registry=r
        )
        self.slots_busy = Gauge(
            "samantha_reply_slots_busy", "Reply slots in use right now", registry=r
        )
        self.refused = Counter(
            "samantha_replies_refused",
            "Replies refused before they started (the message is kept), by reason: "
            "busy (the line is full) or too_many_replies (one person's limit)",
            ["reason"],
            registry=r,
        )
        for reason in ("busy", "too_many_replies"):
            self.refused.labels(reason)  # both series exist from the start, at zero
        self.queue_wait = Histogram(
            "samantha_queue_wait_seconds",
            "How long replies waited in line for a slot",
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.generating = Gauge(
            "samantha_replies_generating", "Replies streaming right now", registry=r
        )
        self.model_up = Gauge(
            "samantha_model_up", "1 while the language model is loaded and reachable", registry=r
        )
        self.turns = Counter(
            "samantha_turns", "Replies finished, by how they ended", ["outcome"], registry=r
        )
        self.tokens = Counter(
            "samantha_tokens",
            "Tokens: prompt (estimated from words) and reply (streamed pieces)",
            ["kind"],
            registry=r,
        )
        self.first_token = Histogram(
            "samantha_first_token_seconds",
            "From asking for a reply to its first token (its wait for a slot, recall and prompt "
            "reading included)",
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.reply_time = Histogram(
            "samantha_reply_seconds",
            "From asking for a reply to its last token",
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.crisis = Counter(
            "samantha_crisis_replies",
            "Replies that gave crisis lines instead of the model's words",
            registry=r,
        )
        self.errors = Counter(
            "samantha_errors", "Errors answered to clients, by error code", ["code"], registry=r
        )
        self.requests = Counter(
            "samantha_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_time = Histogram(
            "samantha_http_request_seconds",
            "HTTP time to the response's start, by route template",
            ["route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )

    def watch(self, connected: Callable[[], float], streams: Callable[[], float]) -> None:
        """Read presence when scraped, so the gauges are never stale."""
        self.connected_people.set_function(connected)
        self.open_streams.set_function(streams)

    def watch_slots(
        self, slots: int, busy: Callable[[], float], waiting: Callable[[], float]
    ) -> None:
        """Read the reply slots and their line when scraped."""
        self.slots.set(slots)
        self.slots_busy.set_function(busy)
        self.queue_depth.set_function(waiting)

    def render(self) -> bytes:
        return generate_latest(self.registry)
