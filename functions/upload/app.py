"""Upload worker (SQS, ``ReportBatchItemFailures``): the entries of one batch of messages are checked,
rendered, archived per client file and uploaded; each message is settled or handed back.

The records of one invocation are handled together rather than one by one (Powertools'
``BatchProcessor``): entries of one file share one archive, which is how the upload keeps up with a
backlog under MyUnisoft's request budget (docs/architecture.md §8). A message handed back was given its
own visibility (the backoff, or the rate-limit reset) by the use case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from upload.messages import Delivery
    from upload.ports import UploadPorts

logger = Logger()
tracer = Tracer(patch_modules=("botocore", "httpx"))  # what the worker calls: AWS and MyUnisoft
metrics = Metrics()


def get_ports() -> UploadPorts:
    """The worker's ports. The use cases, the adapters and the event models are imported on the
    first invocation, not at import: the container's init stays at the libraries' floor
    (docs/benchmarks.md, "Cold start")."""
    from upload.wiring import get_ports as wired_ports

    return wired_ports()


def delivery(record: SqsRecordModel) -> Delivery:
    from tra_core.store.entries import UploadRequest
    from upload.messages import Delivery

    body = str(record.body)
    try:
        request: UploadRequest | None = UploadRequest.model_validate_json(body)
    except ValidationError:
        logger.warning("unreadable upload message", extra={"message_id": record.messageId})
        request = None
    return Delivery(record.messageId, record.receiptHandle, body, request)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    from upload.use_cases import process

    records = parse(event=event, model=SqsModel).Records
    report = process(
        [delivery(record) for record in records],
        get_ports(),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    for name, count in sorted(report.counts.items()):
        metrics.add_metric(name=f"Upload.{name}", unit=MetricUnit.Count, value=count)
    logger.info("upload batch handled", extra={"messages": len(records), **report.counts})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed]}
