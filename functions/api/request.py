"""The edge of the API: what every request is checked for before any route sees it.

- The tenant always comes from the JWT authorizer's claims (docs/architecture.md §3.4).
- A body is JSON (``Content-Type: application/json``, or none), UTF-8, at most ``MAX_BODY_BYTES``
  (``screen_request``, before routing); a body sent base64-encoded by API Gateway is decoded here.
- JSON is decoded exactly (``Decimal`` numbers, never a binary float) and bounded
  (``decode_json_body``): nesting depth, digits of a number (what DynamoDB can store: 38
  significant digits, exponents within ±125), no ``NaN``/``Infinity``, no lone surrogate.

A refusal raises a typed error (``api.errors``) mapped to a 4xx by the composition root.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from api.errors import InvalidRequest, RequestTooLarge, Unauthenticated, UnsupportedMediaType
from api.settings import get_settings
from api.telemetry import logger

_TENANT = re.compile(r"[A-Za-z0-9._:@|+-]{1,128}")

MAX_BODY_BYTES = 5 * 1024 * 1024
"""Lambda takes at most 6 MB per synchronous request; 500 entries of usual size take far less."""
MAX_JSON_DEPTH = 16
"""An entry list nests 5 levels (list, entry, lines, line, third party): 16 leaves room, not abuse."""
MAX_NUMBER_DIGITS = 38
"""DynamoDB numbers hold 38 significant digits."""
MAX_NUMBER_EXPONENT = 125
"""DynamoDB numbers range over 1e-130 .. 1e125."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def tenant_of(event: APIGatewayProxyEventV2) -> str:
    """The hub tenant named by the JWT authorizer's claims, or ``Unauthenticated``."""
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    value = claims.get(get_settings().TENANT_CLAIM)
    if not isinstance(value, str) or not _TENANT.fullmatch(value):
        raise Unauthenticated("The request does not name a tenant.")
    logger.append_keys(tenant=value)
    return value


def screen_request(event: dict[str, Any]) -> None:
    """Check the body of an API Gateway (HTTP API) event and leave it as UTF-8 text in the event.

    Only ``POST``/``PUT``/``PATCH`` routes read a body: any other method's body is dropped.
    """
    body = event.get("body")
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if not body or method not in _BODY_METHODS:
        event["body"], event["isBase64Encoded"] = None, False
        return
    _check_content_type(event.get("headers") or {})
    raw = _body_bytes(str(body), bool(event.get("isBase64Encoded")))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(
            "The body is not UTF-8 text: send JSON encoded in UTF-8.", code="BODY_NOT_UTF8"
        ) from None
    event["body"], event["isBase64Encoded"] = text, False


def _check_content_type(headers: dict[str, Any]) -> None:
    content_type = next((str(v) for k, v in headers.items() if k.lower() == "content-type"), "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type and media_type != "application/json":
        raise UnsupportedMediaType(
            f"The body must be JSON sent as application/json, not {media_type[:100]!r}.",
            code="UNSUPPORTED_MEDIA_TYPE",
        )


def _body_bytes(body: str, base64_encoded: bool) -> bytes:
    limit = MAX_BODY_BYTES
    too_large = RequestTooLarge(
        f"The body is larger than {limit // (1024 * 1024)} MiB: send fewer entries per request.",
        details={"max_bytes": limit},
    )
    if len(body) > (limit * 4 // 3 + 4 if base64_encoded else limit):
        raise too_large
    if base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("The body is not valid base64.", code="INVALID_BODY") from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > limit:
        raise too_large
    return raw


def decode_json_body(text: str) -> Any:
    """The JSON of a body: numbers exact and bounded, nesting bounded, text valid Unicode."""
    try:
        value = json.loads(text, parse_float=_decimal, parse_int=_integer, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError:
        raise InvalidRequest("The body is not valid JSON.", code="INVALID_JSON") from None
    _check_tree(value)
    return value


def _too_deep() -> InvalidRequest:
    return InvalidRequest(
        f"The body nests JSON deeper than {MAX_JSON_DEPTH} levels; an entry needs 5.", code="JSON_TOO_DEEP"
    )


def _number_refused(token: str) -> InvalidRequest:
    return InvalidRequest(
        f"The body holds a number too long or too large to store ({token[:20]}...): numbers may have "
        f'at most {MAX_NUMBER_DIGITS} digits; send amounts as decimal strings such as "120.00".',
        code="NUMBER_TOO_LONG",
    )


def _integer(token: str) -> int:
    if len(token.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _number_refused(token)
    return int(token)


def _decimal(token: str) -> Decimal:
    value = Decimal(token)
    digits = value.as_tuple().digits
    if len(digits) > MAX_NUMBER_DIGITS or (value and abs(value.adjusted()) > MAX_NUMBER_EXPONENT):
        raise _number_refused(token)
    return value


def _no_constant(token: str) -> None:
    raise InvalidRequest(f"The body holds {token}, which is not a number in JSON.", code="INVALID_JSON")


def _check_tree(value: Any) -> None:
    """Nesting depth and text of a decoded JSON value, walked without recursion."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest(
            "The body holds text that is not valid Unicode (an escaped lone surrogate such as \\ud800).",
            code="INVALID_TEXT",
        ) from None
