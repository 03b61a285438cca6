"""What the API refuses, in one table per route, and how an input outside its bounds is answered.

``refusal_of`` turns the errors of Powertools' request validation (``api.request_models``) into the
API's own typed errors: a path parameter that cannot be an id is "not found", a bad query parameter
``INVALID_<NAME>``, a body that does not fit its model ``INVALID_REQUEST`` (or the model's own code,
such as ``KEY_INVALID`` for a key no MyUnisoft key looks like, a 422 like every unusable key), each
problem named by its field, never echoing the value sent.

``responses`` documents, for the OpenAPI description, every status and code a route can answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api.errors import InvalidRequest, KeyRejected, NotFound
from api.response_models import ErrorBody
from tra_core.domain.errors import TraError
from tra_core.webhooks.urls import WebhookUrlRefused

_UNPROCESSABLE: dict[str, type[TraError]] = {
    "KEY_INVALID": KeyRejected,
    "WEBHOOK_URL_REFUSED": WebhookUrlRefused,
}
"""Codes of the key's and the webhook URL's own checks: a 422, whoever finds them unusable."""
_QUERY_MESSAGES = {
    "limit": "limit must be a whole number between 1 and 1000.",
    "status": "Unknown status: use one of queued, uploading, uploaded, rejected, waiting_for_key, "
    "waiting_for_references, failed.",
    "cursor": "The cursor is not one this API gave.",
}


def refusal_of(errors: Sequence[Mapping[str, Any]]) -> TraError | None:
    """The refusal for these validation errors; ``None`` when they are about a response (a bug)."""
    locations = [tuple(error.get("loc") or ()) for error in errors]
    if any(loc[:1] == ("response",) for loc in locations):
        return None
    for loc in locations:
        if loc[:1] == ("path",):
            name = str(loc[1]) if len(loc) > 1 else "id"
            return NotFound(
                "No such resource: this id is not one the API gives.", details={"parameter": name}
            )
    for loc in locations:
        if loc[:1] == ("query",):
            name = str(loc[1]) if len(loc) > 1 else "query"
            message = _QUERY_MESSAGES.get(name, f"The query parameter {name} is not valid.")
            return InvalidRequest(message, code=f"INVALID_{name.upper()}")
    return _body_refusal(errors)


def _body_refusal(errors: Sequence[Mapping[str, Any]]) -> TraError:
    kinds = [str(error.get("type", "")) for error in errors]
    if any(
        kind in ("json_invalid", "missing") and len(error.get("loc") or ()) <= 1
        for kind, error in zip(kinds, errors, strict=True)
    ):
        return InvalidRequest("The request needs a JSON body; see docs/openapi.json.", code="INVALID_JSON")
    problems = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())[1:]) or "body",
            "message": error.get("msg", ""),
        }
        for error in errors
    ]
    own = next((kind for kind in kinds if kind.isupper()), None)
    if own is not None:
        message = next(str(e.get("msg", "")) for e in errors if e.get("type") == own)
        refusal = _UNPROCESSABLE.get(own, InvalidRequest)
        return refusal(message, code=own, details={"problems": problems})
    return InvalidRequest(
        "The request body does not have the expected shape: see details and docs/openapi.json.",
        details={"problems": problems},
    )


# -- the OpenAPI description of refusals ------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Refused: the request is malformed.",
    401: "Refused: the request names no tenant.",
    404: "No such resource for this tenant.",
    409: "Refused: the resource is not in a state that allows it.",
    413: "Refused: the request is too large.",
    415: "Refused: the body is not JSON.",
    422: "Refused: the key, or the webhook URL, cannot be used.",
    500: "Internal error (a bug): the answer gives a request id to report.",
    503: "MyUnisoft, or the bridge's access to it, is unavailable: try again later.",
}

COMMON = {401: ("UNAUTHENTICATED",), 500: ("INTERNAL_ERROR",)}
BODY = {
    400: (
        "INVALID_JSON",
        "JSON_TOO_DEEP",
        "NUMBER_TOO_LONG",
        "INVALID_TEXT",
        "BODY_NOT_UTF8",
        "INVALID_BODY",
    ),
    413: ("REQUEST_TOO_LARGE",),
    415: ("UNSUPPORTED_MEDIA_TYPE",),
}
MODEL_BODY = {400: ("INVALID_REQUEST",)}
PATH = {404: ("NOT_FOUND",)}
MYUNISOFT = {
    503: (
        "MYUNISOFT_MAINTENANCE",
        "MYUNISOFT_UNAVAILABLE",
        "MYUNISOFT_BAD_RESPONSE",
        "BRIDGE_NOT_AUTHORISED",
        "RATE_BUDGET_BUSY",
    )
}
KEY = {
    422: (
        "KEY_INVALID",
        "KEY_REVOKED",
        "KEY_NOT_FIRM",
        "KEY_MISSING_ROUTES",
        "KEY_FORBIDDEN",
        "THIRD_PARTY_DISCONNECTED",
    ),
}


def responses(*tables: Mapping[int, Sequence[str]]) -> dict[int, OpenAPIResponse]:
    """The documented refusals of a route: every status it can answer, with every code it uses."""
    codes: dict[int, list[str]] = {}
    for table in (COMMON, *tables):
        for status, found in table.items():
            codes.setdefault(status, []).extend(c for c in found if c not in codes[status])
    return {status: _response(status, codes[status]) for status in sorted(codes)}


def _response(status: int, codes: Sequence[str]) -> OpenAPIResponse:
    return {
        "description": f"{_DESCRIPTIONS[status]} Codes: {', '.join(codes)}.",
        "content": {"application/json": {"model": ErrorBody}},
    }


def answer(status: int, model: type[Any], description: str) -> dict[int, OpenAPIResponse]:
    """The documented success of a route: its status, its body's model, what it means."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}
