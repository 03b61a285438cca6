"""A function runs in several sandboxes at once, up to its concurrency, as Lambda scales it."""

from __future__ import annotations

import io
import os
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.host import FunctionHost, InvokeError
from local.pool import FunctionPool

# ``gather`` proves overlap without a clock: each invocation drops a file named after its process
# and waits until ``expected`` such files exist. Invocations run one after another would never see
# the others' files (the first one gives up and says so).
HANDLERS = textwrap.dedent(
    """
    import os, pathlib, time

    def gather(event, context):
        folder = pathlib.Path(event["folder"])
        (folder / f"{os.getpid()}-{event['n']}").touch()
        deadline = time.monotonic() + event["patience"]
        while time.monotonic() < deadline:
            if len(list(folder.iterdir())) >= event["expected"]:
                return {"pid": os.getpid(), "met": True}
            time.sleep(0.01)
        return {"pid": os.getpid(), "met": False}

    def crowd(event, context):
        # How many invocations are in the handler together, counted while this one holds on.
        folder = pathlib.Path(event["folder"])
        mine = folder / f"{os.getpid()}-{event['n']}"
        mine.touch()
        seen = 0
        deadline = time.monotonic() + event["hold"]
        while time.monotonic() < deadline:
            seen = max(seen, len(list(folder.iterdir())))
            time.sleep(0.01)
        mine.unlink()
        return {"pid": os.getpid(), "seen": seen}

    def pid(event, context):
        print("pid", os.getpid())
        return os.getpid()
    """
)


@pytest.fixture
def code(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "pool_handlers.py").write_text(HANDLERS, encoding="utf-8")
    return folder


@pytest.fixture
def pools() -> Iterator[list[FunctionPool]]:
    started: list[FunctionPool] = []
    yield started
    for pool in started:
        pool.stop()


def _pool(code: Path, handler: str, size: int, pools: list[FunctionPool], **options: Any) -> FunctionPool:
    repo = Path(__file__).resolve().parents[3]
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(code), str(repo)])}
    first = FunctionHost(
        "Worker", f"pool_handlers.{handler}", environment=environment, timeout_s=30, **options
    )
    pool = FunctionPool(first, max_sandboxes=size)
    pools.append(pool)
    return pool


def _at_once(pool: FunctionPool, events: list[dict[str, Any]]) -> list[Any]:
    """Invoke the pool with every event from its own thread at the same time; the payloads."""
    results: list[Any] = [None] * len(events)

    def call(index: int) -> None:
        try:
            results[index] = pool.invoke(events[index]).payload
        except InvokeError as exc:
            results[index] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_three_sandboxes_run_three_invocations_at_once(code: Path, tmp_path: Path, pools: list) -> None:
    # Given a function of concurrency 3, one sandbox warmed as the stack does
    pool = _pool(code, "gather", 3, pools)
    pool.start()
    assert (pool.size, pool.cold_starts) == (1, 1)
    folder = tmp_path / "arrivals"
    folder.mkdir()

    # When three invocations come at once, each waiting until all three have arrived
    event = {"folder": str(folder), "expected": 3, "patience": 30}
    results = _at_once(pool, [{**event, "n": n} for n in range(3)])

    # Then all three were inside the handler together, each in a process of its own
    assert [r["met"] for r in results] == [True, True, True], results
    assert len({r["pid"] for r in results}) == 3
    # And the two extra sandboxes were cold starts, started only when needed
    assert (pool.size, pool.cold_starts, pool.peak_busy) == (3, 3, 3)


def test_a_pool_never_runs_more_than_its_sandboxes_and_reuses_warm_ones(
    code: Path, tmp_path: Path, pools: list
) -> None:
    # Given a function of concurrency 2
    pool = _pool(code, "crowd", 2, pools)
    folder = tmp_path / "running"
    folder.mkdir()

    # When six invocations come at once, each counting who is in the handler with it
    results = _at_once(pool, [{"folder": str(folder), "hold": 0.3, "n": n} for n in range(6)])

    # Then never more than two were inside together, in two processes, every one served
    assert max(r["seen"] for r in results) <= 2, results
    assert len({r["pid"] for r in results}) == 2
    assert (pool.size, pool.peak_busy, pool.invocations) == (2, 2, 6)

    # And later invocations reuse the warm sandboxes: no further cold start
    pids = {pool.invoke({"folder": str(folder), "hold": 0, "n": n}).payload["pid"] for n in range(6, 9)}
    assert pids <= {r["pid"] for r in results}
    assert pool.cold_starts == 2


def test_every_sandbox_logs_to_the_functions_log_and_stop_ends_them_all(code: Path, pools: list) -> None:
    # Given two sandboxes of one function writing to one log
    log = io.StringIO()
    pool = _pool(code, "pid", 2, pools, log=log)
    results = _at_once(pool, [{}, {}])
    assert all(isinstance(pid, int) for pid in results)
    # (what each printed reaches the shared log, read by another thread)
    deadline = time.monotonic() + 5
    while not all(f"pid {pid}" in log.getvalue() for pid in results):
        assert time.monotonic() < deadline, log.getvalue()
        time.sleep(0.02)

    # When the pool stops
    pool.stop()

    # Then no sandbox runs and none will start again
    assert pool.alive_pids() == []
    with pytest.raises(InvokeError) as raised:
        pool.invoke({})
    assert raised.value.error_type == "Runtime.Stopping"


def test_a_reserved_concurrency_of_zero_throttles(code: Path, pools: list) -> None:
    pool = _pool(code, "pid", 0, pools)
    pool.start()  # nothing to warm
    with pytest.raises(InvokeError) as raised:
        pool.invoke({})
    assert raised.value.error_type == "TooManyRequestsException"
    assert pool.size == 0
