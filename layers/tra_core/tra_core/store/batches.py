"""Upload batches: the frozen archive sent for a set of entry versions, and who may send it.

A batch (``BATCH#<id>`` / ``META``) names the entry versions it carries and the exact TRA+PJ
archive (an S3 object written once) that is sent for them, so every retry re-sends the same bytes
and MyUnisoft's ``HascodeVerif`` turns a second copy into ``IMPORT25`` instead of a duplicate
(ARCHITECTURE §4-§5).

- Creating a batch and moving its entries into it is one DynamoDB transaction: an entry belongs
  to at most one open batch, however many workers hold its message.
- Only the holder of the batch's lease sends it; a crashed holder's lease expires and another
  worker takes the batch over.
- ``posts`` counts the POSTs that were started (written *before* each POST), ``settled`` the ones
  whose answer was recorded and ``free`` those answered in a way that proves nothing was imported
  (429, concurrency limit, a refused key). ``posts - free > 0`` means MyUnisoft may hold the file:
  then an ``IMPORT25`` is our own earlier copy, and the batch can only ever be finished by re-sending
  it (never dissolved into new batches). ``posts - settled`` after a crash counts the attempts whose
  answer was lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from tra_core.store.dynamodb import from_item, is_conditional_failure, item_without_keys, to_item
from tra_core.store.entries import (
    BatchExpectation,
    EntryIssue,
    EntryKey,
    EntryStatus,
    EntryWarning,
    entry_update,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client


class BatchStatus(StrEnum):
    """``open``: frozen, being sent or to be sent; ``uploaded``: MyUnisoft holds it; ``rejected``:
    MyUnisoft refused it; ``abandoned``: never sent and dissolved (its entries may join new batches)."""

    OPEN = "open"
    UPLOADED = "uploaded"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class BatchMember(_Record):
    entry_id: str
    version: int


class BatchRecord(_Record):
    """One frozen upload (see the module docstring)."""

    batch_id: str
    tenant: str
    connection_id: str
    society_id: int
    members: tuple[BatchMember, ...]
    archive_key: str
    archive_size: int
    tra_md5: str
    status: BatchStatus = BatchStatus.OPEN
    posts: int = 0
    settled: int = 0
    free: int = 0
    round_start: int = 0
    """The counted attempts when the current round of retries began (a retry or a replay starts one)."""
    lease_owner: str | None = None
    lease_until_ms: int = 0
    """Until when (epoch milliseconds) ``lease_owner`` may send the batch."""
    created_at: datetime
    updated_at: datetime
    uploaded_at: datetime | None = None
    request_id: str | None = None
    error: EntryIssue | None = None

    @property
    def counted(self) -> int:
        """POSTs that may have reached MyUnisoft (every post but those proven harmless)."""
        return self.posts - self.free

    @property
    def may_be_imported(self) -> bool:
        return self.counted > 0

    @property
    def round_attempts(self) -> int:
        return self.counted - self.round_start

    def keys(self) -> list[EntryKey]:
        return [EntryKey(self.connection_id, self.society_id, m.entry_id) for m in self.members]


def batch_key(batch_id: str) -> dict[str, Any]:
    return to_item({"PK": f"BATCH#{batch_id}", "SK": "META"})


def archive_key_for(connection_id: str, society_id: int, batch_id: str) -> str:
    return f"archives/{connection_id}/{society_id}/{batch_id}.zip"


@dataclass(frozen=True, slots=True)
class Claim:
    """An entry version joining a new batch, from the state it was read in."""

    key: EntryKey
    version: int
    expect_status: EntryStatus
    expect_batch: str | None
    warnings: tuple[EntryWarning, ...] = ()


def _record(item: Mapping[str, Any]) -> BatchRecord:
    return BatchRecord.model_validate(item_without_keys(from_item(item)))


class DynamoDBBatches:
    """Batches in the bridge's table (see the module docstring)."""

    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def __repr__(self) -> str:
        return f"DynamoDBBatches(table={self._table!r})"

    def claim(self, batch: BatchRecord, claims: Sequence[Claim], now: datetime) -> bool:
        """Create ``batch`` and move every claimed entry into it (``uploading``), all or nothing.

        ``False`` when any entry is no longer in the state it was read in (nothing is written).
        """
        values = batch.model_dump(mode="json", exclude_none=True)
        values.update(PK=f"BATCH#{batch.batch_id}", SK="META", item_type="batch")
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(values),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        for claim in claims:
            expect_batch: BatchExpectation = claim.expect_batch
            update = entry_update(
                claim.key,
                claim.version,
                now=now,
                status=EntryStatus.UPLOADING,
                expect_status=[claim.expect_status],
                expect_batch=expect_batch,
                set_values={
                    "batch_id": batch.batch_id,
                    "warnings": [w.model_dump(mode="json", exclude_none=True) for w in claim.warnings],
                },
                remove=("problems",),
            )
            items.append({"Update": {"TableName": self._table, **update}})
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def get(self, batch_id: str) -> BatchRecord | None:
        answer = self._client.get_item(TableName=self._table, Key=batch_key(batch_id), ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else _record(item)

    def take_lease(
        self, batch_id: str, owner: str, *, now_ms: int, until_ms: int, new_round: bool
    ) -> tuple[BatchRecord, int] | None:
        """Become the batch's sender until ``until`` if it is open and nobody else holds it.

        Returns the batch and how many earlier POSTs never had their answer recorded (a sender
        that crashed mid-upload), which are settled now; ``None`` if someone else holds it or it is
        finished. ``new_round`` restarts the attempt count (a retry, a replay, a key replacement).
        """
        expression = "SET lease_owner = :owner, lease_until_ms = :until, settled = posts"
        if new_round:
            expression += ", round_start = posts - #free"
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=batch_key(batch_id),
                UpdateExpression=expression,
                ConditionExpression=(
                    "#status = :open AND (lease_until_ms < :now OR lease_owner = :owner OR "
                    "attribute_not_exists(lease_owner))"
                ),
                ExpressionAttributeNames={"#status": "status", **({"#free": "free"} if new_round else {})},
                ExpressionAttributeValues=to_item(
                    {":owner": owner, ":until": until_ms, ":now": now_ms, ":open": "open"}
                ),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        old = _record(answer["Attributes"])
        unsettled = old.posts - old.settled
        updates: dict[str, Any] = {"lease_owner": owner, "lease_until_ms": until_ms, "settled": old.posts}
        if new_round:
            updates["round_start"] = old.posts - old.free
        return old.model_copy(update=updates), unsettled

    def record_post(self, batch_id: str, owner: str) -> BatchRecord | None:
        """Count a POST about to start; ``None`` if the lease was lost (then do not send)."""
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=batch_key(batch_id),
                UpdateExpression="ADD posts :one",
                ConditionExpression="#status = :open AND lease_owner = :owner",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item({":one": 1, ":owner": owner, ":open": "open"}),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _record(answer["Attributes"])

    def settle(
        self,
        batch_id: str,
        owner: str,
        *,
        now: datetime,
        free: bool = False,
        status: BatchStatus | None = None,
        request_id: str | None = None,
        error: EntryIssue | None = None,
    ) -> bool:
        """Record the answer to the holder's last POST: release the lease, and finish the batch with
        ``status`` when given. ``free`` marks an answer proving nothing was imported."""
        names = {"#status": "status"}
        values: dict[str, Any] = {":one": 1, ":owner": owner, ":open": "open", ":now": now.isoformat()}
        sets = ["lease_until_ms = :zero", "updated_at = :now"]
        values[":zero"] = 0
        adds = ["settled :one"]
        if free:
            adds.append("#free :one")
            names["#free"] = "free"
        if status is not None:
            sets.append("#status = :status")
            values[":status"] = status.value
            if status is BatchStatus.UPLOADED:
                sets.append("uploaded_at = :now")
        if request_id is not None:
            sets.append("request_id = :request")
            values[":request"] = request_id
        if error is not None:
            sets.append("#error = :error")
            names["#error"] = "error"
            values[":error"] = error.model_dump(mode="json", exclude_none=True)
        try:
            self._client.update_item(
                TableName=self._table,
                Key=batch_key(batch_id),
                UpdateExpression="SET " + ", ".join(sets) + " ADD " + ", ".join(adds),
                ConditionExpression="#status = :open AND lease_owner = :owner",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def release(self, batch_id: str, owner: str) -> None:
        """Give the lease back without sending (another worker may take the batch at once)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=batch_key(batch_id),
                UpdateExpression="SET lease_until_ms = :zero",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues=to_item({":zero": 0, ":owner": owner}),
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def abandon(self, batch_id: str, owner: str, *, now: datetime) -> bool:
        """Dissolve an open batch that was never sent (its entries may then join other batches)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=batch_key(batch_id),
                UpdateExpression="SET #status = :abandoned, lease_until_ms = :zero, updated_at = :now",
                ConditionExpression="#status = :open AND lease_owner = :owner AND posts = #free",
                ExpressionAttributeNames={"#status": "status", "#free": "free"},
                ExpressionAttributeValues=to_item(
                    {
                        ":abandoned": "abandoned",
                        ":zero": 0,
                        ":owner": owner,
                        ":open": "open",
                        ":now": now.isoformat(),
                    }
                ),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True


class S3Archives:
    """The frozen archives, written once: a second write of the same batch keeps the first bytes."""

    def __init__(self, client: S3Client, bucket: str):
        self._client = client
        self._bucket = bucket

    def __repr__(self) -> str:
        return f"S3Archives(bucket={self._bucket!r})"

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType="application/zip", IfNoneMatch="*"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"PreconditionFailed", "412"}:
                raise

    def get(self, key: str) -> bytes:
        answer = self._client.get_object(Bucket=self._bucket, Key=key)
        data: bytes = answer["Body"].read()
        return data
