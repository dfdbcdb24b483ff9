"""The garbage collector's policy for long-lived, object-heavy processes (issue 4)."""

from __future__ import annotations

import gc

from samantha import pauses


class Knot:
    """An object in a cycle with itself: only the collector can free it."""

    freed = 0

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        Knot.freed += 1


def test_settled_collects_the_young_generation_seldom_and_then_puts_things_back() -> None:
    before = gc.get_threshold()
    with pauses.settled():
        assert gc.get_threshold() == (pauses.YOUNG, *pauses.OLDER)
        assert gc.get_freeze_count() > 0  # what was there before is set aside
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_garbage_in_cycles_is_still_collected_without_being_asked() -> None:
    """Cycles count towards the young threshold, so they do not pile up for ever: at
    most about ``YOUNG`` objects wait to be collected."""
    Knot.freed = 0
    with pauses.settled():
        for _ in range(3 * pauses.YOUNG):
            Knot()
        assert Knot.freed >= pauses.YOUNG  # no gc.collect() was called
    gc.collect()
    assert Knot.freed == 3 * pauses.YOUNG
