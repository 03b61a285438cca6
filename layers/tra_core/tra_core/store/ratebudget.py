"""A request budget per MyUnisoft key, shared through DynamoDB by every Lambda that uses the key.

MyUnisoft allows 20 requests per 10-second window per API key (``myunisoft-api.md`` §10). The
bridge calls it from the API, from many refresh workers and from upload workers at once, so each
process pacing itself is not enough: they share one item, ``LIMIT#<key fingerprint>`` /
``WINDOW``, holding the start times of the last ``limit`` requests, past or planned.

A request reserves its start time: the earliest moment, not before the last reservation, at which
fewer than ``limit`` starts fall in the preceding ``window + margin``. Reserving is one conditional
write (``rev = :seen``) of the list with that time appended, so two Lambdas can never take the same
place; the caller then sleeps until its time comes. Waiting happens after the write, so Lambdas
queued on a spent window do not all race for each freed place: contention is limited to writes
that really overlap, and a lost race returns the winner's list (``ALL_OLD``) for an immediate retry.

Being a sliding window, it never exceeds MyUnisoft's fixed window whatever its phase; the margin
absorbs the spread of latency between our clocks and MyUnisoft's. The class implements
:class:`tra_core.myunisoft.ratelimit.RateLimiter` (``acquire``, ``release``, ``observe``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.store.dynamodb import from_item, is_conditional_failure, to_item
from tra_core.store.errors import RateBudgetBusy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def schedule(grants: Sequence[int], not_before_ms: int, limit: int, span_ms: int) -> tuple[list[int], int]:
    """Business rule: at most ``limit`` request starts in any ``span_ms`` interval, in order.

    Returns the start time (ms) of one more request (the earliest at or after ``not_before_ms``
    and after every start already booked) and the booked starts that still matter for later
    requests (those after ``slot - span_ms``, oldest first; at most ``limit - 1`` of them).
    """
    booked = sorted(grants)
    slot = max(not_before_ms, booked[-1]) if booked else not_before_ms
    if len(booked) >= limit:
        slot = max(slot, booked[-limit] + span_ms)
    return [g for g in booked if g > slot - span_ms], slot


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
        requests into one of MyUnisoft's windows. A request whose booking write returns more
        than half the margin after its booked time books again.
    max_wait_s:
        The furthest ahead :meth:`acquire` may book; beyond it raises :class:`RateBudgetBusy`.
    share:
        The part of the limit this holder's requests may fill: it books a start only where fewer
        than ``floor(limit * share)`` starts (of anyone) fall in the preceding window, so work of
        lower priority (the read-backs of verified delivery) always leaves the rest to the others.
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
        share: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window_s <= 0 or margin_s < 0 or not 0 < share <= 1:
            raise ValueError("limit and window_s must be positive, margin_s not negative, share in (0, 1]")
        self._client = client
        self._table = table_name
        self._key = budget_key(budget_id)
        self.limit = limit
        self._own_limit = max(1, math.floor(limit * share))
        self.window_s = window_s
        self._span_ms = round((window_s + margin_s) * 1000)
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._grants: list[int] = []
        self._rev: int | None = None
        self._hold_until: float | None = None
        self._lock = threading.Lock()
        self._tolerance_s = margin_s / 2
        self._write_s = 0.0
        """How long a booking write takes (a moving average, in seconds)."""
        self.conflicts = 0
        """How many conditional writes lost a race (for metrics and tests)."""
        self.late_bookings = 0
        """How many bookings were written too late to be used, and made again."""

    def __repr__(self) -> str:
        return f"DynamoDBRateBudget(limit={self.limit}, window_s={self.window_s})"

    def acquire(self, route: str) -> None:
        with self._lock:  # threads of one process share what they know of the window
            while True:
                now = self._clock()
                # Book a little ahead, by about the time a booking write takes, so that the request
                # starts at its booked time rather than late.
                not_before = max(now + min(2 * self._write_s, self.window_s / 2), self._hold_until or now)
                recent, slot_ms = schedule(
                    self._grants, math.ceil(not_before * 1000), self._own_limit, self._span_ms
                )
                if slot_ms / 1000 - now > self._max_wait_s:
                    raise RateBudgetBusy(
                        "MyUnisoft's request budget for this key is booked by other work; try again later.",
                        details={"wait_s": round(slot_ms / 1000 - now, 3)},
                    )
                booked = self._book([*recent, slot_ms], now)
                written = self._clock()
                self._write_s = 0.8 * self._write_s + 0.2 * (written - now)
                if not booked:
                    continue
                # A booking whose write returned well after its time would start late, next to
                # requests booked after it: book again (the late place stays unused).
                if written - slot_ms / 1000 <= self._tolerance_s:
                    break
                self.late_bookings += 1
        delay = slot_ms / 1000 - self._clock()
        if delay > 0:
            self._sleep(delay)

    def release(self, route: str) -> None:
        return None

    def wait_s(self) -> float:
        """Seconds before this holder may start one more request on the key (0: now), booking nothing.

        A worker asks before it takes on a key's work, so that a key whose budget is spent sends its
        messages back with this delay instead of holding the worker (docs/architecture.md §8). What
        this process knows of the window can only be more optimistic than the table (other holders
        only ever add starts), so a wait known here is returned as is; otherwise the shared window
        is read once (a strongly consistent read, so a booking made right after rarely conflicts).
        """
        with self._lock:
            wait = self._known_wait()
            if wait > 0:
                return wait
            answer = self._client.get_item(TableName=self._table, Key=self._key, ConsistentRead=True)
            item = answer.get("Item")
            self._load(from_item(item) if item else {})
            return self._known_wait()

    def _known_wait(self) -> float:
        now = self._clock()
        not_before = max(now, self._hold_until or now)
        _, slot_ms = schedule(self._grants, math.floor(not_before * 1000), self._own_limit, self._span_ms)
        return max(0.0, round(slot_ms / 1000 - now, 3))

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

    def _book(self, grants: list[int], now: float) -> bool:
        """Write ``grants`` unless someone wrote since we read; on a lost race, load what they wrote."""
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
