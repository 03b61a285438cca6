"""The entry and batch adapters against DynamoDB Local: the conditions that make uploads exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.fixtures import Stack
from tra_core.domain.entry import Entry
from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.store import dynamodb_entries
from tra_core.store.batches import BatchMember, BatchRecord, BatchStatus, Claim
from tra_core.store.dynamodb import DynamoDBConnections
from tra_core.store.dynamodb_batches import DynamoDBBatches
from tra_core.store.dynamodb_claims import DynamoDBClaims
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.entries import EntryChange, EntryKey, EntryRecord

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RAW = {
    "entry_id": "e-1",
    "kind": "purchase",
    "journal": "ACH",
    "date": "2026-11-20",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "credit": "10"},
        {"account": "606100", "debit": "10"},
    ],
}


def record(entry_id: str, version: int = 1) -> EntryRecord:
    entry = Entry.model_validate({**RAW, "entry_id": entry_id, "version": version})
    return EntryRecord.queued(entry, tenant="t", connection_id="c1", society_id=7, warnings=(), now=NOW)


def batch(batch_id: str, *members: EntryRecord, owner: str = "w1") -> BatchRecord:
    return BatchRecord(
        batch_id=batch_id,
        tenant="t",
        connection_id="c1",
        society_id=7,
        members=tuple(BatchMember(entry_id=m.entry_id, version=m.version) for m in members),
        archive_key=f"archives/c1/7/{batch_id}.zip",
        archive_size=1,
        tra_md5="0" * 32,
        lease_owner=owner,
        lease_until_ms=1_000,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def stores(stack: Stack) -> tuple[DynamoDBEntries, DynamoDBBatches]:
    client = stack.session.client("dynamodb")
    table = stack.ref("StateTable")
    return DynamoDBEntries(client, table), DynamoDBBatches(client, table)


def test_submissions_keep_versions_in_order(stores: tuple[DynamoDBEntries, DynamoDBBatches]) -> None:
    entries, _ = stores
    # Given version 2 of "b" stored
    entries.submit_many([record("b", 2)])

    # When a, b v2, b v1 and b v3 arrive in turn
    first = entries.submit_many([record("a"), record("b", 2)])
    older = entries.submit_many([record("b", 1)])
    newer = entries.submit_many([record("b", 3)])

    # Then each outcome follows the versions, and the stored version is the highest
    assert [s.outcome for s in first] == ["queued", "unchanged"]
    assert [s.outcome for s in older] == ["outdated"]
    assert [s.outcome for s in newer] == ["superseded"]
    stored = entries.get(EntryKey("c1", 7, "b"))
    assert stored is not None and stored.version == 3
    # And the status index lists both as queued
    assert {r.entry_id for r in entries.list_by_status("c1", EntryStatus.QUEUED)} == {"a", "b"}


def test_an_entry_joins_one_batch_only(stores: tuple[DynamoDBEntries, DynamoDBBatches]) -> None:
    entries, batches = stores
    a, b = record("a"), record("b")
    entries.submit_many([a, b])

    # When two batches claim overlapping entries
    def claims(*records: EntryRecord) -> list[Claim]:
        return [Claim(r.key, r.version, EntryStatus.QUEUED, None) for r in records]

    won = batches.claim(batch("b1", a, b), claims(a, b), NOW)
    lost = batches.claim(batch("b2", b), claims(b), NOW)

    # Then only the first is created, and its entries are uploading in it
    assert (won, lost) == (True, False)
    assert batches.get("b2") is None
    current = entries.get_many([a.key, b.key])
    assert {(r.status, r.batch_id) for r in current.values()} == {(EntryStatus.UPLOADING, "b1")}
    assert {r.entry_id for r in entries.list_by_status("c1", EntryStatus.UPLOADING)} == {"a", "b"}


def test_a_lease_is_taken_over_only_when_it_ran_out(stores: tuple[DynamoDBEntries, DynamoDBBatches]) -> None:
    entries, batches = stores
    a = record("a")
    entries.submit_many([a])
    batches.claim(batch("b1", a), [Claim(a.key, 1, EntryStatus.QUEUED, None)], NOW)
    # Given the holder started a POST and then went silent
    assert batches.record_post("b1", "w1") is not None

    # When another worker tries before and after the lease's end
    early = batches.take_lease("b1", "w2", now_ms=500, until_ms=9_000, new_round=False)
    late = batches.take_lease("b1", "w2", now_ms=1_500, until_ms=9_000, new_round=False)

    # Then it waits, then takes the batch over, learning that one POST's answer was never recorded
    assert early is None
    assert late is not None
    taken, unsettled = late
    assert (taken.lease_owner, taken.posts, unsettled, taken.may_be_imported) == ("w2", 1, 1, True)
    # And the old holder can no longer post or settle it
    assert batches.record_post("b1", "w1") is None
    assert batches.settle("b1", "w1", now=NOW, status=BatchStatus.UPLOADED) is False
    assert batches.settle("b1", "w2", now=NOW, status=BatchStatus.UPLOADED, request_id="req-1") is True
    finished = batches.get("b1")
    assert finished is not None and (finished.status, finished.request_id) == (BatchStatus.UPLOADED, "req-1")


def test_settling_a_batch_skips_an_entry_that_moved_on(
    stores: tuple[DynamoDBEntries, DynamoDBBatches],
) -> None:
    entries, batches = stores
    a, b = record("a"), record("b")
    entries.submit_many([a, b])
    batches.claim(batch("b1", a, b), [Claim(r.key, 1, EntryStatus.QUEUED, None) for r in (a, b)], NOW)
    # Given "b" was superseded by version 2 while its batch was being sent
    entries.submit_many([record("b", 2)])

    # When the batch's entries are settled together
    entries.update_all(
        [
            EntryChange(
                key=r.key,
                version=1,
                transition=Transition.UPLOAD,
                expect_batch="b1",
                set_values={"tra_md5": "0" * 32},
                add_attempts=1,
            )
            for r in (a, b)
        ],
        NOW,
    )

    # Then "a" is uploaded, and version 2 of "b" is untouched
    settled_a = entries.get(a.key)
    settled_b = entries.get(b.key)
    assert settled_a is not None and (settled_a.status, settled_a.attempts) == (EntryStatus.UPLOADED, 1)
    assert settled_b is not None and (settled_b.version, settled_b.status) == (2, EntryStatus.QUEUED)
    assert settled_b.batch_id is None


@pytest.mark.parametrize("read", [1, 200], ids=["one-item-reads", "default-reads"])
def test_queued_and_uploading_share_a_partition_and_still_list_and_count_apart(
    stack: Stack, stores: tuple[DynamoDBEntries, DynamoDBBatches], monkeypatch: pytest.MonkeyPatch, read: int
) -> None:
    entries, batches = stores
    # Given five queued entries of a file, two of which ("b", "d") were claimed into a batch
    posted = [record(name) for name in "abcde"]
    entries.submit_many(posted)
    claimed = [posted[1], posted[3]]
    assert batches.claim(
        batch("b1", *claimed), [Claim(r.key, 1, EntryStatus.QUEUED, None) for r in claimed], NOW
    )
    # (one-item reads: every request of a filtered page evaluates one item, so some return none)
    monkeypatch.setattr(dynamodb_entries, "_FILTERED_READ", read)

    def pages(status: EntryStatus, limit: int) -> list[list[str]]:
        listed: list[list[str]] = []
        cursor: str | None = None
        while True:
            records, cursor = entries.list_file("c1", 7, status=status, limit=limit, cursor=cursor)
            listed.append([r.entry_id for r in records])
            if cursor is None:
                return listed

    # Then listing one status of the shared partition gives full pages of that status only
    assert pages(EntryStatus.UPLOADING, 1)[:2] == [["b"], ["d"]]
    assert [e for page in pages(EntryStatus.UPLOADING, 1) for e in page] == ["b", "d"]
    assert pages(EntryStatus.QUEUED, 2)[0] == ["a", "c"]
    assert [e for page in pages(EntryStatus.QUEUED, 2) for e in page] == ["a", "c", "e"]
    assert {r.entry_id for r in entries.list_by_status("c1", EntryStatus.QUEUED)} == {"a", "c", "e"}
    # And the counts tell them apart
    counts = DynamoDBConnections(
        stack.session.client("dynamodb"), stack.ref("StateTable")
    ).count_entries_by_status("c1")
    assert (counts["queued"], counts["uploading"], counts["uploaded"]) == (3, 2, 0)


def test_uploaded_entries_leave_the_index_and_are_listed_and_counted_from_the_table(
    stack: Stack, stores: tuple[DynamoDBEntries, DynamoDBBatches], monkeypatch: pytest.MonkeyPatch
) -> None:
    entries, batches = stores
    client = stack.session.client("dynamodb")
    table = stack.ref("StateTable")
    client.put_item(TableName=table, Item={"PK": {"S": "CONN#c1"}, "SK": {"S": "FILE#7"}})
    # Given five entries of a file, three of which ("a", "c", "e") were uploaded, "c" verified
    posted = [record(name) for name in "abcde"]
    entries.submit_many(posted)
    sent = [posted[0], posted[2], posted[4]]
    assert batches.claim(batch("b1", *sent), [Claim(r.key, 1, EntryStatus.QUEUED, None) for r in sent], NOW)
    pending = {"verification": "pending"}
    upload = [
        EntryChange(key=r.key, version=1, transition=Transition.UPLOAD, set_values={"myunisoft": pending})
        for r in sent
    ]
    entries.update_all(upload, NOW)
    verified = {"verification": "verified"}
    entries.update(posted[2].key, 1, now=NOW, set_values={"myunisoft": verified})
    monkeypatch.setattr(dynamodb_entries, "_FILTERED_READ", 1)

    # Then they are no longer in GSI1 ...
    indexed = client.scan(TableName=table, IndexName="GSI1")["Items"]
    assert sorted(i["SK"]["S"] for i in indexed if i["SK"]["S"].startswith("ENTRY#")) == [
        "ENTRY#b",
        "ENTRY#d",
    ]
    # ... yet a file's uploaded entries come in full pages of that status, and a connection's too
    first, cursor = entries.list_file("c1", 7, status=EntryStatus.UPLOADED, limit=2)
    rest, end = entries.list_file("c1", 7, status=EntryStatus.UPLOADED, limit=2, cursor=cursor)
    assert ([r.entry_id for r in first], [r.entry_id for r in rest], end) == (["a", "c"], ["e"], None)
    assert {r.entry_id for r in entries.list_by_status("c1", EntryStatus.UPLOADED)} == {"a", "c", "e"}
    # And they are counted by status and by verification
    counts = DynamoDBConnections(client, table).count_entries_by_status("c1")
    assert (counts["uploaded"], counts["uploading"], counts["queued"]) == (3, 0, 2)
    assert DynamoDBClaims(client, table).count_by_verification("c1") == {"pending": 2, "verified": 1}


def test_two_versions_of_an_entry_in_one_post_are_stored_in_order(
    stores: tuple[DynamoDBEntries, DynamoDBBatches],
) -> None:
    entries, _ = stores
    # When one post holds versions 1 and 2 of "a", among other entries
    posted = [record("a", 1), *(record(f"x{i}") for i in range(20)), record("a", 2)]
    outcomes = entries.submit_many(posted)

    # Then version 1 is queued and version 2 supersedes it, whatever the threads did
    assert [outcomes[0].outcome, outcomes[-1].outcome] == ["queued", "superseded"]
    assert {s.outcome for s in outcomes[1:-1]} == {"queued"}
    stored = entries.get(EntryKey("c1", 7, "a"))
    assert stored is not None and stored.version == 2
    assert len(entries.list_by_status("c1", EntryStatus.QUEUED)) == 21


def test_many_changes_are_applied_each_on_its_own_condition(
    stores: tuple[DynamoDBEntries, DynamoDBBatches],
) -> None:
    entries, _ = stores
    posted = [record(f"e{i:03d}") for i in range(150)]
    entries.submit_many(posted)
    # Given one entry moved on to version 2
    entries.submit_many([record("e007", 2)])

    # When all 150 are parked at version 1
    entries.update_all(
        [EntryChange(key=r.key, version=1, transition=Transition.PARK_FOR_REFERENCES) for r in posted], NOW
    )

    # Then 149 are parked and the newer version is untouched
    parked = entries.list_by_status("c1", EntryStatus.WAITING_FOR_REFERENCES)
    assert len(parked) == 149 and "e007" not in {r.entry_id for r in parked}
    moved_on = entries.get(EntryKey("c1", 7, "e007"))
    assert moved_on is not None and (moved_on.version, moved_on.status) == (2, EntryStatus.QUEUED)


def test_the_body_is_stored_deflated_and_a_plain_one_still_reads(stack: Stack) -> None:
    client = stack.session.client("dynamodb")
    table = stack.ref("StateTable")
    entries = DynamoDBEntries(client, table)
    a = record("a")
    entries.submit(a)
    key = {"PK": {"S": "FILE#c1#7"}, "SK": {"S": "ENTRY#a"}}

    # The stored body is binary, smaller than the entry's JSON, and reads back as the same JSON
    stored = client.get_item(TableName=table, Key=key)["Item"]
    assert "B" in stored["body"] and len(stored["body"]["B"]) < len(a.body)
    read = entries.get(a.key)
    assert read is not None and read.body == a.body and read.entry() == a.entry()

    # An item written before (its body as text) reads the same
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET body = :plain",
        ExpressionAttributeValues={":plain": {"S": a.body}},
    )
    old = entries.get(a.key)
    assert old is not None and old.body == a.body
