"""A DynamoDB Streams poller: what Lambda's stream event source mapping does, against DynamoDB Local.

For each ``DynamoDB`` event of the template, the poller reads the table's stream shard by shard
(a child shard only once its parent is read to its end), takes up to ``BatchSize`` records with
``GetRecords``, and invokes the function with the event Lambda builds: ``Records`` with
``eventID``, ``eventName``, ``eventVersion``, ``eventSource`` (``aws:dynamodb``), ``awsRegion``,
``eventSourceARN`` and ``dynamodb`` (``Keys``, ``NewImage``, ``OldImage`` as attribute values,
``SequenceNumber``, ``SizeBytes``, ``StreamViewType``, ``ApproximateCreationDateTime`` in epoch
seconds). The batch is settled as AWS does:

- the function succeeds: the shard moves past the batch;
- the function fails (error or timeout): the whole batch is read again from its first record;
- with ``ReportBatchItemFailures``: the shard moves up to the lowest sequence number named in
  ``batchItemFailures`` and reads again from there; an empty list is a success.

A batch retried more than ``MaximumRetryAttempts`` times (when set) is skipped, as Lambda sends it
to the on-failure destination; it is counted in ``stats.discarded``. Two things of the deployed
mapping are not reproduced: ``FilterCriteria`` (every record reaches the function, which ignores
items that make no events) and ``BisectBatchOnFunctionError``.
"""

from __future__ import annotations

import base64
import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local.pollers import failed_message_ids
from local.topology import StreamMapping

Invoke = Callable[[str, dict[str, Any], float | None], Any]


def _json_value(value: Any) -> Any:
    """boto3's stream record values as JSON (binary as base64, times as epoch seconds)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_value(v) for v in value]
    return value


def _repaired(value: Any) -> Any:
    """An attribute value with DynamoDB Local's stream quirk undone: it writes an empty map nested in
    an item as ``{}`` where DynamoDB (and so Lambda's event) has ``{"M": {}}``."""
    if not isinstance(value, dict):
        return value
    if not value:
        return {"M": {}}
    if "M" in value and isinstance(value["M"], dict):
        return {"M": {k: _repaired(v) for k, v in value["M"].items()}}
    if "L" in value and isinstance(value["L"], list):
        return {"L": [_repaired(v) for v in value["L"]]}
    return value


def stream_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One ``GetRecords`` record as the ``Records[]`` item of the event Lambda's stream mapping sends."""
    shaped: dict[str, Any] = _json_value(record)
    change = shaped.get("dynamodb", {})
    for image in ("Keys", "NewImage", "OldImage"):
        if isinstance(change.get(image), dict):
            change[image] = {name: _repaired(value) for name, value in change[image].items()}
    shaped["eventSourceARN"] = stream_arn
    return shaped


@dataclass
class StreamStats:
    batches: int = 0
    records: int = 0
    failed: int = 0
    function_errors: int = 0
    retries: int = 0
    discarded: int = 0
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Shard:
    shard_id: str
    parent: str | None
    iterator: str | None = None
    finished: bool = False
    retries: int = 0


@dataclass
class StreamPoller:
    """Reads one table stream for one mapping and invokes its function (see the module docstring)."""

    mapping: StreamMapping
    stream_arn: str
    invoke: Invoke
    streams: Any
    idle_wait_s: float = 0.25
    retry_wait_s: float = 0.5
    on_batch: Callable[[str], None] | None = None
    stats: StreamStats = field(default_factory=StreamStats)
    _shards: dict[str, _Shard] = field(default_factory=dict, repr=False)
    _first_listing: bool = field(default=True, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def _discover(self) -> None:
        """Learn new shards: those there at the start begin at the mapping's starting position,
        later ones at their beginning (every record of a new shard is new)."""
        answer = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        position = self.mapping.starting_position if self._first_listing else "TRIM_HORIZON"
        self._first_listing = False
        for shard in answer.get("Shards", []):
            if shard["ShardId"] in self._shards:
                continue
            state = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            state.iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=state.shard_id,
                ShardIteratorType="LATEST" if position == "LATEST" else "TRIM_HORIZON",
            )["ShardIterator"]
            self._shards[state.shard_id] = state

    def _ready(self, shard: _Shard) -> bool:
        parent = self._shards.get(shard.parent) if shard.parent else None
        return not shard.finished and (parent is None or parent.finished)

    def poll_once(self) -> int:
        """One pass over the readable shards; returns how many records were handed to the function."""
        self._discover()
        handled = 0
        for shard in list(self._shards.values()):
            if self._ready(shard):
                handled += self._poll_shard(shard)
        return handled

    def _poll_shard(self, shard: _Shard) -> int:
        if shard.iterator is None:
            shard.finished = True
            return 0
        answer = self.streams.get_records(ShardIterator=shard.iterator, Limit=max(1, self.mapping.batch_size))
        records = answer.get("Records", [])
        if not records:
            shard.iterator = answer.get("NextShardIterator")
            shard.finished = shard.iterator is None
            return 0
        failed_from = self._invoke(records)
        if failed_from is None:
            shard.iterator, shard.retries = answer.get("NextShardIterator"), 0
            shard.finished = shard.iterator is None
        else:
            self._retry(shard, failed_from, answer.get("NextShardIterator"))
        return len(records)

    def _invoke(self, records: list[dict[str, Any]]) -> str | None:
        """Invoke the function on one batch; the sequence number to read again from (None: done)."""
        event = {"Records": [stream_record(r, self.stream_arn) for r in records]}
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        self.stats.batches += 1
        self.stats.records += len(records)
        try:
            payload = self.invoke(self.mapping.function, event, None)
        except Exception as exc:
            self.stats.function_errors += 1
            self.stats.last_error = str(exc)
            failed = set(numbers)
        else:
            failed = failed_message_ids(payload, numbers, self.mapping.report_item_failures)
        self.stats.failed += len(failed)
        if self.on_batch is not None:
            self.on_batch(
                f"{self.mapping.function} <- stream: {len(records)} record(s), {len(failed)} failed"
            )
        return None if not failed else min(failed, key=int)

    def _retry(self, shard: _Shard, sequence_number: str, following: str | None) -> None:
        shard.retries += 1
        self.stats.retries += 1
        limit = self.mapping.max_retry_attempts
        if limit >= 0 and shard.retries > limit:
            self.stats.discarded += 1
            shard.iterator, shard.retries = following, 0
            shard.finished = following is None
            return
        shard.iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn,
            ShardId=shard.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence_number,
        )["ShardIterator"]
        self._stop.wait(self.retry_wait_s)

    def drain(self, *, idle_s: float = 0.5, max_s: float = 60.0) -> StreamStats:
        """Poll until no record came for ``idle_s`` (or ``max_s`` passed); for tests and tools."""
        import time

        deadline = time.monotonic() + max_s
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            if self.poll_once():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= idle_s:
                break
            else:
                time.sleep(0.05)
        return self.stats

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(self.idle_wait_s)
            except Exception as exc:  # the stream is unreachable for a moment (e.g. while stopping)
                self.stats.last_error = str(exc)
                self._stop.wait(0.5)

    def start(self) -> StreamPoller:
        if self.mapping.enabled:
            self._thread = threading.Thread(target=self.run, name=f"stream-{self.mapping.name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout)
