"""The sample events of ``events/`` (shared with ``sam local``), and variants built from them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json``."""
    with (EVENTS_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    return event


def api_event(
    method: str,
    path: str,
    *,
    tenant: str | None = "tenant-demo",
    body: Any = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway v2 (HTTP API) event with the JWT authorizer's claims naming ``tenant``."""
    event = load_event("api_gateway_http")
    event["routeKey"] = f"{method} {path}"
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["requestContext"]["requestId"] = uuid.uuid4().hex
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    if tenant is None:
        claims.pop("tenant", None)
    else:
        claims["tenant"] = tenant
    if raw_body is not None:
        event["body"] = raw_body
    elif body is None:
        event["body"] = None
    else:
        event["body"] = json.dumps(body)
    return event


def schedule_event() -> dict[str, Any]:
    return load_event("eventbridge_schedule")


def sqs_event(bodies: list[str], *, queue_arn: str | None = None) -> dict[str, Any]:
    """An SQS event carrying ``bodies``, one record each, shaped like ``events/sqs_refresh.json``."""
    sample = load_event("sqs_refresh")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(sample)
        record["messageId"] = str(uuid.uuid4())
        record["body"] = body
        if queue_arn:
            record["eventSourceARN"] = queue_arn
        records.append(record)
    return {"Records": records}


class LambdaContext:
    """The parts of the Lambda context the handlers (and Powertools) read."""

    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:test-function"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000
