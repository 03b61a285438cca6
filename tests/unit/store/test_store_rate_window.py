"""The rule of the shared rate budget: at most ``limit`` starts in any span, whatever the phase."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tra_core.store.ratebudget import admit


def test_a_request_may_start_while_the_window_has_room() -> None:
    recent, until = admit([1000, 2000], now_ms=3000, limit=3, span_ms=10_000)
    assert (recent, until) == ([1000, 2000], None)


def test_a_full_window_says_when_the_oldest_start_leaves_it() -> None:
    recent, until = admit([5000, 1000, 3000], now_ms=6000, limit=3, span_ms=10_000)
    assert (recent, until) == ([1000, 3000, 5000], 11_000)


def test_starts_older_than_the_span_are_forgotten() -> None:
    recent, until = admit([1000, 2000, 3000], now_ms=11_500, limit=3, span_ms=10_000)
    assert (recent, until) == ([2000, 3000], None)


@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=200), st.integers(1, 10))
def test_the_rule_never_puts_more_than_limit_starts_in_one_span(
    gaps: list[int], limit: int
) -> None:
    # Given requests arriving with arbitrary gaps, each starting as soon as the rule allows
    span = 1000
    starts: list[int] = []
    now = 0
    for gap in gaps:
        now += gap
        _, until = admit(starts, now, limit, span)
        now = max(now, until or now)
        starts.append(now)

    # Then no interval of length span holds more than limit starts
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < start + span) <= limit
