"""MyUnisoft entry ids claimed by entries, in DynamoDB (``tra_core.store.verification``).

One item per claimed id, ``FILE#<connection>#<society>`` / ``MUID#<producerId>``, holding the entry
id and version that hold it. A claim is written with the entry's change in one transaction, on the
condition that the id is free or already this entry version's: a lost race leaves both untouched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tra_core.domain.lifecycle import EntryStatus
from tra_core.domain.verification import Verification
from tra_core.store.dynamodb import from_item, is_conditional_failure, table_entries, to_item
from tra_core.store.dynamodb_entries import change_update, entry_key
from tra_core.store.entries import EntryChange, EntryRecord, MyUnisoftCopy
from tra_core.store.verification import IdClaim

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def claim_key(connection_id: str, society_id: int, producer_id: str) -> dict[str, Any]:
    return to_item({"PK": f"FILE#{connection_id}#{society_id}", "SK": f"MUID#{producer_id}"})


class DynamoDBClaims:
    """The claims of MyUnisoft ids and the verification counts (see the module docstring)."""

    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def __repr__(self) -> str:
        return f"DynamoDBClaims(table={self._table!r})"

    def claims(self, connection_id: str, society_id: int, producer_ids: Iterable[str]) -> dict[str, IdClaim]:
        """The claims among ``producer_ids`` (consistent reads, 100 per request)."""
        wanted = list(dict.fromkeys(producer_ids))
        found: dict[str, IdClaim] = {}
        for start in range(0, len(wanted), 100):
            keys = [claim_key(connection_id, society_id, p) for p in wanted[start : start + 100]]
            pending: Any = {self._table: {"Keys": keys, "ConsistentRead": True}}
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table, []):
                    claim = IdClaim.model_validate(from_item(item))
                    found[claim.producer_id] = claim
                pending = answer.get("UnprocessedKeys") or None
        return found

    def claim(self, change: EntryChange, producer_id: str, now: datetime) -> bool:
        """Claim ``producer_id`` for the change's entry version and apply the change, together."""
        key = change.key
        update = change_update(change, now)
        values = {
            "entry_id": key.entry_id,
            "version": change.version,
            "producer_id": producer_id,
            "claimed_at": now.isoformat(),
            "item_type": "claim",
        }
        put = {
            "TableName": self._table,
            "Item": {**claim_key(key.connection_id, key.society_id, producer_id), **to_item(values)},
            "ConditionExpression": "attribute_not_exists(PK) OR (entry_id = :entry AND #version = :version)",
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": to_item({":entry": key.entry_id, ":version": change.version}),
        }
        items: Any = [{"Put": put}, {"Update": {"TableName": self._table, **update}}]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            return False
        return True

    def record_check(self, record: EntryRecord, copy: MyUnisoftCopy, now: datetime) -> bool:
        """Set ``myunisoft`` on the uploaded entry version if its verification is still pending."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=entry_key(record.key),
                UpdateExpression="SET #m = :copy, updated_at = :now",
                ConditionExpression="#version = :version AND #status = :uploaded AND #m.#v = :pending",
                ExpressionAttributeNames={
                    "#m": "myunisoft",
                    "#v": "verification",
                    "#version": "version",
                    "#status": "status",
                },
                ExpressionAttributeValues=to_item(
                    {
                        ":copy": copy.as_item(),
                        ":now": now.isoformat(),
                        ":version": record.version,
                        ":uploaded": EntryStatus.UPLOADED.value,
                        ":pending": Verification.PENDING.value,
                    }
                ),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def count_by_verification(self, connection_id: str) -> dict[str, int]:
        """Uploaded entries of the connection by verification state (read in the table, file by
        file: GSI1 does not hold uploaded entries, docs/architecture.md §5)."""
        counts: Counter[str] = Counter()
        names = {"#m": "myunisoft", "#v": "verification"}
        uploaded = EntryStatus.UPLOADED.value
        for item in table_entries(self._client, self._table, connection_id, uploaded, "#m.#v", names):
            state = from_item(item).get("myunisoft", {}).get("verification")
            if state:
                counts[str(state)] += 1
        return dict(counts)
