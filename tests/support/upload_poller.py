"""An SQS poller for the upload worker that behaves like Lambda's SQS event source mapping.

Unlike a poller that re-schedules failures itself, this one leaves a failed message alone: the
worker has already set its visibility (the backoff, or the rate-limit reset), exactly as it does on
AWS, where the event source mapping never touches the visibility of a failed item. It also gathers
up to ``batch_size`` messages per invocation (the template's ``BatchSize`` with a batching window).

Run one worker as a process (the scale test starts several):

    python -m tests.support.upload_poller --queue-url URL --until-idle 1.5
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from typing import Any

import boto3

from local.sqs import Handler, PollerContext, load_handler, sqs_record

UPLOAD_HANDLER = "upload.app.lambda_handler"


@dataclass
class UploadPollStats:
    invocations: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    errors: int = 0
    ended: str = ""
    """``idle`` (the queue was empty) or ``deadline`` (``max_s`` ran out with work left)."""


class UploadPoller:
    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 50,
        batch_window_s: float = 0.0,
        client: Any = None,
    ):
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.batch_window_s = batch_window_s
        self._sqs = client or boto3.client("sqs")
        arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._arn = arn
        self._region = arn.split(":")[3]
        self.stats = UploadPollStats()

    def receive(self, wait_s: int = 0) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages (long-polling ``wait_s`` for the first ones); once one
        arrived, keep gathering for ``batch_window_s``."""
        messages: list[dict[str, Any]] = []
        window_ends: float | None = None
        while len(messages) < self.batch_size:
            answer = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else wait_s,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            got: list[Any] = answer.get("Messages", [])
            messages.extend(got)
            if messages and window_ends is None:
                window_ends = time.monotonic() + self.batch_window_s
            if not got:
                if window_ends is None or time.monotonic() >= window_ends:
                    break
                time.sleep(0.2)
        return messages

    def invoke(self, messages: list[dict[str, Any]]) -> set[str]:
        event = {"Records": [sqs_record(m, self._arn, self._region) for m in messages]}
        try:
            answer = self.handler(event, PollerContext())
        except Exception:
            self.stats.errors += 1
            traceback.print_exc()
            return {m["MessageId"] for m in messages}
        return {item["itemIdentifier"] for item in (answer or {}).get("batchItemFailures", [])}

    def poll_once(self, wait_s: int = 0) -> int:
        messages = self.receive(wait_s)
        if not messages:
            return 0
        failed = self.invoke(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        self.stats.invocations += 1
        self.stats.received += len(messages)
        self.stats.failed += len(messages) - len(done)
        self.stats.succeeded += len(done)
        return len(messages)

    def pending(self) -> int:
        """Messages visible, in flight (hidden until their retry time) or delayed."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values() if value.isdigit())

    def drain(self, *, idle_s: float = 0.3, max_s: float = 120.0, wait_s: int = 0) -> UploadPollStats:
        """Poll until nothing is left on the queue, visible or hidden, for ``idle_s`` (or ``max_s``).

        ``wait_s`` long-polls (as Lambda's event source mapping does), sparing the queue's server.
        """
        deadline = time.monotonic() + max_s
        idle_since: float | None = None
        self.stats.ended = "deadline"
        while time.monotonic() < deadline:
            if self.poll_once(wait_s):
                idle_since = None
                continue
            now = time.monotonic()
            if self.pending():
                idle_since = None
            else:
                idle_since = idle_since or now
                if now - idle_since >= idle_s:
                    self.stats.ended = "idle"
                    break
            time.sleep(0.05 if not wait_s else 0.2)
        return self.stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the upload worker on an SQS queue until it is empty.")
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--handler", default=UPLOAD_HANDLER)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batch-window", type=float, default=0.0, help="seconds spent gathering a batch")
    parser.add_argument("--until-idle", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    poller = UploadPoller(
        args.queue_url,
        load_handler(args.handler),
        batch_size=args.batch_size,
        batch_window_s=args.batch_window,
    )
    stats = poller.drain(idle_s=args.until_idle, max_s=args.max_seconds, wait_s=1)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({**asdict(stats), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
