"""Read-backs share the key's budget on DynamoDB Local at a low priority: they take a place only where
at most their share of the window is used, and never make uploads wait.

Every user of the budget reads one frozen clock and records its sleeps instead of sleeping, so what
is checked is what the budget decides (the bookings written to DynamoDB), free of the machine's load.
"""

from __future__ import annotations

import time

import pytest

from tests.support.fixtures import Stack
from tra_core.store.errors import RateBudgetBusy
from tra_core.store.ratebudget import DynamoDBRateBudget, budget_key

pytestmark = pytest.mark.integration

LIMIT = 4
WINDOW_S = 2.0
NOW = time.time()


def budget(stack: Stack, waits: list[float], **options: float) -> DynamoDBRateBudget:
    return DynamoDBRateBudget(
        stack.session.client("dynamodb"),
        stack.ref("StateTable"),
        "sha256:one-key",
        limit=LIMIT,
        window_s=WINDOW_S,
        margin_s=0.1,
        max_wait_s=options.get("max_wait_s", 30.0),
        share=options.get("share", 1.0),
        clock=lambda: NOW,
        sleep=waits.append,
    )


def grants(stack: Stack) -> list[int]:
    """The start times booked in the key's budget item."""
    item = stack.session.client("dynamodb").get_item(
        TableName=stack.ref("StateTable"), Key=budget_key("sha256:one-key"), ConsistentRead=True
    )["Item"]
    return [int(g["N"]) for g in item["grants"]["L"]]


def test_a_read_back_takes_a_place_only_while_half_the_window_is_free(stack: Stack) -> None:
    # Given the upload worker's view of a key's budget and the verification worker's (half of it)
    waits: list[float] = []
    uploads = budget(stack, waits)
    read_backs = budget(stack, waits, share=0.5, max_wait_s=0.5)

    # When the window is empty, a read-back starts at once
    read_backs.acquire("/api/v1/mad/entries")
    # And once an upload started too (half the window used), the next read-back is refused, not booked
    uploads.acquire("/api/v1/TRA/partial")
    booked = grants(stack)
    with pytest.raises(RateBudgetBusy):
        read_backs.acquire("/api/v1/mad/entries")
    assert grants(stack) == booked and len(booked) == 2

    # Then uploads get the rest of the window at once, and nobody waited
    uploads.acquire("/api/v1/TRA/partial")
    uploads.acquire("/api/v1/TRA/partial")
    assert len(grants(stack)) == LIMIT and max(waits, default=0.0) < 0.01  # a millisecond rounded up
    # And with the window full, an upload books the first place the window frees
    with pytest.raises(RateBudgetBusy):
        budget(stack, waits, max_wait_s=WINDOW_S / 2).acquire("/api/v1/TRA/partial")
