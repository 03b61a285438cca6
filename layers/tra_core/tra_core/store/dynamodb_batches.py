"""Upload batches in DynamoDB (``BATCH#<id>`` / ``META``): claims, leases, posts and their answers.

What a batch is, and why its counters are kept, is told in ``tra_core.store.batches``. Moving entries
into a new batch is the lifecycle's ``CLAIM`` transition, written in the same transaction as the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.domain.lifecycle import Transition
from tra_core.store.batches import BatchRecord, BatchStatus, Claim
from tra_core.store.dynamodb import from_item, is_conditional_failure, item_without_keys, to_item
from tra_core.store.dynamodb_entries import entry_update
from tra_core.store.entries import BatchExpectation, EntryIssue

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def batch_key(batch_id: str) -> dict[str, Any]:
    return to_item({"PK": f"BATCH#{batch_id}", "SK": "META"})


def _record(item: Mapping[str, Any]) -> BatchRecord:
    return BatchRecord.model_validate(item_without_keys(from_item(item)))


def _claim_update(batch_id: str, claim: Claim, now: datetime) -> dict[str, Any]:
    """The conditional update moving one entry into the batch (the lifecycle's ``CLAIM``)."""
    expect_batch: BatchExpectation = claim.expect_batch
    return entry_update(
        claim.key,
        claim.version,
        now=now,
        transition=Transition.CLAIM,
        expect_status=[claim.expect_status],
        expect_batch=expect_batch,
        set_values={"batch_id": batch_id, "warnings": [w.as_item() for w in claim.warnings]},
        remove=("problems",),
    )


class DynamoDBBatches:
    """Batches in the bridge's table (see the module docstring)."""

    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def __repr__(self) -> str:
        return f"DynamoDBBatches(table={self._table!r})"

    def claim(self, batch: BatchRecord, claims: Sequence[Claim], now: datetime) -> bool:
        """Create ``batch`` and move every claimed entry into it (``uploading``), all or nothing.

        ``False`` when any entry is no longer in the state it was read in (the batch is not kept).
        Several entries move in one transaction with the batch. A batch of one entry is two
        conditional writes, the batch first (a transaction bills every write twice, and one
        entry's write is all or nothing by itself): an entry that moved on meanwhile makes the
        batch be deleted again, and a crash between the two leaves a batch no entry names, which
        nobody reaches (senders find batches through their entries): a record of an archive never
        sent, as a batch abandoned is.
        """
        values = batch.model_dump(mode="json", exclude_none=True)
        values.update(PK=f"BATCH#{batch.batch_id}", SK="META", item_type="batch")
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(values),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        updates: list[dict[str, Any]] = [
            {"TableName": self._table, **_claim_update(batch.batch_id, claim, now)} for claim in claims
        ]
        if len(updates) == 1:
            return self._claim_one(batch.batch_id, put, updates[0])
        try:
            items: list[Any] = [{"Put": put}, *({"Update": u} for u in updates)]
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return False
            raise
        return True

    def _claim_one(self, batch_id: str, put: dict[str, Any], update: dict[str, Any]) -> bool:
        try:
            self._client.put_item(**put)
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        try:
            self._client.update_item(**update)
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            self._client.delete_item(TableName=self._table, Key=batch_key(batch_id))
            return False
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
            values[":error"] = error.as_item()
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
