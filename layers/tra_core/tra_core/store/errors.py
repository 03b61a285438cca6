"""The store's typed errors, free of any adapter: use cases catch them without importing boto3."""

from __future__ import annotations

from tra_core.domain.errors import TraError
from tra_core.myunisoft.errors import RateLimited


class KeyNotFound(LookupError):
    """The stored key is gone (the connection was disconnected)."""


class SnapshotExists(Exception):
    """That version of the file's references was already written (by a concurrent refresh)."""


class InvalidCursor(ValueError):
    """The paging cursor was not made by this repository."""


class QueueError(RuntimeError):
    """SQS refused some messages of a batch, or the queue lacks what was asked (a dead-letter queue)."""


class RateBudgetBusy(TraError):
    """The key's request budget is booked further ahead than the caller may wait: try again later."""

    code = "RATE_BUDGET_BUSY"
    retryable = True


def budget_wait_s(error: TraError, now_s: float) -> float | None:
    """Seconds until the key's budget has room again, as ``error`` says it: MyUnisoft's 429 by its
    window's reset (never less than a second), a busy budget of ours by the wait it computed;
    ``None`` when the error says nothing of it."""
    if isinstance(error, RateLimited):
        return max(error.reset_at - now_s, 1.0)
    wait = error.details.get("wait_s") if isinstance(error, RateBudgetBusy) else None
    return float(wait) if isinstance(wait, int | float) else None
