"""Client-side pacing for one MyUnisoft key: 20 requests per 10 s, 10 concurrent calls per route.

MyUnisoft counts requests per API token in a fixed window (default 20 per 10 s) and allows at
most 10 concurrent calls on one route (``myunisoft-api.md`` §10). Every answer carries
``X-Rate-Limit-Total``, ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` (absolute Unix
epoch seconds with a fraction, not a delay).

The :class:`RateLimiter` protocol is what :class:`~tra_core.myunisoft.client.MyUnisoftClient`
needs; one limiter instance paces one key. The client calls, for every HTTP attempt::

    limiter.acquire(route)            # may block until a request on `route` may start
    try:
        response = send()
        limiter.observe(route, response.headers)   # only when there is a response
    finally:
        limiter.release(route)

``route`` is the request path without its query (``"/api/v1/diary"``). Implementations must read
header names case-insensitively (:func:`parse_rate_limit_headers` does). :class:`InProcessRateLimiter`
serves one process; a limiter shared by several Lambdas (a DynamoDB token bucket) implements the
same three methods.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

DEFAULT_LIMIT = 20
DEFAULT_WINDOW_S = 10.0
DEFAULT_MAX_CONCURRENT = 10


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The ``X-Rate-Limit-*`` headers of one answer; a missing or unreadable header is ``None``."""

    total: int | None
    remaining: int | None
    reset_at: float | None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _number(text: str | None, kind: type[int] | type[float]) -> float | None:
    if text is None:
        return None
    try:
        return kind(float(text.strip()))
    except ValueError:
        return None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitInfo | None:
    """Read ``X-Rate-Limit-Total/Remaining/Reset`` (any letter case); ``None`` when none is present."""
    total = _number(_header(headers, "X-Rate-Limit-Total"), int)
    remaining = _number(_header(headers, "X-Rate-Limit-Remaining"), int)
    reset_at = _number(_header(headers, "X-Rate-Limit-Reset"), float)
    if total is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(
        total=None if total is None else int(total),
        remaining=None if remaining is None else int(remaining),
        reset_at=reset_at,
    )


@runtime_checkable
class RateLimiter(Protocol):
    """Paces the requests of one API key. See the module docstring for the calling sequence."""

    def acquire(self, route: str) -> None:
        """Block until one more request on ``route`` may start, then count it as started."""

    def release(self, route: str) -> None:
        """Mark one request on ``route`` (started by :meth:`acquire`) as finished."""

    def observe(self, route: str, headers: Mapping[str, str]) -> None:
        """Take MyUnisoft's ``X-Rate-Limit-*`` answer headers into account."""


class UnlimitedRateLimiter:
    """A limiter that never waits (for tests, or when MyUnisoft's 429 answers are the only pacing)."""

    def acquire(self, route: str) -> None:
        return None

    def release(self, route: str) -> None:
        return None

    def observe(self, route: str, headers: Mapping[str, str]) -> None:
        return None


class InProcessRateLimiter:
    """The limiter for one key inside one process (thread-safe).

    - At most ``limit`` request starts in any ``window_s`` interval (a sliding window, so it can
      never exceed MyUnisoft's fixed window, whatever its phase).
    - At most ``max_concurrent`` requests in flight per route.
    - When MyUnisoft says ``X-Rate-Limit-Remaining: 0`` (another process used the same key), no
      request starts before ``X-Rate-Limit-Reset``; a reset further away than
      ``max_server_wait_s`` (clock skew) is capped to it.

    ``clock`` returns Unix epoch seconds and ``sleep`` waits; both are injectable so that tests
    run on a simulated clock without real sleeps.
    """

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        window_s: float = DEFAULT_WINDOW_S,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_server_wait_s: float | None = None,
    ):
        if limit < 1 or max_concurrent < 1 or window_s <= 0:
            raise ValueError("limit, max_concurrent and window_s must be positive")
        self.limit = limit
        self.window_s = window_s
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._sleep = sleep
        self._max_server_wait_s = window_s if max_server_wait_s is None else max_server_wait_s
        self._starts: deque[float] = deque()
        self._in_flight: defaultdict[str, int] = defaultdict(int)
        self._server_remaining: int | None = None
        self._server_reset: float | None = None
        self._server_until: float | None = None  # the reset, capped to max_server_wait_s from observation
        self._cond = threading.Condition()

    def __repr__(self) -> str:
        return (
            f"InProcessRateLimiter(limit={self.limit}, window_s={self.window_s}, "
            f"max_concurrent={self.max_concurrent})"
        )

    def _wait_until(self, now: float) -> float | None:
        """The time before which no request may start, or ``None`` if one may start now."""
        starts = self._starts
        while starts and starts[0] <= now - self.window_s:
            starts.popleft()
        until: float | None = None
        if len(starts) >= self.limit:
            until = starts[0] + self.window_s
        if self._server_until is not None:
            if now >= self._server_until:
                self._server_remaining = None
                self._server_reset = None
                self._server_until = None
            elif self._server_remaining is not None and self._server_remaining <= 0:
                until = self._server_until if until is None else max(until, self._server_until)
        return until

    def acquire(self, route: str) -> None:
        while True:
            with self._cond:
                now = self._clock()
                until = self._wait_until(now)
                if until is None:
                    if self._in_flight[route] >= self.max_concurrent:
                        self._cond.wait(timeout=1.0)
                        continue
                    self._starts.append(now)
                    self._in_flight[route] += 1
                    if self._server_remaining is not None:
                        self._server_remaining -= 1
                    return
            self._sleep(max(until - now, 0.0))

    def release(self, route: str) -> None:
        with self._cond:
            if self._in_flight[route] > 0:
                self._in_flight[route] -= 1
            self._cond.notify_all()

    def observe(self, route: str, headers: Mapping[str, str]) -> None:
        info = parse_rate_limit_headers(headers)
        if info is None or info.remaining is None or info.reset_at is None:
            return
        with self._cond:
            if self._server_reset is None or info.reset_at > self._server_reset + 1e-6:
                # A newer window: its figures replace the old ones.
                self._server_reset = info.reset_at
                self._server_until = min(info.reset_at, self._clock() + self._max_server_wait_s)
                self._server_remaining = info.remaining
            elif abs(info.reset_at - self._server_reset) <= 1e-6:
                # The same window: answers may arrive out of order, keep the smallest budget.
                current = self._server_remaining
                self._server_remaining = info.remaining if current is None else min(current, info.remaining)


def postpone_delay(wait_s: float, short_wait_s: float) -> float:
    """Seconds to send a message back for, when its key's budget has room again in ``wait_s``.

    A worker waits for a key's budget only up to ``short_wait_s`` (about the spacing of two
    requests); beyond that it hands the message back rather than hold a worker other firms need.
    The delay is in whole seconds (SQS's unit, so never rounded up past the moment) and ends about
    half the short wait early: the message comes back just before its key has room, finds it, and
    waits the rest, instead of arriving late and leaving the place unused.
    """
    return float(max(1, math.floor(wait_s - short_wait_s / 2)))
