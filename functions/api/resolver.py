"""The HTTP API's composition root: the resolver, its routers and the error table.

Routes live in ``api.routes`` (one router per resource). Every input is checked at the edge before a
route runs: the body by ``api.request.screen_request`` and ``decode_json_body``, then every path
parameter, query parameter and body by the route's declared types (Powertools' validation). Errors
are typed (``api.errors``, ``tra_core``) and mapped to a status and a stable code in one place,
``typed_error`` (docs/architecture.md §6); anything else is a bug, answered 500 with a request id
and nothing more. The tenant always comes from the JWT authorizer's claims; a resource of another
tenant is answered 404, exactly like a missing one. The handler (``api.app``) imports this module on
its first invocation.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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
    UnsupportedMediaType,
)
from api.refusals import refusal_of
from api.request import decode_json_body, screen_request
from api.routes import connections, entries, files, webhook
from api.telemetry import logger
from tra_core.domain.errors import TraError
from tra_core.store.errors import RateBudgetBusy
from tra_core.webhooks.urls import WebhookUrlRefused

__all__ = ["app", "refused_at_the_edge"]

app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=decode_json_body)
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
    UnsupportedMediaType: 415,
    KeyRejected: 422,
    WebhookUrlRefused: 422,
    ServiceUnavailable: 503,
    RateBudgetBusy: 503,
}


def error_response(
    status: int, code: str, message: str, details: dict[str, object] | None = None, **extra: str
) -> Response[str]:
    """The one error shape: ``{"error": {"code", "message"[, "details"]}}``."""
    error: dict[str, object] = {"code": code, "message": message, **extra}
    if details:
        error["details"] = details
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps({"error": error})
    )


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


def invalid_input(exc: RequestValidationError) -> Response[str]:
    """An input outside its declared bounds: the refusal of ``api.refusals``."""
    refusal = refusal_of(exc.errors())
    if refusal is None:  # an answer that does not match its own model
        return unexpected_error(exc)
    return typed_error(refusal)


@app.not_found
def no_route(exc: NotFoundError) -> Response[str]:
    return error_response(404, "NOT_FOUND", "No such route.")


def unexpected_error(exc: Exception) -> Response[str]:
    """A bug: logged with its trace, answered with nothing but a request id to report."""
    logger.exception("unexpected error")
    request_id = app.current_event.request_context.request_id or "unknown"
    return error_response(500, "INTERNAL_ERROR", "Internal error.", request_id=request_id)


app.exception_handler(TraError)(typed_error)
app.exception_handler(RequestValidationError)(invalid_input)
app.exception_handler(Exception)(unexpected_error)


def refused_at_the_edge(event: dict[str, Any]) -> dict[str, Any] | None:
    """The answer to a request whose body cannot be read (``screen_request``), else ``None``."""
    try:
        screen_request(event)
    except TraError as refusal:
        response = typed_error(refusal)
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": response.body,
            "isBase64Encoded": False,
        }
    return None
