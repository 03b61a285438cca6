"""DynamoDB repositories for connections and client files (one table, docs/architecture.md §5).

| item        | PK                 | SK                 | GSI1PK                        | GSI1SK        |
|-------------|--------------------|--------------------|-------------------------------|---------------|
| connection  | ``TENANT#<tenant>``| ``CONN#<id>``      | ``CONN_STATUS#<status>``      | ``CONN#<id>`` |
| client file | ``CONN#<id>``      | ``FILE#<society>`` |                               |               |
| entry       | (upload worker)    |                    | ``CONN#<id>#ENTRY#<status>``  | (free)        |

Entries ``uploading`` sit in the ``queued`` partition of GSI1, ``uploaded`` ones in none
(:func:`entry_status_partition`).

The connection's tenant is part of its key, so a tenant can only ever read its own connections;
a file is reached through its connection. GSI1 lists the active connections (nightly fan-out) and
counts a connection's entries by status. Writes that race (discovery against refresh, a revocation
against a key replacement) are conditional updates of the attributes each writer owns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tra_core.domain.discovery import discovery_warnings, plan_discovery
from tra_core.domain.lifecycle import EntryStatus
from tra_core.store.records import (
    ClientFile,
    Connection,
    ConnectionStatus,
    DiscoveredFile,
    Discovery,
    ReferenceCounts,
    RefreshResult,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the records only hold integers."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values → DynamoDB attribute values (``None`` values are left out)."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → plain values (integers as ``int``)."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def connection_key(tenant: str, connection_id: str) -> dict[str, Any]:
    return to_item({"PK": f"TENANT#{tenant}", "SK": f"CONN#{connection_id}"})


def file_key(connection_id: str, society_id: int) -> dict[str, Any]:
    return to_item({"PK": f"CONN#{connection_id}", "SK": f"FILE#{society_id}"})


#: Statuses kept in another status's GSI1 partition. An entry is claimed (``queued`` → ``uploading``)
#: within seconds of its post, in a transaction that bills every write twice: in one partition the
#: claim updates the entry's index copy in place (1 write) instead of moving it (a delete and a
#: put). Readers of a shared partition filter on ``status`` (docs/architecture.md §5).
_PARTITION_OF: dict[str, str] = {EntryStatus.UPLOADING.value: EntryStatus.QUEUED.value}


#: Statuses whose entries are not in GSI1 (the item has no ``GSI1PK``). ``uploaded`` is where nearly
#: every entry ends and stays: indexed, its move there would be a delete and a put in the index and
#: its verification (a transaction) one more index write, doubled. Its counts and lists read the
#: connection's files in the table instead (:func:`table_entries`, docs/architecture.md §5).
UNINDEXED_STATUSES = frozenset({EntryStatus.UPLOADED.value})


def entry_status_partition(connection_id: str, status: str) -> str:
    """The GSI1 partition an entry item sits in while it has ``status`` (for the counts); an entry
    in one of :data:`UNINDEXED_STATUSES` sits in none."""
    return f"CONN#{connection_id}#ENTRY#{_PARTITION_OF.get(status, status)}"


def partition_statuses(status: str) -> frozenset[str]:
    """Every status whose entries sit in the GSI1 partition of ``status`` (itself included)."""
    home = _PARTITION_OF.get(status, status)
    return frozenset(s.value for s in EntryStatus if _PARTITION_OF.get(s.value, s.value) == home)


def table_entries(
    client: DynamoDBClient,
    table: str,
    connection_id: str,
    status: str,
    projection: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Every entry item of the connection in ``status`` (its ``projection`` only, when given, whose
    ``#status`` stands for ``status``), read in the table, file by file, several at a time;
    eventually consistent. For the statuses GSI1 does not hold; the items keep their raw values."""
    files = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :file)",
        ProjectionExpression="SK",
        ExpressionAttributeValues=to_item({":pk": f"CONN#{connection_id}", ":file": "FILE#"}),
    )
    societies = [item["SK"]["S"].removeprefix("FILE#") for page in files for item in page.get("Items", [])]

    def read(society: str) -> list[dict[str, Any]]:
        arguments: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :entry)",
            "FilterExpression": "#status = :status",
            "ExpressionAttributeNames": {**(names or {}), "#status": "status"},
            "ExpressionAttributeValues": to_item(
                {":pk": f"FILE#{connection_id}#{society}", ":entry": "ENTRY#", ":status": status}
            ),
        }
        if projection:
            arguments["ProjectionExpression"] = projection
        pages = client.get_paginator("query").paginate(**arguments)
        return [item for page in pages for item in page.get("Items", [])]

    if len(societies) <= 1:
        return [item for society in societies for item in read(society)]
    with ThreadPoolExecutor(max_workers=min(_FILE_READERS, len(societies))) as pool:
        return [item for items in pool.map(read, societies) for item in items]


#: Files read at a time by :func:`table_entries` (botocore's pool holds 10 connections).
_FILE_READERS = 8


class _Table:
    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._client.query(TableName=self._table, **kwargs)
            for item in page.get("Items", []):
                yield from_item(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _count(self, **kwargs: Any) -> int:
        total = 0
        while True:
            page = self._client.query(TableName=self._table, Select="COUNT", **kwargs)
            total += int(page.get("Count", 0))
            last = page.get("LastEvaluatedKey")
            if not last:
                return total
            kwargs["ExclusiveStartKey"] = last


class DynamoDBConnections(_Table):
    """Connections, keyed by tenant (a tenant never reads another tenant's connection)."""

    def get(self, tenant: str, connection_id: str) -> Connection | None:
        answer = self._client.get_item(
            TableName=self._table, Key=connection_key(tenant, connection_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else Connection.model_validate(from_item(item))

    def save(self, connection: Connection) -> None:
        values = connection.model_dump(mode="json", exclude_none=True)
        values.update(
            PK=f"TENANT#{connection.tenant}",
            SK=f"CONN#{connection.connection_id}",
            GSI1PK=f"CONN_STATUS#{connection.status.value}",
            GSI1SK=f"CONN#{connection.connection_id}",
            item_type="connection",
        )
        self._client.put_item(TableName=self._table, Item=to_item(values))

    def mark_revoked(
        self, connection: Connection, *, code: str, message: str, now: datetime
    ) -> Connection | None:
        revoked = ConnectionStatus.REVOKED.value
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=connection_key(connection.tenant, connection.connection_id),
                UpdateExpression=(
                    "SET #status = :revoked, status_code = :code, status_message = :message, "
                    "updated_at = :now, GSI1PK = :gsi"
                ),
                ConditionExpression="#status = :active AND key_fingerprint = :fingerprint",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_item(
                    {
                        ":revoked": revoked,
                        ":active": ConnectionStatus.ACTIVE.value,
                        ":code": code,
                        ":message": message,
                        ":now": now.isoformat(),
                        ":gsi": f"CONN_STATUS#{revoked}",
                        ":fingerprint": connection.key_fingerprint,
                    }
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return Connection.model_validate(from_item(answer["Attributes"]))

    def record_discovery(
        self, tenant: str, connection_id: str, *, at: datetime, warnings: Sequence[str]
    ) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=connection_key(tenant, connection_id),
                UpdateExpression="SET last_discovery_at = :at, discovery_warnings = :warnings",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_item({":at": at.isoformat(), ":warnings": list(warnings)}),
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def set_settings(
        self, tenant: str, connection_id: str, *, create_missing_subsidiaries: bool, now: datetime
    ) -> Connection | None:
        try:
            answer = self._client.update_item(
                TableName=self._table,
                Key=connection_key(tenant, connection_id),
                UpdateExpression="SET create_missing_subsidiaries = :create, updated_at = :now",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_item(
                    {":create": create_missing_subsidiaries, ":now": now.isoformat()}
                ),
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return Connection.model_validate(from_item(answer["Attributes"]))

    def list_active(self) -> list[Connection]:
        items = self._query(
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues=to_item({":pk": f"CONN_STATUS#{ConnectionStatus.ACTIVE.value}"}),
        )
        return [Connection.model_validate(item) for item in items]

    def count_entries_by_status(self, connection_id: str) -> dict[str, int]:
        """The connection's entries per status: one paged index query per GSI1 partition (a
        partition of several statuses reads each entry's status, one of one status only counts);
        the statuses GSI1 does not hold are counted in the table."""
        counts = dict.fromkeys((status.value for status in EntryStatus), 0)
        for status in UNINDEXED_STATUSES:
            counts[status] = len(table_entries(self._client, self._table, connection_id, status, "#status"))
        for status in counts.keys() - UNINDEXED_STATUSES:
            shared = partition_statuses(status)
            if status != min(shared):
                continue  # its partition is read with the first of its statuses
            arguments: dict[str, Any] = {
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :pk",
                "ExpressionAttributeValues": to_item({":pk": entry_status_partition(connection_id, status)}),
            }
            if len(shared) == 1:
                counts[status] = self._count(**arguments)
                continue
            arguments.update(ProjectionExpression="#status", ExpressionAttributeNames={"#status": "status"})
            for item in self._query(**arguments):
                if item.get("status") in shared:
                    counts[str(item["status"])] += 1
        return counts


class DynamoDBFiles(_Table):
    """Client files of a connection: one item per MyUnisoft dossier."""

    def get(self, connection_id: str, society_id: int) -> ClientFile | None:
        answer = self._client.get_item(
            TableName=self._table, Key=file_key(connection_id, society_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return None if item is None else ClientFile.model_validate(item_without_keys(from_item(item)))

    def list(self, connection_id: str) -> list[ClientFile]:
        items = self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :file)",
            ExpressionAttributeValues=to_item({":pk": f"CONN#{connection_id}", ":file": "FILE#"}),
            ConsistentRead=True,
        )
        files = [ClientFile.model_validate(item_without_keys(item)) for item in items]
        return sorted(files, key=lambda f: f.society_id)

    def apply_discovery(
        self, connection: Connection, discovered: Sequence[DiscoveredFile], now: datetime
    ) -> Discovery:
        known = self.list(connection.connection_id)
        plan = plan_discovery(known, discovered)
        hidden_before = {f.society_id for f in known if not f.visible}
        for dossier in (*plan.new, *plan.seen):
            self._upsert_listed(connection, dossier, now)
        for society_id in plan.vanished:
            self._hide(connection.connection_id, society_id, now)
        files = tuple(self.list(connection.connection_id))
        return Discovery(
            files=files,
            new=tuple(d.society_id for d in plan.new),
            vanished=plan.vanished,
            returned=tuple(sorted(hidden_before & {d.society_id for d in plan.seen})),
            warnings=discovery_warnings(files),
        )

    def _upsert_listed(self, connection: Connection, dossier: DiscoveredFile, now: datetime) -> None:
        # One idempotent update both creates a new file and refreshes a known one, without touching
        # the reference attributes a concurrent refresh may be writing.
        sets = {
            "tenant": connection.tenant,
            "connection_id": connection.connection_id,
            "society_id": dossier.society_id,
            "#name": dossier.name,
            "visible": True,
            "last_seen_at": now.isoformat(),
            "item_type": "file",
        }
        removes = ["not_visible_since"]
        for optional in ("siret", "folder_reference"):
            value = getattr(dossier, optional)
            if value is None:
                removes.append(optional)
            else:
                sets[optional] = value
        values = {f":{name.lstrip('#')}": value for name, value in sets.items()}
        values[":now"] = now.isoformat()
        expression = "SET " + ", ".join(f"{name} = :{name.lstrip('#')}" for name in sets)
        expression += ", first_seen_at = if_not_exists(first_seen_at, :now) REMOVE " + ", ".join(removes)
        self._client.update_item(
            TableName=self._table,
            Key=file_key(connection.connection_id, dossier.society_id),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues=to_item(values),
        )

    def _hide(self, connection_id: str, society_id: int, now: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=file_key(connection_id, society_id),
                UpdateExpression=(
                    "SET visible = :false, not_visible_since = if_not_exists(not_visible_since, :now)"
                ),
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_item({":false": False, ":now": now.isoformat()}),
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def record_snapshot(
        self,
        file: ClientFile,
        *,
        version: int,
        content_hash: str,
        counts: ReferenceCounts,
        result: RefreshResult,
    ) -> bool:
        if file.reference_version is None:
            condition = "attribute_exists(PK) AND attribute_not_exists(reference_version)"
            values: dict[str, Any] = {}
        else:
            condition = "attribute_exists(PK) AND reference_version = :expected"
            values = {":expected": file.reference_version}
        values.update(
            {
                ":version": version,
                ":hash": content_hash,
                ":at": result.at.isoformat(),
                ":counts": counts.model_dump(mode="json"),
                ":result": result.model_dump(mode="json", exclude_none=True),
            }
        )
        try:
            self._client.update_item(
                TableName=self._table,
                Key=file_key(file.connection_id, file.society_id),
                UpdateExpression=(
                    "SET reference_version = :version, reference_hash = :hash, refreshed_at = :at, "
                    "reference_counts = :counts, last_refresh = :result"
                ),
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def record_refresh(self, connection_id: str, society_id: int, result: RefreshResult) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=file_key(connection_id, society_id),
                UpdateExpression="SET last_refresh = :result",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_item(
                    {":result": result.model_dump(mode="json", exclude_none=True)}
                ),
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise


def item_without_keys(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in {"PK", "SK", "GSI1PK", "GSI1SK", "item_type"}}
