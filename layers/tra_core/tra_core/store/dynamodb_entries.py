"""The entries of client files in DynamoDB (docs/architecture.md §5).

One item per entry of a client file, holding its latest version: ``FILE#<connection>#<society>`` /
``ENTRY#<entry_id>`` (the record of ``tra_core.store.entries``).

GSI1 (``CONN#<connection>#ENTRY#<status>`` / ``FILE#<society>#ENTRY#<entry_id>``) lists a
connection's entries by status (the counts of ``GET /connections/{id}``, the parked entries to
resume after a key replacement) and a file's entries by status. ``uploading`` entries share the
``queued`` partition (``tra_core.store.dynamodb.entry_status_partition``): listing either status
filters that partition on ``status``, and still fills every page.

Every status write names its lifecycle transition (``tra_core.domain.lifecycle``): it is refused
unless the table allows it from every status the write expects, and the write is a conditional
update naming that version, those statuses (and, for entries inside a batch, the batch).

Writes of many independent entries (a post, the answer to a batch) are one conditional request per
entry, sent from a few threads, not transactions: a transaction bills twice the write units and
nothing needs those entries written all or nothing (docs/architecture.md §5). The entry's body is
stored deflated (binary) to keep the item, and so each of its writes, under 1 KB.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from tra_core.domain.lifecycle import EntryStatus, Transition, expected_sources
from tra_core.store.dynamodb import (
    UNINDEXED_STATUSES,
    entry_status_partition,
    from_item,
    is_conditional_failure,
    item_without_keys,
    partition_statuses,
    table_entries,
    to_item,
)
from tra_core.store.entries import (
    KEEP,
    BatchExpectation,
    EntryChange,
    EntryKey,
    EntryRecord,
    SubmitOutcome,
    Submitted,
)
from tra_core.store.errors import InvalidCursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def entry_key(key: EntryKey) -> dict[str, Any]:
    return to_item({"PK": f"FILE#{key.connection_id}#{key.society_id}", "SK": f"ENTRY#{key.entry_id}"})


def entry_status_sort_key(society_id: int, entry_id: str) -> str:
    return f"FILE#{society_id}#ENTRY#{entry_id}"


#: Concurrent requests of one call writing many entries (botocore's pool holds 10 connections).
_WRITERS = 8

_T = TypeVar("_T")
_R = TypeVar("_R")


def _each_entry(write: Callable[[_T], _R], items: Sequence[_T], key: Callable[[_T], EntryKey]) -> list[_R]:
    """``write`` applied to every item, in order per entry, entries side by side; results in order.

    Items of the same entry (two versions in one post) are written one after the other, in their
    order, so the outcome does not depend on the threads.
    """
    groups: dict[EntryKey, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(key(item), []).append(index)
    results: dict[int, _R] = {}

    def write_group(indexes: list[int]) -> None:
        for index in indexes:
            results[index] = write(items[index])

    if len(groups) <= 1:
        for indexes in groups.values():
            write_group(indexes)
    else:
        with ThreadPoolExecutor(max_workers=min(_WRITERS, len(groups))) as pool:
            list(pool.map(write_group, groups.values()))  # re-raises the first failure
    return [results[i] for i in range(len(items))]


def _pack_body(body: str) -> Binary:
    """The entry's JSON, deflated: about half its size (entries repeat their field names)."""
    return Binary(zlib.compress(body.encode("utf-8"), 9))


def _unpack_body(stored: Any) -> str:
    """The entry's JSON from a stored body: deflated (binary), or plain text (items written before)."""
    if isinstance(stored, Binary):
        stored = stored.value  # type: ignore[attr-defined]  # boto3's stubs omit it
    if isinstance(stored, bytes):
        return zlib.decompress(stored).decode("utf-8")
    return str(stored)


def _item_values(record: EntryRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", exclude_none=True)
    values["body"] = _pack_body(record.body)
    values.update(
        PK=f"FILE#{record.connection_id}#{record.society_id}",
        SK=f"ENTRY#{record.entry_id}",
        GSI1SK=entry_status_sort_key(record.society_id, record.entry_id),
        item_type="entry",
    )
    if record.status.value not in UNINDEXED_STATUSES:
        values["GSI1PK"] = entry_status_partition(record.connection_id, record.status.value)
    return values


def _record(item: Mapping[str, Any]) -> EntryRecord:
    values = item_without_keys(from_item(item))
    if "body" in values:
        values["body"] = _unpack_body(values["body"])
    return EntryRecord.model_validate(values)


def entry_update(
    key: EntryKey,
    version: int,
    *,
    now: datetime,
    transition: Transition | None = None,
    expect_status: Collection[EntryStatus] | None = None,
    expect_batch: BatchExpectation = KEEP,
    set_values: Mapping[str, Any] | None = None,
    remove: Sequence[str] = (),
    add_attempts: int = 0,
) -> dict[str, Any]:
    """The parameters of a conditional ``UpdateItem`` of one entry version (also used in transactions).

    The entry must hold ``version``; when given, its status must be one of ``expect_status`` and its
    batch must be ``expect_batch``. A ``transition`` moves the entry to its status and expects, unless
    ``expect_status`` narrows them, the statuses it leaves from; ``TransitionRefused`` when the
    lifecycle table does not allow it from one of ``expect_status``. ``set_values`` are plain
    values (``None`` removes the attribute).
    """
    names: dict[str, str] = {"#version": "version", "#updated": "updated_at"}
    values: dict[str, Any] = {":version": version, ":now": now.isoformat()}
    sets = ["#updated = :now"]
    removes = list(remove)
    if transition is not None:
        expect_status = expected_sources(transition, expect_status)
        names["#status"] = "status"
        values[":status"] = transition.target.value
        sets.append("#status = :status")
        if transition.target.value in UNINDEXED_STATUSES:
            removes.append("GSI1PK")  # out of GSI1 (GSI1SK stays: alone it indexes nothing)
        else:
            values[":gsi"] = entry_status_partition(key.connection_id, transition.target.value)
            sets.append("GSI1PK = :gsi")
    for index, (name, value) in enumerate(sorted((set_values or {}).items())):
        if value is None:
            removes.append(name)
            continue
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        sets.append(f"#s{index} = :s{index}")
    expression = "SET " + ", ".join(sets)
    if add_attempts:
        values[":attempts"] = add_attempts
        expression += " ADD attempts :attempts"
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return {
        "Key": entry_key(key),
        "UpdateExpression": expression,
        "ConditionExpression": _condition(expect_status, expect_batch, names, values),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(values),
    }


def change_update(change: EntryChange, now: datetime) -> dict[str, Any]:
    """:func:`entry_update`'s parameters for one :class:`EntryChange`."""
    return entry_update(
        change.key,
        change.version,
        now=now,
        transition=change.transition,
        expect_status=change.expect_status,
        expect_batch=change.expect_batch,
        set_values=change.set_values,
        remove=change.remove,
        add_attempts=change.add_attempts,
    )


def _condition(
    expect_status: Collection[EntryStatus] | None,
    expect_batch: BatchExpectation,
    names: dict[str, str],
    values: dict[str, Any],
) -> str:
    """The condition of an entry update (its version, then the expected statuses and batch); adds the
    placeholders it uses to ``names`` and ``values``."""
    conditions = ["#version = :version"]
    if expect_status is not None:
        names["#status"] = "status"
        allowed = sorted(s.value for s in expect_status)
        placeholders = [f":e{i}" for i in range(len(allowed))]
        values.update(dict(zip(placeholders, allowed, strict=True)))
        conditions.append(f"#status IN ({', '.join(placeholders)})")
    if expect_batch is None:
        conditions.append("attribute_not_exists(batch_id)")
    elif isinstance(expect_batch, str):
        values[":batch"] = expect_batch
        conditions.append("batch_id = :batch")
    return " AND ".join(conditions)


def _encode_cursor(last: Mapping[str, Any] | None) -> str | None:
    if not last:
        return None
    plain = {k: _deserialize_key(v) for k, v in last.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode().rstrip("=")


def _deserialize_key(value: Mapping[str, Any]) -> str:
    return str(value.get("S", ""))


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None
    if not isinstance(plain, dict) or not all(isinstance(v, str) for v in plain.values()):
        raise InvalidCursor(cursor)
    return {k: {"S": v} for k, v in plain.items()}


def _start_key(
    cursor: str | None, exact: Mapping[str, str], prefixed: Mapping[str, str]
) -> dict[str, Any] | None:
    """The start key of ``cursor``, which must be a key of the page's own query (never another's)."""
    start = _decode_cursor(cursor)
    if start is None:
        return None
    plain = {name: value["S"] for name, value in start.items()}
    if (
        plain.keys() != exact.keys() | prefixed.keys()
        or any(plain[name] != value for name, value in exact.items())
        or any(not plain[name].startswith(prefix) for name, prefix in prefixed.items())
    ):
        raise InvalidCursor(cursor)
    return start


class DynamoDBEntries:
    """Entries of client files in the bridge's table (see the module docstring)."""

    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def __repr__(self) -> str:
        return f"DynamoDBEntries(table={self._table!r})"

    def submit(self, record: EntryRecord) -> Submitted:
        """Store a posted entry version unless this version or a newer one is already stored."""
        try:
            answer = self._client.put_item(
                TableName=self._table,
                Item=to_item(_item_values(record)),
                ConditionExpression="attribute_not_exists(PK) OR #version < :version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=to_item({":version": record.version}),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            current = self.get(record.key)
            if current is None:  # deleted in between: cannot happen, items are never deleted
                raise
            outcome: SubmitOutcome = "unchanged" if current.version == record.version else "outdated"
            return Submitted(outcome, current)
        return Submitted("superseded" if answer.get("Attributes") else "queued", record)

    def submit_many(self, records: Sequence[EntryRecord]) -> list[Submitted]:
        """:meth:`submit` for many entries.

        What is stored is read first (one request per 100 entries), so a repeated post writes
        nothing; the new and newer versions are then written one conditional put each (several at a
        time), each on the condition that nothing newer appeared meanwhile.
        """
        stored = self.get_many(r.key for r in records)
        results: dict[int, Submitted] = {}
        writes: list[tuple[int, EntryRecord]] = []
        for index, record in enumerate(records):
            current = stored.get(record.key)
            if current is None or current.version < record.version:
                writes.append((index, record))
            else:
                outcome: SubmitOutcome = "unchanged" if current.version == record.version else "outdated"
                results[index] = Submitted(outcome, current)
        written = _each_entry(lambda write: self.submit(write[1]), writes, lambda write: write[1].key)
        results.update((index, submitted) for (index, _), submitted in zip(writes, written, strict=True))
        return [results[i] for i in range(len(records))]

    def get(self, key: EntryKey) -> EntryRecord | None:
        answer = self._client.get_item(TableName=self._table, Key=entry_key(key), ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else _record(item)

    def get_many(self, keys: Iterable[EntryKey]) -> dict[EntryKey, EntryRecord]:
        """The stored entries among ``keys`` (consistent reads, 100 keys per request)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[EntryKey, EntryRecord] = {}
        for start in range(0, len(wanted), 100):
            pending: Any = {
                self._table: {
                    "Keys": [entry_key(k) for k in wanted[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while pending:
                answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table, []):
                    record = _record(item)
                    found[record.key] = record
                pending = answer.get("UnprocessedKeys") or None
        return found

    def update(
        self,
        key: EntryKey,
        version: int,
        *,
        now: datetime,
        transition: Transition | None = None,
        expect_status: Collection[EntryStatus] | None = None,
        expect_batch: BatchExpectation = KEEP,
        set_values: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        add_attempts: int = 0,
    ) -> EntryRecord | None:
        """Apply a conditional change (see :func:`entry_update`); the new record, or ``None`` when
        the entry no longer holds that version, status or batch."""
        parameters = entry_update(
            key,
            version,
            now=now,
            transition=transition,
            expect_status=expect_status,
            expect_batch=expect_batch,
            set_values=set_values,
            remove=remove,
            add_attempts=add_attempts,
        )
        try:
            answer = self._client.update_item(TableName=self._table, ReturnValues="ALL_NEW", **parameters)
        except ClientError as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _record(answer["Attributes"])

    def update_all(self, changes: Sequence[EntryChange], now: datetime) -> None:
        """Apply many conditional changes, skipping those whose condition no longer holds.

        One conditional update per change (several at a time): each change stands alone, so a
        transaction would only double the write units.
        """
        _each_entry(lambda change: self._apply(change, now), changes, lambda change: change.key)

    def _apply(self, change: EntryChange, now: datetime) -> None:
        parameters = change_update(change, now)
        try:
            self._client.update_item(TableName=self._table, **parameters)
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise

    def list_file(
        self,
        connection_id: str,
        society_id: int,
        *,
        status: EntryStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[EntryRecord], str | None]:
        """One page of a file's entries (by entry id), optionally only those in ``status``.

        Raises :class:`InvalidCursor` for a cursor this repository did not give.
        """
        arguments: dict[str, Any] = {"Limit": limit}
        pk = f"FILE#{connection_id}#{society_id}"
        indexed = status is not None and status.value not in UNINDEXED_STATUSES
        if not indexed:
            arguments.update(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :entry)",
                ExpressionAttributeValues=to_item({":pk": pk, ":entry": "ENTRY#"}),
                ConsistentRead=True,
            )
            if status is not None:  # not in GSI1: the file's entries, filtered
                arguments["ExpressionAttributeValues"].update(to_item({":status": status.value}))
                arguments.update(
                    FilterExpression="#status = :status", ExpressionAttributeNames={"#status": "status"}
                )
            start = _start_key(cursor, {"PK": pk}, {"SK": "ENTRY#"})
        else:
            assert status is not None
            gsi_pk = entry_status_partition(connection_id, status.value)
            arguments.update(_status_query(gsi_pk, status, f"FILE#{society_id}#ENTRY#"))
            prefixes = {"SK": "ENTRY#", "GSI1SK": f"FILE#{society_id}#ENTRY#"}
            start = _start_key(cursor, {"PK": pk, "GSI1PK": gsi_pk}, prefixes)
        if start is not None:
            arguments["ExclusiveStartKey"] = start
        if "FilterExpression" in arguments:
            return self._filled_page(arguments, limit, indexed=indexed)
        page = self._client.query(TableName=self._table, **arguments)
        records = [_record(item) for item in page.get("Items", [])]
        return records, _encode_cursor(page.get("LastEvaluatedKey"))

    def _filled_page(
        self, arguments: dict[str, Any], limit: int, *, indexed: bool
    ) -> tuple[list[EntryRecord], str | None]:
        """A page of ``limit`` entries of a filtered query (a shared GSI1 partition, or the file's
        entries in the table for a status GSI1 does not hold).

        DynamoDB applies ``Limit`` before the filter, so one request may return fewer entries than
        asked, even none, with more to come: requests follow each other until the page is full or
        the partition ends. Each reads at least :data:`_FILTERED_READ` items, so a status rare in its
        partition does not take one request per ``limit`` items; when that overshoots the page, the
        cursor is the key of the page's last entry and the next page starts after it.
        """
        arguments["Limit"] = max(limit, _FILTERED_READ)
        records: list[EntryRecord] = []
        while True:
            page = self._client.query(TableName=self._table, **arguments)
            records.extend(_record(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if len(records) > limit:
                del records[limit:]
                return records, _encode_cursor(_page_key(records[-1], indexed=indexed))
            if len(records) == limit or not last:
                return records, _encode_cursor(last)
            arguments["ExclusiveStartKey"] = last

    def list_by_status(self, connection_id: str, status: EntryStatus) -> list[EntryRecord]:
        """Every entry of a connection in ``status`` (every file; eventually consistent)."""
        if status.value in UNINDEXED_STATUSES:
            return [_record(i) for i in table_entries(self._client, self._table, connection_id, status.value)]
        arguments = _status_query(entry_status_partition(connection_id, status.value), status, "")
        records: list[EntryRecord] = []
        while True:
            page = self._client.query(TableName=self._table, **arguments)
            records.extend(_record(item) for item in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                return records
            arguments["ExclusiveStartKey"] = last


#: The fewest items one request of a filtered page reads (see ``DynamoDBEntries._filled_page``).
_FILTERED_READ = 200


def _status_query(gsi_pk: str, status: EntryStatus, sort_prefix: str) -> dict[str, Any]:
    """The arguments of a GSI1 query of the entries in ``status`` whose index sort key starts with
    ``sort_prefix``: a filter on ``status`` when its partition holds other statuses too."""
    condition = "GSI1PK = :pk AND begins_with(GSI1SK, :sk)" if sort_prefix else "GSI1PK = :pk"
    values: dict[str, Any] = {":pk": gsi_pk}
    if sort_prefix:
        values[":sk"] = sort_prefix
    arguments: dict[str, Any] = {"IndexName": "GSI1", "KeyConditionExpression": condition}
    if len(partition_statuses(status.value)) > 1:
        values[":status"] = status.value
        arguments.update(FilterExpression="#status = :status", ExpressionAttributeNames={"#status": "status"})
    arguments["ExpressionAttributeValues"] = to_item(values)
    return arguments


def _page_key(record: EntryRecord, *, indexed: bool) -> dict[str, Any]:
    """The key of an entry record as DynamoDB gives it in ``LastEvaluatedKey``: the table's, and
    GSI1's too when the page was read in GSI1."""
    key = {"PK": f"FILE#{record.connection_id}#{record.society_id}", "SK": f"ENTRY#{record.entry_id}"}
    if indexed:
        key["GSI1PK"] = entry_status_partition(record.connection_id, record.status.value)
        key["GSI1SK"] = entry_status_sort_key(record.society_id, record.entry_id)
    return to_item(key)
