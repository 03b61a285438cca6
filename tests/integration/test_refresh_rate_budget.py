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
        share=options.get("share", 1.0),
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


def _grants(stack: Stack, budget_id: str) -> list[int]:
    item = stack.session.client("dynamodb").get_item(
        TableName=stack.ref("StateTable"),
        Key={"PK": {"S": f"LIMIT#{budget_id}"}, "SK": {"S": "WINDOW"}},
        ConsistentRead=True,
    )["Item"]
    return [int(g["N"]) for g in item["grants"]["L"]]


def test_a_reserved_start_is_the_one_the_next_request_takes(stack: Stack) -> None:
    # Given a worker that reserves its upload's start before it claims the entries
    key = f"sha256:reserved-{uuid.uuid4().hex}"
    budget = _budget(stack, key, limit=3, window_s=30.0, margin_s=2.0, max_wait_s=5.0)
    assert budget.reserve(2.0) == 0.0

    # When its request asks for the budget, then it takes that start: one place booked, not two
    budget.acquire("/api/v1/TRA/partial")
    assert len(_grants(stack, key)) == 1

    # And once the key is spent, a reservation books nothing and says how long the key is booked
    budget.acquire("/api/v1/TRA/partial")
    budget.acquire("/api/v1/TRA/partial")
    wait = budget.reserve(2.0)
    assert 25.0 < wait <= 32.05
    assert len(_grants(stack, key)) == 3


def test_myunisoft_s_reset_reaches_the_other_holders_and_opens_its_next_window_early(stack: Stack) -> None:
    # Given a holder that made three requests (3 per 3 s, margin 1 s) and heard MyUnisoft's answers:
    # its window ends 3 s after the first start (the first request reached it at once)
    key = f"sha256:aligned-{uuid.uuid4().hex}"
    holder = _budget(stack, key, limit=3, window_s=3.0, margin_s=1.0, max_wait_s=10.0)
    for _ in range(3):
        holder.acquire("/api/v1/TRA/partial")
        first = _grants(stack, key)[0] / 1000
        holder.observe(
            "/api/v1/TRA/partial", {"X-Rate-Limit-Remaining": "1", "X-Rate-Limit-Reset": f"{first + 3:.6f}"}
        )

    # When another holder (another process) asks how long the key is booked
    other = _budget(stack, key, limit=3, window_s=3.0, margin_s=1.0, max_wait_s=10.0)
    wait = other.wait_s()

    # Then it books by MyUnisoft's window (its end plus the 0.1 s guard), which the holder wrote
    # with its bookings, not by the sliding rule (the first start plus window and margin: 4 s)
    assert other.wait_s() <= wait <= first + 3.1 - time.time() + 0.05

    # But work of lower priority (a share of the budget: read-backs) keeps to the sliding rule,
    # counting every start of the preceding window, so a backlog's uploads keep the windows they fill
    low = _budget(stack, key, limit=3, window_s=3.0, margin_s=1.0, max_wait_s=10.0, share=0.67)
    assert low.wait_s() >= first + 4.0 - time.time() - 0.05


def test_a_reservation_used_too_late_gives_its_place_back(stack: Stack) -> None:
    # Given a worker that reserved a start and took longer than half the margin to use it
    key = f"sha256:late-{uuid.uuid4().hex}"
    now = [time.time()]
    budget = DynamoDBRateBudget(
        stack.session.client("dynamodb"),
        stack.ref("StateTable"),
        key,
        limit=3,
        window_s=30.0,
        margin_s=1.0,
        max_wait_s=5.0,
        clock=lambda: now[0],
        sleep=lambda s: None,
    )
    assert budget.reserve(2.0) == 0.0
    reserved = _grants(stack, key)
    now[0] += 2.0

    # When its request asks for the budget
    budget.acquire("/api/v1/TRA/partial")

    # Then it books a new start and the unused one is gone from the log: still one place taken
    booked = _grants(stack, key)
    assert len(booked) == 1 and booked != reserved and budget.late_bookings == 1
