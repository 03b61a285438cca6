"""Read-backs share the key's budget on DynamoDB Local at a low priority: they take a place only where
at most their share of the window is used, and never make uploads wait."""

from __future__ import annotations

import time

import pytest

from tests.support.fixtures import Stack
from tra_core.store.errors import RateBudgetBusy
from tra_core.store.ratebudget import DynamoDBRateBudget

pytestmark = pytest.mark.integration

LIMIT = 4
WINDOW_S = 2.0


def budget(stack: Stack, **options: float) -> DynamoDBRateBudget:
    return DynamoDBRateBudget(
        stack.session.client("dynamodb"),
        stack.ref("StateTable"),
        "sha256:one-key",
        limit=LIMIT,
        window_s=WINDOW_S,
        margin_s=0.05,
        max_wait_s=options.get("max_wait_s", 30.0),
        share=options.get("share", 1.0),
    )


def test_a_read_back_takes_a_place_only_while_half_the_window_is_free(stack: Stack) -> None:
    # Given the upload worker's view of a key's budget and the verification worker's (half of it)
    uploads = budget(stack)
    read_backs = budget(stack, share=0.5, max_wait_s=0.3)

    # When the window is empty, a read-back starts at once
    read_backs.acquire("/api/v1/mad/entries")
    # And once an upload started too (half the window used), the next read-back is refused, not booked
    uploads.acquire("/api/v1/TRA/partial")
    with pytest.raises(RateBudgetBusy):
        read_backs.acquire("/api/v1/mad/entries")

    # Then uploads still get the rest of the window at once
    began = time.monotonic()
    uploads.acquire("/api/v1/TRA/partial")
    uploads.acquire("/api/v1/TRA/partial")
    assert time.monotonic() - began < WINDOW_S / 2
