"""HTTP API handler: each route parses its input, calls one use case and returns its view.

Errors are typed (``api.errors``, ``tra_core``) and mapped to a status and a stable code in one
place, ``typed_error``. The tenant always comes from the JWT authorizer's claims; a resource of
another tenant is answered 404, exactly like a missing one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from api import views
from api.connections import connect, disconnect, get_connection, list_files
from api.entries import EntryConflict, RequestTooLarge, replace_key_and_resume
from api.errors import (
    ConnectionNotActive,
    FileNotVisible,
    InvalidRequest,
    KeyRejected,
    NotFound,
    ReferencesNotReady,
    ServiceUnavailable,
    Unauthenticated,
)
from api.files import get_references, request_refresh
from api.intake_routes import router as intake_router
from api.intake_wiring import get_intake_ports
from api.settings import get_settings
from api.wiring import get_ports
from tra_core.domain.errors import TraError
from tra_core.store.errors import RateBudgetBusy

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = APIGatewayHttpResolver()
app.include_router(intake_router)

_TENANT = re.compile(r"[A-Za-z0-9._:@|+-]{1,128}")

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
    ServiceUnavailable: 503,
    RateBudgetBusy: 503,
}


class KeyRequest(BaseModel):
    """``{"api_key": "..."}``: the key is a secret from the moment it is parsed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: SecretStr = Field(min_length=1, max_length=8192)


def tenant() -> str:
    """The hub tenant named by the JWT authorizer's claims."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    value = claims.get(get_settings().TENANT_CLAIM)
    if not isinstance(value, str) or not _TENANT.fullmatch(value):
        raise Unauthenticated("The request does not name a tenant.")
    logger.append_keys(tenant=value)
    return value


def key_request() -> KeyRequest:
    try:
        return KeyRequest.model_validate_json(app.current_event.decoded_body or "")
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise InvalidRequest(
            'The body must be JSON like {"api_key": "..."}.', details={"problems": problems}
        ) from None


@app.post("/connections")
def create_connection() -> tuple[dict[str, Any], int]:
    result = connect(tenant(), key_request().api_key.get_secret_value(), get_ports())
    metrics.add_metric(
        name="ConnectionsCreated" if result.created else "ConnectionsReused", unit=MetricUnit.Count, value=1
    )
    metrics.add_metric(name="FilesDiscovered", unit=MetricUnit.Count, value=len(result.discovery.new))
    return views.connected(result), 201 if result.created else 200


@app.get("/connections/<connection_id>")
def read_connection(connection_id: str) -> dict[str, Any]:
    ports = get_ports()
    item = get_connection(tenant(), connection_id, ports)
    files = ports.files.list(item.connection_id)
    return views.connection(item, files, ports.connections.count_entries_by_status(item.connection_id))


@app.put("/connections/<connection_id>/key")
def put_key(connection_id: str) -> dict[str, Any]:
    api_key = key_request().api_key.get_secret_value()
    result = replace_key_and_resume(tenant(), connection_id, api_key, get_ports(), get_intake_ports)
    metrics.add_metric(name="KeysReplaced", unit=MetricUnit.Count, value=1)
    return views.connected(result)


@app.delete("/connections/<connection_id>")
def delete_connection(connection_id: str) -> dict[str, Any]:
    item = disconnect(tenant(), connection_id, get_ports())
    return {"connection_id": item.connection_id, "status": item.status.value}


@app.get("/connections/<connection_id>/files")
def read_files(connection_id: str) -> dict[str, Any]:
    return {"files": [views.client_file(f) for f in list_files(tenant(), connection_id, get_ports())]}


@app.get("/files/<file_id>/references")
def read_references(file_id: str) -> dict[str, Any]:
    return views.references(get_references(tenant(), file_id, get_ports()))


@app.post("/files/<file_id>/refresh")
def refresh_file(file_id: str) -> tuple[dict[str, Any], int]:
    item = request_refresh(tenant(), file_id, get_ports())
    return {"file_id": item.file_id, "status": "queued"}, 202


def error_response(
    status: int, code: str, message: str, details: dict[str, object] | None = None
) -> Response[str]:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps({"error": error})
    )


@app.exception_handler(TraError)
def typed_error(exc: TraError) -> Response[str]:
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


@app.exception_handler(Exception)
def unexpected_error(exc: Exception) -> Response[str]:
    logger.exception("unexpected error")
    return error_response(500, "INTERNAL_ERROR", "The bridge failed to handle this request; try again later.")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
