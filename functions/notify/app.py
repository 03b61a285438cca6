"""The notification functions (docs/architecture.md §9).

``relay``: the state table's stream consumer (DynamoDB Streams, ``ReportBatchItemFailures``).
Each record becomes an ``ItemChange`` and its events are published (``notify.relay``). Records are
taken in stream order: once one fails, the rest of the batch is handed back too, so the stream
retries from the failed one and events never overtake each other on the bus.

``deliver``: the webhook delivery worker (SQS, ``ReportBatchItemFailures``). The messages of a batch
are delivered concurrently (each waits at most the timeout on its own receiver, so one slow
endpoint never holds the others); a message to retry is handed back with the backoff as its
visibility (``notify.deliver``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from notify.deliver import Message, Result
    from notify.relay import RelayPorts
    from tra_core.domain.events import ItemChange

# The use cases, the adapters and Powertools' batch utility are imported on the first invocation,
# not at import: the container's init stays at the libraries' floor (docs/benchmarks.md, "Cold start").

logger = Logger()
tracer = Tracer(patch_modules=("botocore", "httpx"))  # what the functions call: AWS and receivers
metrics = Metrics()

#: Most deliveries of one batch in flight at once.
DELIVERY_CONCURRENCY = 10


class EarlierRecordFailed(RuntimeError):
    """A record after a failed one: handed back untouched, so the stream keeps its order."""


def item_change(record: DynamoDBRecord) -> ItemChange:
    """A stream record as the change the event mapping reads."""
    from tra_core.domain.events import ItemChange

    stream = record.dynamodb
    if stream is None or stream.sequence_number is None:
        raise ValueError("a DynamoDB stream record without its change")
    committed = stream.approximate_creation_date_time
    return ItemChange(
        keys=stream.keys,
        old=stream.old_image or None,
        new=stream.new_image or None,
        sequence_number=stream.sequence_number,
        committed_at=datetime.fromtimestamp(committed, UTC) if committed is not None else datetime.now(UTC),
    )


class _RelayBatch:
    """Publishes one batch's records in order, failing every record after a failed one."""

    def __init__(self, ports: RelayPorts):
        self.ports = ports
        self.failed = False
        self.published = 0

    def __call__(self, record: DynamoDBRecord) -> None:
        if self.failed:
            raise EarlierRecordFailed("an earlier record of this batch failed")
        from notify.relay import relay

        try:
            self.published += len(relay(item_change(record), self.ports))
        except Exception:
            self.failed = True
            raise


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def relay_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from notify.wiring import relay_ports

    batch = _RelayBatch(relay_ports())
    response = process_partial_response(
        event=event,
        record_handler=batch,
        processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
        context=context,
    )
    failed = len(response.get("batchItemFailures", []))
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=batch.published)
    logger.info(
        "stream batch relayed",
        extra={"records": len(event.get("Records", [])), "events": batch.published, "failed": failed},
    )
    return response


def _message(record: dict[str, Any]) -> Message:
    from notify.deliver import Message

    attributes = record.get("attributes") or {}
    return Message(
        message_id=str(record["messageId"]),
        receipt_handle=str(record["receiptHandle"]),
        body=str(record.get("body") or ""),
        receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def deliver_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from concurrent.futures import ThreadPoolExecutor

    from notify.deliver import Outcome, Result, deliver
    from notify.wiring import delivery_ports

    messages = [_message(record) for record in event.get("Records", [])]
    ports = delivery_ports()

    def safely(message: Message) -> Result:
        try:
            return deliver(message, ports)
        except Exception:  # e.g. the secrets store unreachable: the message comes back later
            logger.exception("webhook delivery failed", extra={"message_id": message.message_id})
            return Result(Outcome.RETRYING, "the bridge could not attempt the delivery")

    with ThreadPoolExecutor(max_workers=max(1, min(DELIVERY_CONCURRENCY, len(messages)))) as pool:
        results: list[Result] = list(pool.map(safely, messages))
    for message, result in zip(messages, results, strict=True):
        metrics.add_metric(name=f"Webhook.{result.outcome.value}", unit=MetricUnit.Count, value=1)
        if result.outcome is not Outcome.DELIVERED:
            logger.info(
                "webhook not delivered",
                extra={
                    "message_id": message.message_id,
                    "outcome": result.outcome.value,
                    "why": result.failure,
                },
            )
    return {
        "batchItemFailures": [
            {"itemIdentifier": message.message_id}
            for message, result in zip(messages, results, strict=True)
            if result.outcome is Outcome.RETRYING
        ]
    }
