"""Count the AWS requests the handlers make, and price them (docs/benchmarks.md, "Cost per entry").

``AwsMeter`` registers botocore hooks on every client built in this process while it is installed,
and wraps the handlers the bridges invoke, so each call is attributed either to a function (billed
as the function's own request) or to the harness standing in for Lambda's event source mappings
(SQS receives and deletes are billed to the account too; DynamoDB Streams reads by a Lambda trigger
are free; the pollers' queue-depth checks and empty receives are left out: a mapping's idle polling
is a fixed cost per queue, not a cost per entry).

DynamoDB request units are measured where DynamoDB Local can tell them: every DynamoDB call is made
with ``ReturnConsumedCapacity=INDEXES`` and the units in the answer are counted, the index's writes
included (an update is billed on the larger of the item's old and new sizes, which the request alone
does not tell). DynamoDB Local reports only one item's units for a ``TransactWriteItems`` of many, so
a transaction is priced from the items themselves: the meter reads them before and after (with a
client of its own, not counted, its time taken out of the handler's) and applies AWS's rules, per
item twice the larger of the old and new sizes in KB, rounded up, plus the index entry's write (its
old and new entries both when the item moves in the index). A call answered without units (a write
refused by its condition) falls back to an estimate from the request: write units per 1 KB written
(1 per update), read units per 4 KB returned (half for an eventually consistent read, double in a
transaction). SQS and EventBridge are counted per 64 KB chunk.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

#: AWS list prices for eu-west-3 (Paris), US dollars, on-demand, no free tier (docs/benchmarks.md).
PRICES = {
    "lambda.request": 0.20 / 1e6,
    "lambda.gb_second": 0.0000166667,
    "sqs.request": 0.40 / 1e6,
    "dynamodb.wru": 0.7425 / 1e6,
    "dynamodb.rru": 0.1485 / 1e6,
    "s3.put": 0.0053 / 1e3,
    "s3.get": 0.00042 / 1e3,
    "secretsmanager.call": 0.05 / 1e4,
    "kms.request": 0.03 / 1e4,
    "events.put": 1.00 / 1e6,
}
S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "DeleteObject"}
FREE_STREAM_READS = "dynamodbstreams"
#: DynamoDB operations that can report the capacity they consumed, and whether they write.
CAPACITY_OPERATIONS = {
    "GetItem": False,
    "BatchGetItem": False,
    "Query": False,
    "Scan": False,
    "TransactGetItems": False,
    "PutItem": True,
    "UpdateItem": True,
    "DeleteItem": True,
    "BatchWriteItem": True,
    "TransactWriteItems": True,
}


def _size(value: Any) -> int:
    """An approximation of DynamoDB's item size: the JSON of its attribute names and values."""
    return len(json.dumps(value, default=str, separators=(",", ":")))


def _read_units(items: list[Any], consistent: bool, factor: float = 1.0) -> float:
    units = max(1, math.ceil(sum(_size(i) for i in items) / 4096))
    return units * factor * (1.0 if consistent else 0.5)


def _write_units(item: Any) -> int:
    return max(1, math.ceil(_size(item) / 1024)) if item is not None else 1


#: The table's key and the index's key attributes (``StateTable``, docs/architecture.md §5).
TABLE_KEY = ("PK", "SK")
INDEX_KEYS = (("GSI1PK", "GSI1SK"),)


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: the UTF-8 bytes of each attribute name and value
    (numbers about one byte per two digits, plus one; maps and lists 3 bytes, plus one per element)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return (len(content.lstrip("-").replace(".", "").lstrip("0") or "0") + 1) // 2 + 1
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in content.items())
    if kind in ("L",):
        return 3 + sum(_value_size(v) + 1 for v in content)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: v}) for v in content)
    raise ValueError(f"unknown DynamoDB type {kind}")


def _kb(item: dict[str, Any] | None) -> int:
    return 0 if item is None else max(1, math.ceil(item_size(item) / 1024))


def transaction_write_units(
    changes: list[tuple[dict[str, Any] | None, dict[str, Any] | None]],
) -> tuple[float, float]:
    """(write units, of which the index's) of a committed transaction, from each item's (old, new)
    images: twice the larger size in KB; the index entry's write likewise (old and new entries both
    when the item's index key changed)."""
    table = index = 0
    for old, new in changes:
        table += max(_kb(old), _kb(new)) or 1
        for keys in INDEX_KEYS:
            old_key = None if old is None else tuple(str(old.get(k)) for k in keys if k in old)
            new_key = None if new is None else tuple(str(new.get(k)) for k in keys if k in new)
            old_in = old_key is not None and len(old_key) == len(keys)
            new_in = new_key is not None and len(new_key) == len(keys)
            if old_in and new_in and old_key == new_key:
                index += max(_kb(old), _kb(new))
            else:
                index += (_kb(old) if old_in else 0) + (_kb(new) if new_in else 0)
    return 2.0 * (table + index), 2.0 * index


def consumed_units(operation: str, parsed: dict[str, Any]) -> tuple[float, float, float] | None:
    """(read units, write units, of which the indexes' write units) DynamoDB reports it consumed,
    or ``None`` when the answer carries none (a refused condition, an error)."""
    consumed = parsed.get("ConsumedCapacity")
    if consumed is None or operation not in CAPACITY_OPERATIONS:
        return None
    reports = consumed if isinstance(consumed, list) else [consumed]
    total = sum(float(r.get("CapacityUnits", 0.0)) for r in reports)
    indexes = sum(
        float(i.get("CapacityUnits", 0.0))
        for r in reports
        for i in (*r.get("GlobalSecondaryIndexes", {}).values(), *r.get("LocalSecondaryIndexes", {}).values())
    )
    if CAPACITY_OPERATIONS[operation]:
        return 0.0, total, indexes
    return total, 0.0, 0.0


def dynamodb_units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB call estimated from its request and answer (when
    DynamoDB reports none). Updates and deletes count 1 unit per item: the request does not carry
    the stored item's size (an underestimate for items over 1 KB), nor the index writes."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return _read_units([parsed.get("Item", {})], consistent), 0.0
    if operation in ("Query", "Scan"):
        return _read_units(parsed.get("Items", []), consistent), 0.0
    if operation == "BatchGetItem":
        found = [i for items in parsed.get("Responses", {}).values() for i in items]
        return sum(_read_units([i], consistent) for i in found), 0.0
    if operation == "TransactGetItems":
        return sum(_read_units([r.get("Item", {})], True, 2.0) for r in parsed.get("Responses", [])), 0.0
    if operation == "PutItem":
        return 0.0, float(_write_units(params.get("Item")))
    if operation in ("UpdateItem", "DeleteItem"):
        return 0.0, 1.0
    if operation == "BatchWriteItem":
        writes = [w for ws in params.get("RequestItems", {}).values() for w in ws]
        return 0.0, float(sum(_write_units(w.get("PutRequest", {}).get("Item")) for w in writes))
    if operation == "TransactWriteItems":
        items = params.get("TransactItems", [])
        return 0.0, float(sum(2 * _write_units(i.get("Put", {}).get("Item")) for i in items))
    return 0.0, 0.0


def _chunks(payload: Any) -> int:
    return max(1, math.ceil(_size(payload) / 65536))


@dataclass
class AwsMeter:
    """AWS calls and handler invocations while installed (``monkeypatch`` undoes it)."""

    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (who, service, op)
    units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    invocations: list[tuple[str, float]] = field(default_factory=list)  # (handler, seconds)
    write_units_by_operation: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    index_write_units: float = 0.0
    estimated_calls: Counter[str] = field(default_factory=Counter)  # DynamoDB calls with no report
    idle_receives: int = 0
    _in_handler: int = 0
    _overhead: float = 0.0  # seconds the meter spent reading items inside handlers
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, monkeypatch: Any) -> None:
        original = boto3.session.Session.client
        meter = self

        def client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            made = original(session, *args, **kwargs)
            made.meta.events.register("provide-client-params", meter._keep_params)
            made.meta.events.register("after-call", meter._after_call)
            if made.meta.service_model.service_name == "dynamodb":
                reader = original(session, *args, **kwargs)  # the meter's own reads, not counted
                made.meta.events.register(
                    "provide-client-params.dynamodb.TransactWriteItems",
                    lambda params, context, **_: meter._read_before(reader, params, context),
                )
                made.meta.events.register(
                    "after-call.dynamodb.TransactWriteItems",
                    lambda parsed, context, **_: meter._read_after(reader, parsed, context),
                )
            return made

        monkeypatch.setattr(boto3.session.Session, "client", client)

    def wrap(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """The handler, timed and counted as one invocation of ``name``."""

        def invoke(event: Any, context: Any) -> Any:
            self._in_handler += 1
            started, overhead = time.perf_counter(), self._overhead
            try:
                return handler(event, context)
            finally:
                spent = time.perf_counter() - started - (self._overhead - overhead)
                self.invocations.append((name, spent))
                self._in_handler -= 1

        return invoke

    def reset(self) -> None:
        self.calls.clear()
        self.units.clear()
        self.write_units_by_operation.clear()
        self.index_write_units = 0.0
        self.estimated_calls.clear()
        self.invocations.clear()
        self.idle_receives = 0

    @staticmethod
    def _keep_params(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "dynamodb" and model.name in CAPACITY_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "INDEXES")  # DynamoDB reports its units
        context["aws_meter_params"] = params  # the call's own parameters, for its billing units

    def _read_before(self, reader: Any, params: dict[str, Any], context: dict[str, Any]) -> None:
        keys = []
        for action in params.get("TransactItems", []):
            ((kind, item),) = action.items()
            if kind != "ConditionCheck":
                key = item["Item"] if kind == "Put" else item["Key"]
                keys.append((item["TableName"], {name: key[name] for name in TABLE_KEY}))
        context["aws_meter_keys"] = keys
        context["aws_meter_old"] = self._read(reader, keys)

    def _read_after(self, reader: Any, parsed: dict[str, Any], context: dict[str, Any]) -> None:
        if "Error" not in parsed and "aws_meter_keys" in context:
            context["aws_meter_new"] = self._read(reader, context["aws_meter_keys"])

    def _read(self, reader: Any, keys: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
        """The items at ``keys`` (consistent reads), ``None`` where there is none."""
        started = time.perf_counter()
        found: dict[tuple[str, ...], dict[str, Any]] = {}
        pending: Any = {}
        for table, key in keys:
            pending.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
        while pending:
            answer = reader.batch_get_item(RequestItems=pending)
            for table, items in answer.get("Responses", {}).items():
                for item in items:
                    found[(table, *(str(item[name]) for name in TABLE_KEY))] = item
            pending = answer.get("UnprocessedKeys") or None
        if self._in_handler:
            self._overhead += time.perf_counter() - started
        return [found.get((table, *(str(key[name]) for name in TABLE_KEY))) for table, key in keys]

    def _after_call(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params: dict[str, Any] = context.get("aws_meter_params", {})
        service = model.service_model.service_name
        operation = model.name
        if service == "sqs" and operation == "ReceiveMessage" and not parsed.get("Messages"):
            self.idle_receives += 1  # a poller's empty poll: a fixed cost per queue, not per entry
            return
        who = "function" if self._in_handler else "event source"
        if who == "event source" and operation == "GetQueueAttributes":
            return  # the test pollers' "is the queue empty" check: Lambda's mappings make no such call
        with self._lock:  # the store may call from a pool of threads
            self.calls[(who, service, operation)] += 1
            self._bill(service, operation, params, parsed, context)

    def _bill(
        self,
        service: str,
        operation: str,
        body: dict[str, Any],
        parsed: dict[str, Any],
        context: dict[str, Any],
    ) -> None:
        if service == "dynamodb":
            measured = consumed_units(operation, parsed)
            if operation == "TransactWriteItems" and "aws_meter_new" in context:
                changes = list(zip(context["aws_meter_old"], context["aws_meter_new"], strict=True))
                measured = (0.0, *transaction_write_units(changes))
            if measured is None:
                reads, writes = dynamodb_units(operation, body, parsed)
                self.estimated_calls[operation] += 1
            else:
                reads, writes, index_writes = measured
                self.index_write_units += index_writes
            self.units["dynamodb.rru"] += reads
            self.units["dynamodb.wru"] += writes
            self.write_units_by_operation[operation] += writes
        elif service == "sqs":
            entries = body.get("Entries")
            self.units["sqs.request"] += sum(_chunks(e) for e in entries) if entries else _chunks(body)
        elif service == FREE_STREAM_READS:
            return
        elif service == "s3":
            self.units["s3.put" if operation in S3_PUT_CLASS else "s3.get"] += 1
        elif service == "secretsmanager":
            self.units["secretsmanager.call"] += 1
            if operation == "GetSecretValue":
                self.units["kms.request"] += 1  # Secrets Manager decrypts with the stack's key
        elif service == "kms":
            self.units["kms.request"] += 1
        elif service == "events":
            self.units["events.put"] += sum(_chunks(e) for e in body.get("Entries", [])) or 1

    def lambda_units(self, memory_mb: int) -> None:
        """Lambda requests and GB-seconds of the invocations (each rounded up to the millisecond)."""
        self.units["lambda.request"] += len(self.invocations)
        seconds = sum(math.ceil(s * 1000) / 1000 for _, s in self.invocations)
        self.units["lambda.gb_second"] += seconds * memory_mb / 1024

    def report(self, entries: int, title: str) -> dict[str, float]:
        """Print calls and dollars per 1,000 entries; return dollars per 1,000 entries by term."""
        per = 1000 / entries
        print(f"\n== {title}: {entries} entries ==")
        for (who, service, operation), count in sorted(self.calls.items()):
            print(f"  {who:12} {service:15} {operation:22} {count / entries:8.3f} per entry")
        handlers = Counter(name for name, _ in self.invocations)
        for name, count in sorted(handlers.items()):
            seconds = sum(s for n, s in self.invocations if n == name)
            print(f"  lambda       {name:38} {count / entries:8.3f} per entry, {seconds / count:.3f} s each")
        for operation, units in sorted(u for u in self.write_units_by_operation.items() if u[1]):
            print(f"  DynamoDB write units of {operation}: {units / entries:.3f} per entry")
        index_units = self.index_write_units / entries
        print(f"  DynamoDB write units on the indexes (in the above): {index_units:.3f} per entry")
        for operation, count in sorted(self.estimated_calls.items()):
            print(f"  DynamoDB {operation} calls without a capacity report (estimated): {count}")
        print(f"  (idle SQS polls, not billed per entry: {self.idle_receives})")
        dollars = {term: self.units[term] * PRICES[term] * per for term in PRICES if self.units[term]}
        for term, cost in sorted(dollars.items(), key=lambda kv: -kv[1]):
            print(f"  {term:22} {self.units[term] / entries:9.3f} units/entry  ${cost:.5f} per 1,000 entries")
        print(f"  TOTAL ${sum(dollars.values()):.4f} per 1,000 entries")
        return dollars
