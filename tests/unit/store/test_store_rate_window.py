"""The rule of the shared rate budget: at most ``limit`` starts in any span, whatever the phase."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tra_core.store.ratebudget import schedule


def test_a_request_starts_now_while_the_window_has_room() -> None:
    kept, slot = schedule([1000, 2000], not_before_ms=3000, limit=3, span_ms=10_000)
    assert (kept, slot) == ([1000, 2000], 3000)


def test_a_full_window_books_the_moment_its_oldest_start_leaves() -> None:
    kept, slot = schedule([5000, 1000, 3000], not_before_ms=6000, limit=3, span_ms=10_000)
    assert (kept, slot) == ([3000, 5000], 11_000)


def test_a_request_never_starts_before_one_already_booked() -> None:
    kept, slot = schedule([1000, 12_000], not_before_ms=3000, limit=3, span_ms=10_000)
    assert (kept, slot) == ([12_000], 12_000)


def test_starts_older_than_the_span_are_forgotten() -> None:
    kept, slot = schedule([1000, 2000, 3000], not_before_ms=11_500, limit=3, span_ms=10_000)
    assert (kept, slot) == ([2000, 3000], 11_500)


@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=200), st.integers(1, 10))
def test_the_rule_never_puts_more_than_limit_starts_in_one_span(gaps: list[int], limit: int) -> None:
    # Given requests arriving with arbitrary gaps, each booking a start by the rule
    span = 1000
    booked: list[int] = []
    starts: list[int] = []
    now = 0
    for gap in gaps:
        now += gap
        booked, slot = schedule(booked, now, limit, span)
        booked.append(slot)
        starts.append(slot)

    # Then no interval of length span holds more than limit starts, and no start waits needlessly
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < start + span) <= limit
    assert starts == sorted(starts)
