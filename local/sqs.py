"""An SQS poller that invokes a Lambda handler the way the SQS event source mapping does.

moto cannot run Lambda code, so locally something must receive messages, hand them to the worker
as a real SQS event (``Records`` with ``messageId``, ``receiptHandle``, ``body``, ``attributes``...),
and honour the partial-batch answer (``batchItemFailures``): successes are deleted, failures come
back after ``retry_delay_s`` (the queue's redrive policy moves them to the DLQ after the last
receive). A handler that raises fails the whole batch, as on AWS.

Run one worker from the command line (the integration tests start several as processes):

    python -m local.sqs --queue-url URL --handler refresh.app.worker_handler --until-idle 1.5
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from local.pollers import sqs_record as lambda_sqs_record

Handler = Callable[[dict[str, Any], Any], Any]


class PollerContext:
    """A stand-in for the Lambda context object (what Powertools reads from it)."""

    function_name = "local-worker"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/local-worker"
    log_stream_name = "local"

    def __init__(self, timeout_s: float = 300.0):
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:local-worker"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str | None = None) -> dict[str, Any]:
    """One SQS message as the ``Records[]`` item of a Lambda SQS event (Lambda's camel-case shape).

    The one implementation is the stack's poller's (``local.pollers.sqs_record``); ``region``
    is read from the queue's ARN there and kept here for callers that pass it.
    """
    return lambda_sqs_record(message, queue_arn)


@dataclass
class PollStats:
    batches: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0


class SqsPoller:
    """Receives from one queue and invokes ``handler`` with SQS events (see the module docstring)."""

    def __init__(
        self,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        retry_delay_s: int = 0,
        client: Any = None,
    ):
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.retry_delay_s = retry_delay_s
        self._sqs = client or boto3.client("sqs")
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self._region = self._arn.split(":")[3]
        self.stats = PollStats()

    def poll_once(self, wait_s: int = 0) -> int:
        """Receive one batch and hand it to the handler; returns how many messages were received."""
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self._arn, self._region) for m in messages]}
        failed_ids = self._invoke(event)
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message in messages:
            if message["MessageId"] in failed_ids:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_delay_s,
                )
        self.stats.batches += 1
        self.stats.received += len(messages)
        self.stats.failed += len(failed_ids)
        self.stats.succeeded += len(messages) - len(failed_ids)
        return len(messages)

    def _invoke(self, event: dict[str, Any]) -> set[str]:
        every = {record["messageId"] for record in event["Records"]}
        try:
            answer = self.handler(event, PollerContext())
        except Exception:
            return every
        failures = (answer or {}).get("batchItemFailures", []) if isinstance(answer, dict) else []
        return {item["itemIdentifier"] for item in failures}

    def drain(self, *, idle_s: float = 0.5, max_s: float = 300.0) -> PollStats:
        """Poll until the queue stayed empty for ``idle_s`` (or ``max_s`` passed)."""
        deadline = time.monotonic() + max_s
        idle_since: float | None = None
        while time.monotonic() < deadline:
            if self.poll_once():
                idle_since = None
                continue
            now = time.monotonic()
            idle_since = idle_since or now
            if now - idle_since >= idle_s:
                break
            time.sleep(0.05)
        return self.stats


def load_handler(path: str) -> Handler:
    """``package.module.function`` → the function (the template's ``Handler`` notation)."""
    module_name, _, function_name = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), function_name)
    return handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Invoke a Lambda handler with messages from an SQS queue.")
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--handler", required=True, help="package.module.function, as in template.yaml")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--until-idle", type=float, default=1.0, help="stop after this long without messages")
    parser.add_argument("--max-seconds", type=float, default=600.0)
    args = parser.parse_args(argv)
    poller = SqsPoller(args.queue_url, load_handler(args.handler), batch_size=args.batch_size)
    stats = poller.drain(idle_s=args.until_idle, max_s=args.max_seconds)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({**stats.__dict__, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
