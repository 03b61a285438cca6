"""Verification worker (SQS, ``ReportBatchItemFailures``): the entries of accepted archives are read
back from MyUnisoft and matched (``verify.use_cases``).

The messages of one invocation are handled together, so one read-back serves every message of a
client file. Counts are published as metrics; ``Verify.not_found`` is alarmed (template.yaml).
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

    from verify.ports import VerifyPorts
    from verify.use_cases import Message

logger = Logger()
tracer = Tracer(patch_modules=("botocore", "httpx"))  # what the worker calls: AWS and MyUnisoft
metrics = Metrics()


def get_ports() -> VerifyPorts:
    """The worker's ports. The use case, the adapters and the event models are imported on the
    first invocation, not at import: the container's init stays at the libraries' floor
    (docs/benchmarks.md, "Cold start")."""
    from verify.wiring import get_ports as wired_ports

    return wired_ports()


def message(record: SqsRecordModel) -> Message:
    from tra_core.store.verification import VerifyRequest
    from verify.use_cases import Message

    try:
        request: VerifyRequest | None = VerifyRequest.model_validate_json(str(record.body))
    except ValidationError:
        logger.warning("unreadable verification message", extra={"message_id": record.messageId})
        request = None
    return Message(record.messageId, request)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    from aws_lambda_powertools.utilities.parser import parse
    from aws_lambda_powertools.utilities.parser.models import SqsModel

    from verify.use_cases import process

    records = parse(event=event, model=SqsModel).Records
    report = process([message(record) for record in records], get_ports())
    for name, count in sorted(report.counts.items()):
        metrics.add_metric(name=f"Verify.{name}", unit=MetricUnit.Count, value=count)
    logger.info("verification batch handled", extra={"messages": len(records), **report.counts})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed]}
