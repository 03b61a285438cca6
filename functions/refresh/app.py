"""Refresh handlers: the nightly schedule fans out; the queue worker refreshes one file per message.

The worker reports partial batch failures (``ReportBatchItemFailures``): a message that fails for
a transient reason comes back alone, and reaches the dead-letter queue after its last attempt.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from refresh.use_cases import RefreshPorts
    from tra_core.store.records import RefreshRequest

logger = Logger()
tracer = Tracer(patch_modules=("botocore", "httpx"))  # what the functions call: AWS and MyUnisoft
metrics = Metrics()

METRIC_OF = {
    "updated": "ReferencesUpdated",
    "unchanged": "ReferencesUnchanged",
    "failed": "RefreshFailed",
    "waiting_for_key": "RefreshWaitingForKey",
    "skipped": "RefreshSkipped",
    "superseded": "RefreshSuperseded",
    "discovered": "Rediscoveries",
    "postponed": "RefreshPostponed",
}


# What an invocation needs (the use cases, the adapters, the event models) is imported on the first
# one, not at import, and each function loads only its own: the container's init stays at the
# libraries' floor (docs/benchmarks.md, "Cold start").


def get_ports() -> RefreshPorts:
    """The refresh functions' ports (their wiring and boto3's clients load on first use)."""
    from refresh.wiring import get_ports as wired_ports

    return wired_ports()


@cache
def worker_processor() -> BatchProcessor:
    """The worker's SQS batch processor, whose records carry one ``RefreshRequest`` each."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
    from pydantic import Json

    from tra_core.store.records import RefreshRequest  # noqa: F401  (pydantic resolves the annotation here)

    class RefreshRecord(SqsRecordModel):
        body: Json[RefreshRequest]

    return BatchProcessor(event_type=EventType.SQS, model=RefreshRecord, raise_on_entire_batch_failure=False)


@cache
def scheduled_event_model() -> type[EventBridgeModel]:
    """EventBridge's ``Scheduled Event``; SAM's sample (``sam local generate-event``) has no ``version``."""
    from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

    class ScheduledEvent(EventBridgeModel):
        version: str = "0"

    return ScheduledEvent


def refresh_record(record: SqsRecordModel) -> None:
    from refresh.use_cases import handle
    from tra_core.domain.errors import TraError

    request = cast("RefreshRequest", record.body)  # parsed by worker_processor()'s record model
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
    from aws_lambda_powertools.utilities.batch import process_partial_response

    return process_partial_response(
        event=event, record_handler=refresh_record, processor=worker_processor(), context=context
    )


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def schedule_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    from aws_lambda_powertools.utilities.parser import parse

    from refresh.use_cases import fan_out

    parse(event=event, model=scheduled_event_model())
    result = fan_out(get_ports())
    metrics.add_metric(name="RefreshFannedOut", unit=MetricUnit.Count, value=result.files)
    logger.info("nightly refresh queued", extra=result.__dict__)
    return {"connections": result.connections, "files": result.files, "messages": result.messages}
