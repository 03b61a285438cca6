"""The store's typed errors, free of any adapter: use cases catch them without importing boto3."""

from __future__ import annotations

from tra_core.domain.errors import TraError


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
