"""The HTTP API's composition root: the resolver, its routers, the error table and the handler.

Routes live in ``api.routes`` (one router per resource); each parses its input, calls one use case
and returns its view. Errors are typed (``api.errors``, ``tra_core``) and mapped to a status and a
stable code in one place, ``typed_error`` (docs/architecture.md §6). The tenant always comes from the
JWT authorizer's claims; a resource of another tenant is answered 404, exactly like a missing one.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api.errors import (
    ConnectionNotActive,
    EntryConflict,
    FileNotVisible,
    InvalidRequest,
    KeyRejected,
    NotFound,
    ReferencesNotReady,
    RequestTooLarge,
    ServiceUnavailable,
    Unauthenticated,
)
from api.routes import connections, entries, files, webhook
from api.telemetry import logger, metrics, tracer
from tra_core.domain.errors import TraError
from tra_core.store.ratebudget import RateBudgetBusy
from tra_core.webhooks.urls import WebhookUrlRefused

__all__ = ["app", "lambda_handler", "logger"]

app = APIGatewayHttpResolver()
app.include_router(connections.router)
app.include_router(files.router)
app.include_router(entries.router)
app.include_router(webhook.router)

STATUS_OF: dict[type[TraError], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    ReferencesNotReady: 404,
    ConnectionNotActive: 409,
    FileNotVisible: 409,
    EntryConflict: 409,
    RequestTooLarge: 413,
    KeyRejected: 422,
    WebhookUrlRefused: 422,
    ServiceUnavailable: 503,
    RateBudgetBusy: 503,
}


def error_response(
    status: int, code: str, message: str, details: dict[str, object] | None = None
) -> Response[str]:
    """The one error shape: ``{"error": {"code", "message"[, "details"]}}``."""
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps({"error": error})
    )


@app.exception_handler(TraError)  # type: ignore[untyped-decorator]
def typed_error(exc: TraError) -> Response[str]:
    """A typed error's status from ``STATUS_OF`` (by its nearest class), with its code and message."""
    status = next((STATUS_OF[k] for k in type(exc).__mro__ if k in STATUS_OF), 500)
    if status >= 500:
        logger.warning("request failed", extra={"code": exc.code, "status": status})
    response = error_response(status, exc.code, exc.message, exc.details)
    retry_after = getattr(exc, "retry_after_s", None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@app.not_found
def no_route(exc: NotFoundError) -> Response[str]:
    return error_response(404, "NOT_FOUND", "No such route.")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def unexpected_error(exc: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return error_response(500, "INTERNAL_ERROR", "The bridge failed to handle this request; try again later.")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
