"""The rules of the shared rate budget (tra_core.store.ratebudget.schedule).

The sliding rule never puts more than ``limit`` starts in one span, whatever the phase; the
aligned rule books against MyUnisoft's own fixed window from its ``X-Rate-Limit-Reset``. The
property test runs both against a model of MyUnisoft's window (``myunisoft-api.md`` §10, as the
emulator implements it: a window opens at the first request after the last one ended), with
latencies and a clock offset within the margin and the guard, and checks that no window of
MyUnisoft's ever counts more than the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from tra_core.store.ratebudget import BudgetRule, ServerWindow, schedule

SLIDING = BudgetRule(limit=3, window_ms=10_000)


def test_a_request_starts_now_while_the_window_has_room() -> None:
    kept, slot = schedule([1000, 2000], not_before_ms=3000, rule=SLIDING)
    assert (kept, slot) == ([1000, 2000], 3000)


def test_a_full_window_books_the_moment_its_oldest_start_leaves() -> None:
    kept, slot = schedule([5000, 1000, 3000], not_before_ms=6000, rule=SLIDING)
    assert (kept, slot) == ([3000, 5000], 11_000)


def test_a_request_never_starts_before_one_already_booked() -> None:
    kept, slot = schedule([1000, 12_000], not_before_ms=3000, rule=SLIDING)
    assert (kept, slot) == ([12_000], 12_000)


def test_starts_older_than_the_span_are_forgotten() -> None:
    kept, slot = schedule([1000, 2000, 3000], not_before_ms=11_500, rule=SLIDING)
    assert (kept, slot) == ([2000, 3000], 11_500)


RULE = BudgetRule(limit=3, window_ms=10_000, margin_ms=500, guard_ms=100)


def test_the_margin_widens_every_start_under_the_sliding_rule() -> None:
    _, slot = schedule([1000, 2000, 3000], not_before_ms=4000, rule=RULE)
    assert slot == 11_500


def test_a_known_reset_lets_the_next_window_start_at_its_edge() -> None:
    # MyUnisoft's window opened at 1,020 (first request, 20 ms on the way) and ends at 11,020;
    # all three requests were answered
    server = ServerWindow(reset_ms=11_020, answered=frozenset({1000, 2000, 3000}))
    kept, slot = schedule([1000, 2000, 3000], not_before_ms=4000, rule=RULE, server=server)
    assert slot == 11_120  # the reset and the guard, not the first start and the margin (11,500)
    assert kept == [1000, 2000, 3000]  # still needed: later starts count them by the sliding rule


def test_starts_near_the_edge_not_yet_answered_count_against_the_next_window() -> None:
    # The third request started 300 ms before the reset: answered, it was counted in the window
    # that ended; without an answer it may have landed after the reset, in the next one
    booked = [1000, 2000, 10_720, 11_120, 11_120]
    answered = ServerWindow(reset_ms=11_020, answered=frozenset({1000, 2000, 10_720}))
    pending = ServerWindow(reset_ms=11_020, answered=frozenset({1000, 2000}))
    assert schedule(booked, not_before_ms=11_200, rule=RULE, server=answered)[1] == 11_200
    assert schedule(booked, not_before_ms=11_200, rule=RULE, server=pending)[1] == 21_220  # sliding


def test_an_old_reset_grants_nothing() -> None:
    server = ServerWindow(reset_ms=11_020, answered=frozenset({1000, 2000, 3000}))
    _, slot = schedule([15_000, 16_000, 17_000], not_before_ms=18_000, rule=RULE, server=server)
    assert slot == 25_500  # past 11,020 + 10,000 the reset says nothing of the current window


@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=200), st.integers(1, 10))
def test_the_sliding_rule_never_puts_more_than_limit_starts_in_one_span(gaps: list[int], limit: int) -> None:
    # Given requests arriving with arbitrary gaps, each booking a start by the rule
    rule = BudgetRule(limit=limit, window_ms=1000)
    booked: list[int] = []
    starts: list[int] = []
    now = 0
    for gap in gaps:
        now += gap
        booked, slot = schedule(booked, now, rule)
        booked.append(slot)
        starts.append(slot)

    # Then no interval of length span holds more than limit starts, and no start waits needlessly
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s < start + rule.span_ms) <= limit
    assert starts == sorted(starts)


@dataclass
class _Sent:
    start: int
    arrival: int  # on MyUnisoft's clock
    answered_at: int  # on ours
    reset: int = 0  # the end of the window MyUnisoft counted it in


def _count_in_windows(sent: list[_Sent], window: int) -> list[int]:
    """MyUnisoft's fixed window: opens at the first arrival after the previous one ended."""
    counts: list[int] = []
    end: int | None = None
    for request in sorted(sent, key=lambda r: r.arrival):
        if end is None or request.arrival >= end:
            end = request.arrival + window
            counts.append(0)
        counts[-1] += 1
        request.reset = end
    return counts


def _known(sent: list[_Sent], now: int, window: int) -> ServerWindow | None:
    _count_in_windows(sent, window)  # each answer carries its window's end
    known = [r for r in sent if r.answered_at <= now]
    return ServerWindow(max(r.reset for r in known), frozenset(r.start for r in known)) if known else None


_request = st.tuples(
    st.integers(min_value=0, max_value=400),  # gap before the request wants to start
    st.integers(min_value=0, max_value=1000),  # latency, scaled into what the offset leaves
    st.integers(min_value=0, max_value=3000),  # time for the answer to come back
    st.integers(min_value=0, max_value=4000),  # how late the holder learns of answers
)


@given(
    st.lists(_request, min_size=1, max_size=120),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=-100, max_value=500),
)
def test_no_window_of_myunisoft_ever_counts_more_than_the_limit(
    requests: list[tuple[int, int, int, int]], limit: int, offset: int
) -> None:
    # Given MyUnisoft's clock `offset` ms ahead of ours (at most the guard behind), latencies within
    # the margin (offset included when ahead), and holders that learn of answers late
    rule = BudgetRule(limit=limit, window_ms=2000, margin_ms=500, guard_ms=100)
    sent: list[_Sent] = []
    booked: list[int] = []
    now = 0
    for gap, latency, answer_ms, lag in requests:
        now += gap
        booked, slot = schedule(booked, now, rule, _known(sent, now - lag, rule.window_ms))
        booked.append(slot)
        on_the_way = latency * (rule.margin_ms - max(offset, 0)) // 1000
        arrival = slot + offset + on_the_way
        sent.append(_Sent(slot, arrival, answered_at=slot + on_the_way + answer_ms))

    # Then MyUnisoft never counts more than the limit in one of its windows
    assert max(_count_in_windows(sent, rule.window_ms)) <= limit


def test_a_backlog_fills_myunisoft_s_window_when_its_resets_are_known() -> None:
    # Given a backlog: a worker books whenever the budget has room within 2 s (beyond, it sends its
    # messages back and looks again later, every 100 ms here); answers come 50 ms after the start
    rule = BudgetRule(limit=20, window_ms=10_000, margin_ms=500, guard_ms=100)
    sent: list[_Sent] = []
    booked: list[int] = []
    now = 0
    while len(sent) < 200:
        kept, slot = schedule(booked, now, rule, _known(sent, now, rule.window_ms))
        if slot - now > 2000:
            now += 100
            continue
        booked = [*kept, slot]
        sent.append(_Sent(slot, arrival=slot + 20, answered_at=slot + 50))

    # Then MyUnisoft counts the limit in every window, each opening just after the last closed
    assert _count_in_windows(sent, rule.window_ms) == [20] * 10
    assert sent[-1].start == 9 * (10_000 + 20 + 100)  # the latency and the guard per window, not the margin
