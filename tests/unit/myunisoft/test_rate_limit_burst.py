"""A burst of 50 calls through the client: all complete, at most 20 accepted per 10 s (simulated clock)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from emulator.app import EmulatorApp
from emulator.clock import ManualClock
from tra_core.myunisoft import MyUnisoftClient, UnlimitedRateLimiter

ClientFactory = Callable[..., MyUnisoftClient]


def _accepted_times(emulator: EmulatorApp) -> list[float]:
    return [float(r["at"]) for r in emulator.requests if r["status"] == 200]


def _max_in_sliding_window(times: list[float], window: float = 10.0) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def _max_in_fixed_windows(times: list[float], origin: float, window: float = 10.0) -> int:
    counts: dict[int, int] = {}
    for t in times:
        slot = int((t - origin) // window)
        counts[slot] = counts.get(slot, 0) + 1
    return max(counts.values())


def test_burst_paced_by_the_client_needs_no_429(
    client: MyUnisoftClient, emulator: EmulatorApp, clock: ManualClock
) -> None:
    # Given the client's own limiter (20 per 10 s) on the emulator's clock
    start = clock.now()

    # When 50 calls are made as fast as the client allows
    results = [client.list_diaries(2101) for _ in range(50)]

    # Then every call completed, MyUnisoft never had to refuse one, and no 10 s held more than 20
    assert len(results) == 50 and all(results)
    assert [r["status"] for r in emulator.requests].count(200) == 50
    assert all(r["status"] == 200 for r in emulator.requests)
    assert _max_in_sliding_window(_accepted_times(emulator)) <= 20
    assert clock.now() - start >= 20.0  # 50 calls need three windows


def test_burst_without_client_pacing_recovers_from_429(
    make_client: ClientFactory, emulator: EmulatorApp, clock: ManualClock
) -> None:
    # Given a client that only reacts to MyUnisoft's 429 answers
    client = make_client(rate_limiter=UnlimitedRateLimiter())
    start = clock.now()

    # When 50 calls are made
    results = [client.list_fiscal_years(2101) for _ in range(50)]

    # Then none is lost: refused calls waited for X-Rate-Limit-Reset and went through
    assert len(results) == 50 and all(results)
    statuses = [r["status"] for r in emulator.requests]
    assert statuses.count(200) == 50 and set(statuses) == {200, 429}
    assert _max_in_fixed_windows(_accepted_times(emulator), origin=start) <= 20


def test_concurrent_burst_from_threads(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # Given 5 threads sharing one client (and so one limiter)
    def call(_: Any) -> int:
        return len(client.list_diaries(2101))

    # When they make 50 calls between them
    with ThreadPoolExecutor(max_workers=5) as pool:
        results = list(pool.map(call, range(50)))

    # Then all 50 completed and the emulator accepted at most 20 in any 10 s
    assert len(results) == 50 and all(results)
    assert _max_in_sliding_window(_accepted_times(emulator)) <= 20
    assert [r["status"] for r in emulator.requests].count(200) == 50
