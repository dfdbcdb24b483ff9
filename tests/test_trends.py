"""Trends: rates per minute from the counters, kept for six hours at most."""

from __future__ import annotations

from samantha.metrics import Metrics
from samantha.trends import Trends


def test_samples_turn_counters_into_rates_and_keep_the_last_hours() -> None:
    metrics = Metrics()
    now = [1000.0]
    trends = Trends(metrics, keep=3, clock=lambda: now[0])
    first = trends.sample()
    assert (first.replies_per_min, first.first_token_s, first.connected) == (0.0, None, 0)

    people = {1, 2}
    metrics.watch(lambda: len(people), lambda: len(people))
    for outcome, seconds in (("complete", 1.0), ("complete", 3.0), ("interrupted", 2.0)):
        metrics.turns.labels(outcome).inc()
        metrics.first_token.observe(seconds)
    metrics.turns.labels("failed").inc()  # no reply: not counted
    now[0] += 30
    busy = trends.sample()
    assert busy.replies_per_min == 6.0  # three replies in half a minute
    assert busy.first_token_s == 2.0 and busy.connected == 2

    now[0] += 60
    quiet = trends.sample()
    assert (quiet.replies_per_min, quiet.first_token_s) == (0.0, None)
    now[0] += 60
    trends.sample()
    assert [s.at for s in trends.samples] == [1030.0, 1090.0, 1150.0]  # the oldest went
