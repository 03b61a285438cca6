"""The in-process rate limiter: sliding window, per-route concurrency, server headers."""

from __future__ import annotations

import threading

import pytest

from tra_core.myunisoft.ratelimit import (
    InProcessRateLimiter,
    RateLimiter,
    UnlimitedRateLimiter,
    parse_rate_limit_headers,
)


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_parse_headers_reads_any_letter_case_and_fractional_reset() -> None:
    # Given the headers of a 2020 Postman example, lower-cased as newer answers send them
    headers = {
        "x-rate-limit-remaining": "9",
        "X-RATE-LIMIT-RESET": "1591814020.330864",
        "x-rate-limit-total": "10",
    }

    # When they are parsed
    info = parse_rate_limit_headers(headers)

    # Then the absolute reset time keeps its fraction
    assert info is not None
    assert (info.total, info.remaining, info.reset_at) == (10, 9, 1591814020.330864)
    assert parse_rate_limit_headers({"content-type": "application/json"}) is None


def test_both_limiters_satisfy_the_protocol() -> None:
    assert isinstance(InProcessRateLimiter(), RateLimiter)
    assert isinstance(UnlimitedRateLimiter(), RateLimiter)


def test_no_more_than_the_limit_starts_in_any_window() -> None:
    # Given a limiter of 20 per 10 s on a simulated clock
    clock = FakeClock()
    limiter = InProcessRateLimiter(limit=20, window_s=10.0, clock=clock, sleep=clock.sleep)

    # When 50 requests go through one after the other
    starts = []
    for _ in range(50):
        limiter.acquire("/api/v1/diary")
        starts.append(clock.now)
        limiter.release("/api/v1/diary")

    # Then every request started, never more than 20 in a 10-second window
    assert len(starts) == 50
    for first in starts:
        assert sum(1 for t in starts if first <= t < first + 10.0) <= 20
    assert clock.now == pytest.approx(1_020.0)


def test_server_reports_no_budget_left_so_the_next_start_waits_for_reset() -> None:
    # Given another process spent the key's budget: MyUnisoft says 0 remaining until t+4
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire("/api/v1/society")
    limiter.observe(
        "/api/v1/society", {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(clock.now + 4.0)}
    )
    limiter.release("/api/v1/society")

    # When the next request asks to start
    limiter.acquire("/api/v1/diary")

    # Then it waited until the reset
    assert clock.sleeps == [pytest.approx(4.0)]


def test_a_reset_far_in_the_future_is_capped_to_one_window() -> None:
    # Given a server clock one hour ahead of ours
    clock = FakeClock()
    limiter = InProcessRateLimiter(window_s=10.0, clock=clock, sleep=clock.sleep)
    limiter.observe("/r", {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(clock.now + 3600)})

    # When a request starts
    limiter.acquire("/r")

    # Then it waited one window, not one hour
    assert sum(clock.sleeps) == pytest.approx(10.0)


def test_concurrency_is_limited_per_route() -> None:
    # Given a limiter allowing 2 concurrent calls per route, with 2 calls in flight on /a
    limiter = InProcessRateLimiter(max_concurrent=2)
    limiter.acquire("/a")
    limiter.acquire("/a")
    limiter.acquire("/b")  # another route is not held back
    started = threading.Event()

    def third() -> None:
        limiter.acquire("/a")
        started.set()

    # When a third call on /a asks to start
    worker = threading.Thread(target=third)
    worker.start()

    # Then it waits until one of the first two finishes
    assert not started.wait(0.05)
    limiter.release("/a")
    assert started.wait(2.0)
    worker.join()


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        InProcessRateLimiter(limit=0)
