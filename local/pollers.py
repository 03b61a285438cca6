"""SQS pollers: what Lambda's SQS event source mapping does, for every queue mapping of the template.

Each poller long-polls its queue, hands up to ``BatchSize`` messages to the function as the SQS
event Lambda builds (``Records`` with ``messageId``, ``receiptHandle``, ``body``, ``attributes``,
``messageAttributes`` in Lambda's camel-case shape, ``md5OfBody``, ``eventSource``,
``eventSourceARN``, ``awsRegion``) and settles the batch as AWS does:

- the function succeeds: every message is deleted;
- the function fails (error or timeout): no message is deleted;
- with ``ReportBatchItemFailures``: the messages named in ``batchItemFailures`` stay, the others
  are deleted; an empty or missing list is a success, and a failure naming no message of the
  batch fails the whole batch.

A message that stays becomes visible again when the queue's visibility timeout (from the
template) runs out, and the queue's own redrive policy moves it to the dead-letter queue after
``maxReceiveCount`` receives: moto's SQS applies the ``RedrivePolicy`` the template declares, as
AWS does. ``retry_delay_s`` (off by default) shortens the wait before a failed message comes back,
for local runs that should not wait half an hour; it changes nothing else.

Concurrency: the mapping runs ``concurrency`` pollers (threads), each receiving its own batch and
invoking the function with it, so at most that many batches are in the function at once, as
``ScalingConfig.MaximumConcurrency`` bounds a deployed mapping (the stack sets it,
docs/architecture.md §7). ``stats.peak_in_flight`` records the most batches that were in the function
at once.

``enabled`` switches the mapping off and on while the stack runs, as ``UpdateEventSourceMapping``
(``Enabled``) does: a batch already in the function finishes, no new one is received until it is
switched on again (``POST /_local/mappings/{name}``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.topology import QueueMapping

#: Pauses between empty receives of an idle poller: the first, and the longest (doubling between).
IDLE_PAUSE_S = (0.05, 1.0)

Invoke = Callable[[str, dict[str, Any], float | None], Any]

#: The system attributes Lambda passes on (FIFO and tracing ones only when SQS sets them).
_LAMBDA_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def _attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS message attribute (boto3's ``StringValue``/``DataType``) in Lambda's camel-case shape."""
    binary = value.get("BinaryValue")
    if isinstance(binary, bytes | bytearray):
        binary = base64.b64encode(binary).decode("ascii")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": binary,
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [
            base64.b64encode(b).decode("ascii") if isinstance(b, bytes | bytearray) else b
            for b in value.get("BinaryListValues") or []
        ],
        "dataType": value.get("DataType", "String"),
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """One received message as the ``Records[]`` item of the event Lambda's SQS mapping sends."""
    attributes = message.get("Attributes", {}) or {}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: str(attributes[k]) for k in _LAMBDA_ATTRIBUTES if k in attributes},
        "messageAttributes": {
            name: _attribute_value(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(payload: Any, batch_ids: Iterable[str], report_item_failures: bool) -> set[str]:
    """Which messages of a batch the function's answer leaves on the queue (Lambda's rules)."""
    batch = set(batch_ids)
    if not report_item_failures or not isinstance(payload, dict):
        return set()
    failures = payload.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return batch
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in batch:
            return batch  # a malformed answer fails the whole batch
        failed.add(identifier)
    return failed


@dataclass
class PollerStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    function_errors: int = 0
    last_error: str | None = None
    #: Batches in the function right now, and the most there ever were at once.
    in_flight: int = 0
    peak_in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def entering(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def settled(self, received: int, failed: int, error: str | None) -> None:
        """Count one batch (several poller threads update the same stats)."""
        with self._lock:
            self.in_flight -= 1
            self.batches += 1
            self.received += received
            self.failed += failed
            self.deleted += received - failed
            if error is not None:
                self.function_errors += 1
                self.last_error = error


@dataclass
class QueuePoller:
    """Polls one queue for one mapping and invokes the mapping's function (see the module docstring)."""

    mapping: QueueMapping
    queue_url: str
    queue_arn: str
    invoke: Invoke
    sqs: Any
    retry_delay_s: int | None = None
    wait_s: int = 1
    on_batch: Callable[[str], None] | None = None
    #: Poller threads, hence batches in the function at once (the mapping's MaximumConcurrency).
    concurrency: int = 1
    stats: PollerStats = field(default_factory=PollerStats)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _enabled: threading.Event = field(default_factory=threading.Event, repr=False)
    _receiving: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _idle: threading.local = field(default_factory=threading.local, repr=False)

    def __post_init__(self) -> None:
        self._enabled.set()

    @property
    def enabled(self) -> bool:
        """Whether the pollers receive (switched by ``enable``; a disabled mapping is not started)."""
        return self._enabled.is_set()

    def enable(self, enabled: bool) -> None:
        """Switch receiving on or off (``UpdateEventSourceMapping --enabled``)."""
        if enabled:
            self._enabled.set()
        else:
            self._enabled.clear()

    @property
    def batch_size(self) -> int:
        return max(1, self.mapping.batch_size)

    def _receive(self, count: int) -> list[dict[str, Any]]:
        # One receive at a time per mapping: concurrent receives from moto's SQS handed one message
        # to two pollers (the first receipt handle then invalid), which SQS does not do to a
        # mapping's pollers. The lock is held for one short receive, never for a long poll, so a
        # poller gathering its batch never waits behind another's idle wait.
        with self._receiving:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=count,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def _first_messages(self) -> list[dict[str, Any]]:
        """Wait up to ``wait_s`` for messages: short receives, pausing longer (up to a second)
        while the queue stays empty, so that idle pollers cost little and a busy queue none."""
        deadline = time.monotonic() + self.wait_s
        idle = self._idle  # each poller thread's own pause
        if not hasattr(idle, "pause_s"):
            idle.pause_s = IDLE_PAUSE_S[0]
        while True:
            messages = self._receive(min(self.batch_size, 10))
            if messages:
                idle.pause_s = IDLE_PAUSE_S[0]
                return messages
            if time.monotonic() >= deadline or self._stop.wait(idle.pause_s):
                return messages
            idle.pause_s = min(idle.pause_s * 2, IDLE_PAUSE_S[1])

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to ``BatchSize`` messages, gathering for ``MaximumBatchingWindowInSeconds`` when set.

        SQS hands out at most 10 messages per receive; larger batches are gathered over several
        receives within the batching window, as the event source mapping does.
        """
        messages = self._first_messages()
        window_ends = time.monotonic() + self.mapping.batching_window_s
        while messages and len(messages) < self.batch_size and time.monotonic() < window_ends:
            more = self._receive(min(self.batch_size - len(messages), 10))
            if not more:
                time.sleep(0.1)
            messages.extend(more)
        return messages

    def poll_once(self) -> int:
        """Receive one batch, invoke the function, settle the batch; returns the messages received."""
        messages = self.receive_batch()
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue_arn) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        error: str | None = None
        failed = set(ids)
        self.stats.entering()
        try:
            try:
                payload = self.invoke(self.mapping.function, event, None)
            except Exception as exc:
                error = str(exc)
            else:
                failed = failed_message_ids(payload, ids, self.mapping.report_item_failures)
            self._settle(messages, failed)
        finally:
            self.stats.settled(len(messages), len(failed), error)
        if self.on_batch is not None:
            self.on_batch(
                f"{self.mapping.function} <- {self.mapping.queue}: {len(messages)} message(s), "
                f"{len(failed)} failed"
            )
        return len(messages)

    def _settle(self, messages: list[dict[str, Any]], failed: set[str]) -> None:
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        if self.retry_delay_s is None:
            return  # failed messages come back when the queue's visibility timeout runs out
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay_s,
                )

    def run(self) -> None:
        while not self._stop.is_set():
            if not self._enabled.is_set():
                self._stop.wait(0.2)
                continue
            try:
                self.poll_once()
            except Exception as exc:  # the queue is unreachable for a moment (e.g. while stopping)
                self.stats.last_error = str(exc)
                self._stop.wait(0.5)

    def start(self) -> QueuePoller:
        """Start ``concurrency`` poller threads (none when the mapping is disabled)."""
        if self.mapping.enabled:
            for number in range(self.concurrency):
                thread = threading.Thread(
                    target=self.run, name=f"poller-{self.mapping.name}-{number}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every poller thread, waiting up to ``timeout`` in all for batches in the function."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            with contextlib.suppress(RuntimeError):
                thread.join(max(deadline - time.monotonic(), 0.0))
