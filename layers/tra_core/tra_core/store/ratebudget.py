"""A request budget per MyUnisoft key, shared through DynamoDB by every Lambda that uses the key.

MyUnisoft allows 20 requests per 10-second window per API key (``myunisoft-api.md`` §10). The
bridge calls it from the API, from many refresh workers and from upload workers at once, so each
process pacing itself is not enough: they share one item, ``LIMIT#<key fingerprint>`` /
``WINDOW``, holding the start times of the recent requests, past or planned, and what MyUnisoft
said of its window.

A request reserves its start time by :func:`schedule`, then sleeps until it comes. Reserving is
one conditional write (``rev = :seen``) of the item with that time appended, so two Lambdas can
never take the same place; waiting happens after the write, so Lambdas queued on a spent window do
not all race for each freed place, and a lost race returns the winner's item (``ALL_OLD``) for an
immediate retry.

Two rules may grant a start; either is safe on its own (docs/architecture.md §8):

- **sliding**: fewer than ``limit`` starts in the preceding ``window + margin``. It never exceeds
  MyUnisoft's fixed window whatever its phase, but it caps a backlog at ``limit`` requests per
  ``window + margin`` (0.952 of the budget at the default margin).
- **aligned**: MyUnisoft's answers carry ``X-Rate-Limit-Reset``, the end of its current window
  (on its clock). A start at least ``guard`` after that end arrives in a later window; it is
  granted while fewer than ``limit`` starts that could arrive after the end are pending (started
  after ``reset - margin`` and not yet answered: an answered request was counted in a window that
  ended by the latest reset). Each window then takes its full ``limit``, the guard only at its edge.

Both rest on what the margin and the guard state: a request reaches MyUnisoft within ``margin`` of
its booked start (its latency, and up to half the margin of lateness: a start that would run
later books again), MyUnisoft's clock is never more than ``guard`` behind ours, and latency and
clock offset together never put an arrival (on MyUnisoft's clock) more than ``margin`` after the
booked start (on ours). The class implements :class:`tra_core.myunisoft.ratelimit.RateLimiter` (``acquire``,
``release``, ``observe``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.myunisoft.ratelimit import parse_rate_limit_headers
from tra_core.store.dynamodb import from_item, is_conditional_failure, to_item
from tra_core.store.errors import RateBudgetBusy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True, slots=True)
class BudgetRule:
    """MyUnisoft's limit as the bridge books it, in milliseconds.

    ``limit`` starts per ``window_ms``; a request reaches MyUnisoft within ``margin_ms`` of its
    start, and on MyUnisoft's clock no earlier than ``guard_ms`` before its start on ours and no
    later than ``margin_ms`` after it.
    """

    limit: int
    window_ms: int
    margin_ms: int = 0
    guard_ms: int = 0

    @property
    def span_ms(self) -> int:
        """How long a start counts for under the sliding rule."""
        return self.window_ms + self.margin_ms


@dataclass(frozen=True, slots=True)
class ServerWindow:
    """What MyUnisoft's answers said: the end of its latest window (ms, its clock) and the starts answered.

    Every start in ``answered`` was counted in a window that ended by ``reset_ms``.
    """

    reset_ms: int
    answered: frozenset[int] = frozenset()


def schedule(
    grants: Sequence[int], not_before_ms: int, rule: BudgetRule, server: ServerWindow | None = None
) -> tuple[list[int], int]:
    """Business rule: the start time (ms) of one more request, by the sliding or the aligned rule.

    The start is the earliest at or after ``not_before_ms`` and after every start already booked
    that one of the two rules of the module docstring grants (the aligned one only while
    ``server`` is fresh: the start falls within a window of its reset). Returns the booked starts
    that still matter for later requests (oldest first) and the start.
    """
    booked = sorted(grants)
    slot = max(not_before_ms, booked[-1]) if booked else not_before_ms
    best = slot if len(booked) < rule.limit else max(slot, booked[-rule.limit] + rule.span_ms)
    if server is not None and best > slot:
        aligned = max(slot, server.reset_ms + rule.guard_ms)
        edge = server.reset_ms - rule.margin_ms
        pending = sum(1 for g in booked if g >= edge and g not in server.answered)
        if aligned < min(best, server.reset_ms + rule.window_ms) and pending < rule.limit:
            best = aligned
    keep_from = best - rule.span_ms + 1
    if server is not None and best < server.reset_ms + rule.window_ms:
        keep_from = min(keep_from, server.reset_ms - rule.margin_ms)
    return [g for g in booked if g >= keep_from], best


def budget_key(budget_id: str) -> dict[str, Any]:
    return to_item({"PK": f"LIMIT#{budget_id}", "SK": "WINDOW"})


class DynamoDBRateBudget:
    """The shared request budget of one key (see the module docstring).

    Parameters
    ----------
    budget_id:
        Names the budget; the bridge uses the key's fingerprint, since MyUnisoft counts per key.
    limit, window_s:
        MyUnisoft's limit: ``limit`` requests per ``window_s`` seconds.
    margin_s:
        The most a request may reach MyUnisoft after it starts (latency and clock offset): under
        the sliding rule each start counts for ``window_s + margin_s``. A request whose booking
        write returns more than half the margin after its booked time books again.
    guard_s:
        The most a request may reach MyUnisoft before it starts by our clock (MyUnisoft's clock
        being ahead): the aligned rule starts requests this long after the window's reset.
        Defaults to 0.1 s, or the margin when it is smaller.
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
        guard_s: float | None = None,
        max_wait_s: float = 60.0,
        share: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or window_s <= 0 or margin_s < 0 or not 0 < share <= 1 or (guard_s or 0) < 0:
            raise ValueError("limit and window_s must be positive, margins not negative, share in (0, 1]")
        self._client = client
        self._table = table_name
        self._key = budget_key(budget_id)
        self.limit = limit
        self.window_s = window_s
        self._rule = BudgetRule(
            limit=max(1, math.floor(limit * share)),
            window_ms=round(window_s * 1000),
            margin_ms=round(margin_s * 1000),
            guard_ms=round((min(0.1, margin_s) if guard_s is None else guard_s) * 1000),
        )
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._grants: list[int] = []
        self._rev: int | None = None
        self._reset_ms: int | None = None
        """The latest end of MyUnisoft's window known here (ms, MyUnisoft's clock)."""
        self._answered: set[int] = set()
        """Starts known to be answered: on the item, or answered here and not yet written."""
        self._started = threading.local()
        self._hold_until: float | None = None
        self._lock = threading.Lock()
        self._tolerance_s = margin_s / 2
        self._reserve_lead_s = 0.0
        """How long after :meth:`reserve` the reserved start is taken (a moving average, in seconds)."""
        self._write_s = 0.0
        """How long a booking write takes (a moving average, in seconds)."""
        self.conflicts = 0
        """How many conditional writes lost a race (for metrics and tests)."""
        self.late_bookings = 0
        """How many bookings were written too late to be used, and made again."""

    def __repr__(self) -> str:
        return f"DynamoDBRateBudget(limit={self.limit}, window_s={self.window_s})"

    def acquire(self, route: str) -> None:
        slot_ms, late_ms = self._take_reserved()
        if slot_ms is None:
            with self._lock:  # threads of one process share what they know of the window
                slot_ms, wait_s = self._book_next(self._max_wait_s, drop_ms=late_ms)
            if slot_ms is None:
                raise RateBudgetBusy(
                    "MyUnisoft's request budget for this key is booked by other work; try again later.",
                    details={"wait_s": wait_s},
                )
        self._started.slot_ms = slot_ms
        delay = slot_ms / 1000 - self._clock()
        if delay > 0:
            self._sleep(delay)

    def reserve(self, max_wait_s: float) -> float:
        """Book the start of this thread's next request now, if the budget has room within
        ``max_wait_s``; returns 0.0 when booked, else the wait (nothing booked).

        A worker reserves before it commits to a request (before it claims entries into a batch),
        so that a budget taken by others meanwhile sends its messages back before anything is
        frozen. The start is booked about as far ahead as this process's reservations have taken
        to be used, and the thread's next :meth:`acquire` takes it (or books again when it comes
        too late for it: a start must not run late of its booking).
        """
        unused = getattr(self._started, "reserved", None)  # a reservation the thread never used
        with self._lock:
            slot_ms, wait_s = self._book_next(
                max_wait_s, lead_s=self._reserve_lead_s, drop_ms=None if unused is None else int(unused[0])
            )
        if slot_ms is None:
            return wait_s
        self._started.reserved = (slot_ms, self._clock())
        return 0.0

    def _take_reserved(self) -> tuple[int | None, int | None]:
        """The thread's reserved start, if it can still be kept; else the start to give back."""
        reserved = getattr(self._started, "reserved", None)
        self._started.reserved = None
        if reserved is None:
            return None, None
        slot_ms, made_at = reserved
        now = self._clock()
        self._reserve_lead_s = 0.8 * self._reserve_lead_s + 0.2 * (now - made_at)
        if now - slot_ms / 1000 > self._tolerance_s:
            self.late_bookings += 1
            return None, int(slot_ms)
        return int(slot_ms), None

    def _book_next(
        self, max_wait_s: float, lead_s: float = 0.0, drop_ms: int | None = None
    ) -> tuple[int | None, float]:
        """Book the next start (the lock held): the start and 0.0, or ``None`` and the wait when
        the start would be over ``max_wait_s`` away (nothing booked).

        ``drop_ms``: a start of ours that passed unused, given back by the same write. Taking an
        unused start out of the log only ever leaves more room than the others counted on.
        """
        while True:
            now = self._clock()
            # Book a little ahead, by about the time a booking write takes, so that the request
            # starts at its booked time rather than late.
            ahead = min(max(2 * self._write_s, lead_s), self.window_s / 2)
            not_before = max(now + ahead, self._hold_until or now)
            grants = list(self._grants)
            if drop_ms is not None and drop_ms in grants:
                grants.remove(drop_ms)
            recent, slot_ms = schedule(grants, math.ceil(not_before * 1000), self._rule, self._server())
            if slot_ms / 1000 - now > max_wait_s:
                return None, round(slot_ms / 1000 - now, 3)
            booked = self._book([*recent, slot_ms], now)
            written = self._clock()
            self._write_s = 0.8 * self._write_s + 0.2 * (written - now)
            if not booked:
                continue
            # A booking whose write returned well after its time would start late, next to
            # requests booked after it: book again, giving the late place back.
            if written - slot_ms / 1000 <= self._tolerance_s:
                return slot_ms, 0.0
            self.late_bookings += 1
            drop_ms = slot_ms

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
        _, slot_ms = schedule(self._grants, math.floor(not_before * 1000), self._rule, self._server())
        return max(0.0, round(slot_ms / 1000 - now, 3))

    def _server(self) -> ServerWindow | None:
        """What MyUnisoft said, for the aligned rule; a holder of a share books by the sliding rule
        only, so that its part counts every start of the preceding window and leaves a backlog's
        uploads the windows they fill (it still writes what it heard, for the others)."""
        if self._reset_ms is None or self._rule.limit < self.limit:
            return None
        return ServerWindow(self._reset_ms, frozenset(self._answered))

    def observe(self, route: str, headers: Mapping[str, str]) -> None:
        """Learn MyUnisoft's window from an answer: its end, that this thread's start was answered,
        and, when the window is spent (someone else uses the key too), to wait for its reset."""
        info = parse_rate_limit_headers(headers)
        if info is None or info.reset_at is None:
            return
        remaining, reset_at = info.remaining, info.reset_at
        slot_ms = getattr(self._started, "slot_ms", None)
        self._started.slot_ms = None
        now = self._clock()
        with self._lock:
            reset_ms = math.floor(reset_at * 1000)
            self._reset_ms = reset_ms if self._reset_ms is None else max(self._reset_ms, reset_ms)
            if slot_ms is not None:
                self._answered.add(slot_ms)
            if remaining is not None and remaining <= 0 and reset_at > now:
                self._hold_until = min(reset_at, now + self.window_s)

    def _book(self, grants: list[int], now: float) -> bool:
        """Write ``grants`` unless someone wrote since we read; on a lost race, load what they wrote.

        The write also carries what this process learnt from MyUnisoft's answers (the latest reset,
        the starts answered), so that every holder books by the aligned rule with it.
        """
        kept = set(grants)
        values: dict[str, Any] = {
            ":grants": grants,
            ":answered": sorted(self._answered & kept),
            ":reset": self._reset_ms or 0,
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
                UpdateExpression=(
                    "SET #grants = :grants, answered = :answered, reset_ms = :reset, #rev = :next, "
                    "expires_at = :expires"
                ),
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
        self._answered &= kept
        self._rev = int(values[":next"])
        return True

    def _load(self, values: Mapping[str, Any]) -> None:
        """Take the item as written by the others, keeping what this process learnt and has not written."""
        rev = values.get("rev")
        self._rev = None if rev is None else int(rev)
        self._grants = [int(g) for g in values.get("grants", [])]
        answered = self._answered | {int(g) for g in values.get("answered", [])}
        self._answered = answered & set(self._grants)
        reset = int(values.get("reset_ms", 0) or 0)
        if reset:
            self._reset_ms = reset if self._reset_ms is None else max(self._reset_ms, reset)
