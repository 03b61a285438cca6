"""Refresh handlers: the nightly schedule fans out; the queue worker refreshes one file per message.

The worker reports partial batch failures (``ReportBatchItemFailures``): a message that fails for
a transient reason comes back alone, and reaches the dead-letter queue after its last attempt.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Json

from refresh.use_cases import fan_out, handle
from refresh.wiring import get_ports
from tra_core.domain.errors import TraError
from tra_core.store.records import RefreshRequest

logger = Logger()
tracer = Tracer()
metrics = Metrics()

METRIC_OF = {
    "updated": "ReferencesUpdated",
    "unchanged": "ReferencesUnchanged",
    "failed": "RefreshFailed",
    "waiting_for_key": "RefreshWaitingForKey",
    "skipped": "RefreshSkipped",
    "superseded": "RefreshSuperseded",
    "discovered": "Rediscoveries",
}


class RefreshRecord(SqsRecordModel):
    body: Json[RefreshRequest]


class ScheduledEvent(EventBridgeModel):
    """EventBridge's ``Scheduled Event``; SAM's sample (``sam local generate-event``) has no ``version``."""

    version: str = "0"


processor = BatchProcessor(event_type=EventType.SQS, model=RefreshRecord, raise_on_entire_batch_failure=False)


def refresh_record(record: RefreshRecord) -> None:
    request = record.body
    logger.append_keys(connection_id=request.connection_id, society_id=request.society_id, kind=request.kind)
    try:
        handled = handle(request, get_ports())
    except Exception as exc:
        # The message comes back (and reaches the DLQ after its last attempt); say why, in codes.
        code = exc.code if isinstance(exc, TraError) else type(exc).__name__
        logger.warning("refresh message failed, it will be retried", extra={"code": code})
        metrics.add_metric(name="RefreshRetried", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=METRIC_OF[handled.outcome], unit=MetricUnit.Count, value=1)
    logger.info("refresh message handled", extra={"outcome": handled.outcome, "detail": handled.detail})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def worker_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=refresh_record, processor=processor, context=context
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def schedule_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    parse(event=event, model=ScheduledEvent)
    result = fan_out(get_ports())
    metrics.add_metric(name="RefreshFannedOut", unit=MetricUnit.Count, value=result.files)
    logger.info("nightly refresh queued", extra=result.__dict__)
    return {"connections": result.connections, "files": result.files, "messages": result.messages}
