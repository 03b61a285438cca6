"""Status writes in the store: each names a lifecycle transition, and a transition the table does not
allow from the expected status is refused before anything is written (the DynamoDB adapter's
request and the in-memory fake alike)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from tests.support.upload_world import PURCHASE
from tests.support.uploads import InMemoryEntries
from tra_core.domain.entry import Entry
from tra_core.domain.lifecycle import EntryStatus, Transition, TransitionRefused
from tra_core.store.dynamodb_entries import entry_update
from tra_core.store.entries import EntryKey, EntryRecord

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
KEY = EntryKey("c1", 101, "e-1")
PAIRS = list(itertools.product(Transition, EntryStatus))


def _stored(status: EntryStatus) -> InMemoryEntries:
    entries = InMemoryEntries()
    record = EntryRecord.queued(
        Entry.model_validate(PURCHASE), tenant="t", connection_id="c1", society_id=101, warnings=(), now=NOW
    )
    entries.submit(record.model_copy(update={"status": status}))
    return entries


@pytest.mark.parametrize(("transition", "source"), PAIRS)
def test_the_in_memory_store_walks_the_table(transition: Transition, source: EntryStatus) -> None:
    entries = _stored(source)
    if transition.allows(source):
        updated = entries.update(KEY, 1, now=NOW, transition=transition, expect_status=[source])
        assert updated is not None and updated.status is transition.target
    else:
        with pytest.raises(TransitionRefused):
            entries.update(KEY, 1, now=NOW, transition=transition, expect_status=[source])
        current = entries.get(KEY)
        assert current is not None and current.status is source


@pytest.mark.parametrize(("transition", "source"), PAIRS)
def test_the_dynamodb_request_walks_the_table(transition: Transition, source: EntryStatus) -> None:
    if transition.allows(source):
        request = entry_update(KEY, 1, now=NOW, transition=transition, expect_status=[source])
        values = request["ExpressionAttributeValues"]
        assert values[":status"] == {"S": transition.target.value}
        assert values[":e0"] == {"S": source.value} and "#status IN (:e0)" in request["ConditionExpression"]
    else:
        with pytest.raises(TransitionRefused):
            entry_update(KEY, 1, now=NOW, transition=transition, expect_status=[source])


def test_a_transition_without_expected_statuses_is_conditional_on_all_it_leaves_from() -> None:
    request = entry_update(KEY, 1, now=NOW, transition=Transition.RESUME)
    expected = {v["S"] for k, v in request["ExpressionAttributeValues"].items() if k.startswith(":e")}
    assert expected == {"waiting_for_key", "waiting_for_references"}


def test_a_write_without_a_transition_keeps_the_status() -> None:
    entries = _stored(EntryStatus.UPLOADING)
    updated = entries.update(KEY, 1, now=NOW, expect_status=[EntryStatus.UPLOADING], add_attempts=1)
    assert updated is not None and (updated.status, updated.attempts) == (EntryStatus.UPLOADING, 1)
    assert ":status" not in entry_update(KEY, 1, now=NOW, add_attempts=1)["ExpressionAttributeValues"]
