"""Count the AWS requests the handlers make, and price them (docs/benchmarks.md, "Cost per entry").

``AwsMeter`` registers botocore hooks on every client built in this process while it is installed,
and wraps the handlers the bridges invoke, so each call is attributed either to a function (billed
as the function's own request) or to the harness standing in for Lambda's event source mappings
(SQS receives and deletes are billed to the account too; DynamoDB Streams reads by a Lambda trigger
are free; the pollers' queue-depth checks and empty receives are left out: a mapping's idle polling
is a fixed cost per queue, not a cost per entry). Billing units follow AWS's rules: DynamoDB read
units per 4 KB returned (half for an eventually consistent read, double in a transaction) and write
units per 1 KB written (double in a transaction); SQS and EventBridge per 64 KB chunk.
"""

from __future__ import annotations

import json
import math
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


def _size(value: Any) -> int:
    """An approximation of DynamoDB's item size: the JSON of its attribute names and values."""
    return len(json.dumps(value, default=str, separators=(",", ":")))


def _read_units(items: list[Any], consistent: bool, factor: float = 1.0) -> float:
    units = max(1, math.ceil(sum(_size(i) for i in items) / 4096))
    return units * factor * (1.0 if consistent else 0.5)


def _write_units(item: Any) -> int:
    return max(1, math.ceil(_size(item) / 1024)) if item is not None else 1


def dynamodb_units(operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB call. Updates and deletes count 1 unit per item:
    the request does not carry the stored item's size (an underestimate for items over 1 KB)."""
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
    idle_receives: int = 0
    _in_handler: int = 0

    def install(self, monkeypatch: Any) -> None:
        original = boto3.session.Session.client
        meter = self

        def client(session: boto3.session.Session, *args: Any, **kwargs: Any) -> Any:
            made = original(session, *args, **kwargs)
            made.meta.events.register("provide-client-params", meter._keep_params)
            made.meta.events.register("after-call", meter._after_call)
            return made

        monkeypatch.setattr(boto3.session.Session, "client", client)

    def wrap(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """The handler, timed and counted as one invocation of ``name``."""

        def invoke(event: Any, context: Any) -> Any:
            self._in_handler += 1
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                self.invocations.append((name, time.perf_counter() - started))
                self._in_handler -= 1

        return invoke

    def reset(self) -> None:
        self.calls.clear()
        self.units.clear()
        self.write_units_by_operation.clear()
        self.invocations.clear()
        self.idle_receives = 0

    @staticmethod
    def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["aws_meter_params"] = params  # the call's own parameters, for its billing units

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
        self.calls[(who, service, operation)] += 1
        self._bill(service, operation, params, parsed)

    def _bill(self, service: str, operation: str, body: dict[str, Any], parsed: dict[str, Any]) -> None:
        if service == "dynamodb":
            reads, writes = dynamodb_units(operation, body, parsed)
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
        for operation, units in sorted(self.write_units_by_operation.items()):
            print(f"  DynamoDB write units of {operation}: {units / entries:.3f} per entry")
        print(f"  (idle SQS polls, not billed per entry: {self.idle_receives})")
        dollars = {term: self.units[term] * PRICES[term] * per for term in PRICES if self.units[term]}
        for term, cost in sorted(dollars.items(), key=lambda kv: -kv[1]):
            print(f"  {term:22} {self.units[term] / entries:9.3f} units/entry  ${cost:.5f} per 1,000 entries")
        print(f"  TOTAL ${sum(dollars.values()):.4f} per 1,000 entries")
        return dollars
