"""The shared request budget on DynamoDB Local: concurrent users of one key stay under its limit."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from tests.support.fixtures import Stack
from tra_core.store.errors import RateBudgetBusy
from tra_core.store.ratebudget import DynamoDBRateBudget

pytestmark = pytest.mark.integration


def _budget(
    stack: Stack, budget_id: str, sleep: Callable[[float], None] = time.sleep, **options: float
) -> DynamoDBRateBudget:
    # Each instance stands for one Lambda: it shares nothing with the others but the table.
    return DynamoDBRateBudget(
        stack.session.client("dynamodb"),
        stack.ref("StateTable"),
        budget_id,
        limit=int(options.get("limit", 20)),
        window_s=options.get("window_s", 0.5),
        margin_s=options.get("margin_s", 0.05),
        max_wait_s=options.get("max_wait_s", 30.0),
        sleep=sleep,
    )


def test_concurrent_users_of_one_key_never_exceed_its_limit(stack: Stack) -> None:
    # Given four users of one key, each with its own view of the budget (20 requests per 0.5 s);
    # each records when the budget lets its request start (the time its sleep ends), which is
    # what the budget decides, free of the thread-scheduling delays of a busy machine
    limit, window = 20, 0.5
    starts: list[float] = []
    lock = threading.Lock()
    local = threading.local()

    def sleep_until_start(delay: float) -> None:
        local.start = time.time() + delay
        time.sleep(delay)

    def work() -> None:
        budget = _budget(stack, "sha256:shared", sleep_until_start, limit=limit, window_s=window)
        for _ in range(30):
            local.start = None
            budget.acquire("/api/v1/account")
            with lock:
                starts.append(local.start or time.time())
        with lock:
            conflicts.append(budget.conflicts)

    conflicts: list[int] = []
    # When they all take 30 requests' worth of budget at once
    began = time.time()
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - began

    # Then no interval of one window ever saw more than the limit
    starts.sort()
    assert len(starts) == 120
    busiest = max(sum(1 for s in starts[i:] if s < start + window) for i, start in enumerate(starts))
    assert busiest <= limit
    # And the users really competed for one budget (a measurement, not a check, for the time:
    # 120 requests at 20 per 0.5 s need 2.5 s at best)
    assert sum(conflicts) > 0
    print(f"\nshared budget: 120 requests in {elapsed:.2f} s (2.5 s at best), busiest window {busiest}")


def test_two_keys_have_two_budgets(stack: Stack) -> None:
    # Given one key whose budget is spent (a few seconds allowed for the booking writes of a busy
    # machine: the next free start is 30 s away, far beyond them)
    spent = _budget(stack, "sha256:first", limit=3, window_s=30.0, max_wait_s=5.0)
    for _ in range(3):
        spent.acquire("/api/v1/diary")

    # Then that key must wait for its window (longer than allowed), while another key goes ahead
    with pytest.raises(RateBudgetBusy):
        _budget(stack, "sha256:first", limit=3, window_s=30.0, max_wait_s=5.0).acquire("/api/v1/diary")
    other = _budget(stack, "sha256:second", limit=3, window_s=30.0, max_wait_s=5.0)
    other.acquire("/api/v1/diary")


def test_a_worker_asks_how_long_a_key_is_booked_without_booking(stack: Stack) -> None:
    # Given one worker that spent a key's budget (3 requests per 30 s; a margin of 2 s lets a
    # booking write of a loaded machine take up to 1 s without being made again)
    key = f"sha256:asked-{uuid.uuid4().hex}"  # the table outlives one run of the test
    spender = _budget(stack, key, limit=3, window_s=30.0, margin_s=2.0, max_wait_s=5.0)
    for _ in range(3):
        spender.acquire("/api/v1/TRA/partial")

    # When another worker (another process: it knows nothing yet) asks how long the key is booked
    asker = _budget(stack, key, limit=3, window_s=30.0, margin_s=2.0, max_wait_s=5.0)
    first, second = asker.wait_s(), asker.wait_s()

    # Then it learns the window's end (about 32 s away, margin included), twice, and asking booked
    # nothing: a key with room answers 0, and keeps every place
    assert 25.0 < second <= first <= 32.05
    assert spender.wait_s() == pytest.approx(first, abs=1.0)
    assert asker.conflicts == 0
    fresh = _budget(stack, f"{key}-free", limit=3, window_s=30.0, margin_s=2.0, max_wait_s=5.0)
    assert fresh.wait_s() == 0.0
    for _ in range(3):
        fresh.acquire("/api/v1/TRA/partial")  # all three places were still free


def test_myunisoft_saying_the_window_is_spent_holds_the_next_request(stack: Stack) -> None:
    # Given MyUnisoft answered that the key's window is spent (another program uses the key too)
    budget = _budget(stack, "sha256:observed", limit=20, window_s=1.0, max_wait_s=5.0)
    reset_at = time.time() + 0.4
    budget.observe(
        "/api/v1/account", {"X-Rate-Limit-Remaining": "0", "x-rate-limit-reset": f"{reset_at:.6f}"}
    )

    # When the next request asks for the budget
    budget.acquire("/api/v1/account")

    # Then it started only after MyUnisoft's reset
    assert time.time() >= reset_at
