"""A request budget per MyUnisoft key, shared through DynamoDB by every Lambda that uses the key.

MyUnisoft allows 20 requests per 10-second window per API key (``myunisoft-api.md`` §10). The
bridge calls it from the API, from many refresh workers and from upload workers at once, so each
process pacing itself is not enough: they share one item, ``LIMIT#<key fingerprint>`` /
``WINDOW``, holding the start times of the last ``limit`` requests. A request may start when fewer
than ``limit`` of them are younger than ``window + margin``; starting it is a conditional write
(``rev = :seen``) of the list with the new start appended, so two Lambdas can never both take the
last place. Being a sliding window, it never exceeds MyUnisoft's fixed window whatever its phase;
the margin absorbs the spread of network latency between our clock and MyUnisoft's.

The class implements :class:`tra_core.myunisoft.ratelimit.RateLimiter` (``acquire``, ``release``,
``observe``). A failed conditional write returns the current item (``ALL_OLD``), so contention
costs one round trip, not two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.domain.errors import TraError
from tra_core.store.dynamodb import from_item, is_conditional_failure, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class RateBudgetBusy(TraError):
    """The key's request budget stays spent longer than the caller may wait: try again later."""

    code = "RATE_BUDGET_BUSY"
    retryable = True


def admit(grants: Sequence[int], now_ms: int, limit: int, span_ms: int) -> tuple[list[int], int | None]:
    """Business rule: at most ``limit`` request starts in any ``span_ms`` interval.

    Returns the starts still inside the span (oldest first) and ``None`` when one more request may
    start at ``now_ms``, else the earliest time (ms) it may.
    """
    recent = sorted(g for g in grants if g > now_ms - span_ms)
    if len(recent) < limit:
        return recent, None
    return recent, recent[-limit] + span_ms


def budget_key(budget_id: str) -> dict[str, Any]:
    return to_item({"PK": f"LIMIT#{budget_id}", "SK": "WINDOW"})


def _header(headers: Mapping[str, str], name: str) -> float | None:
    for key, value in headers.items():
        if key.lower() == name:
            try:
                return float(value)
            except ValueError:
                return None
    return None


class DynamoDBRateBudget:
    """The shared request budget of one key (see the module docstring).

    Parameters
    ----------
    budget_id:
        Names the budget; the bridge uses the key's fingerprint, since MyUnisoft counts per key.
    limit, window_s:
        MyUnisoft's limit: ``limit`` requests per ``window_s`` seconds.
    margin_s:
        Extra time each start counts for, so that latency spread never puts ``limit + 1``
        requests into one of MyUnisoft's windows.
    max_wait_s:
        How long :meth:`acquire` may wait before raising :class:`RateBudgetBusy`.
    clock, sleep:
        Epoch seconds and a sleep function; injectable for tests.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        budget_id: str,
        *,
        limit: int = 20,
        window_s: float = 10.0,
        margin_s: float = 0.5,
        max_wait_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window_s <= 0 or margin_s < 0:
            raise ValueError("limit and window_s must be positive, margin_s not negative")
        self._client = client
        self._table = table_name
        self._key = budget_key(budget_id)
        self.limit = limit
        self.window_s = window_s
        self._span_ms = round((window_s + margin_s) * 1000)
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._grants: list[int] = []
        self._rev: int | None = None
        self._hold_until: float | None = None
        self._lock = threading.Lock()
        self.conflicts = 0
        """How many conditional writes lost a race (for metrics and tests)."""

    def __repr__(self) -> str:
        return f"DynamoDBRateBudget(limit={self.limit}, window_s={self.window_s})"

    def acquire(self, route: str) -> None:
        deadline = self._clock() + self._max_wait_s
        while True:
            with self._lock:  # threads of one process share what they know of the window
                now = self._clock()
                until = self._next_start(now)
                if until is None and self._take(now):
                    return
            if until is not None:
                if until > deadline:
                    raise RateBudgetBusy(
                        "MyUnisoft's request budget for this key is in use by other work; try again later.",
                        details={"wait_s": round(until - now, 3)},
                    )
                self._sleep(max(until - now, 0.0))

    def _next_start(self, now: float) -> float | None:
        """``None`` if a request may start now (as far as we know), else when one may."""
        _, until_ms = admit(self._grants, int(now * 1000), self.limit, self._span_ms)
        until = None if until_ms is None else until_ms / 1000
        if self._hold_until is not None:
            if self._hold_until > now:
                until = self._hold_until if until is None else max(until, self._hold_until)
            else:
                self._hold_until = None
        return until

    def release(self, route: str) -> None:
        return None

    def observe(self, route: str, headers: Mapping[str, str]) -> None:
        """When MyUnisoft says the window is spent (someone else uses the key too), wait for its reset."""
        remaining = _header(headers, "x-rate-limit-remaining")
        reset_at = _header(headers, "x-rate-limit-reset")
        if remaining is None or reset_at is None or remaining > 0:
            return
        now = self._clock()
        if reset_at > now:
            with self._lock:
                self._hold_until = min(reset_at, now + self.window_s)

    def _take(self, now: float) -> bool:
        """Record a start at ``now`` unless someone wrote since we read; on a lost race, load their write."""
        recent, _ = admit(self._grants, int(now * 1000), self.limit, self._span_ms)
        grants = [*recent, int(now * 1000)]
        values: dict[str, Any] = {
            ":grants": grants,
            ":next": (self._rev or 0) + 1,
            ":expires": int(now + max(3600.0, 10 * self.window_s)),
        }
        if self._rev is None:
            condition = "attribute_not_exists(#rev)"
        else:
            condition = "#rev = :seen"
            values[":seen"] = self._rev
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key,
                UpdateExpression="SET #grants = :grants, #rev = :next, expires_at = :expires",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#grants": "grants", "#rev": "rev"},
                ExpressionAttributeValues=to_item(values),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            self.conflicts += 1
            item: Any = exc.response.get("Item")
            if item is None:
                answer = self._client.get_item(TableName=self._table, Key=self._key, ConsistentRead=True)
                item = answer.get("Item")
            self._load(from_item(item) if item else {})
            return False
        self._grants = grants
        self._rev = int(values[":next"])
        return True

    def _load(self, values: Mapping[str, Any]) -> None:
        rev = values.get("rev")
        self._rev = None if rev is None else int(rev)
        self._grants = [int(g) for g in values.get("grants", [])]
