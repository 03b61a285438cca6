"""How a MyUnisoft error answer becomes one of the typed errors of :mod:`tra_core.myunisoft.errors`.

On MyUnisoft's ``error.code`` and the HTTP status, never the message (``myunisoft-api.md`` §12,
``docs/myunisoft-assumptions.md`` A4–A5); the message shown is written for an accountant and
MyUnisoft's own words are kept verbatim (scrubbed of the key and the secret by the caller).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tra_core.myunisoft.errors import (
    AccessForbidden,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    FolderInactive,
    FolderNotFound,
    ForbiddenRoute,
    KeyInvalid,
    KeyRevoked,
    Maintenance,
    MyUnisoftError,
    RateLimited,
    ThirdPartyDisconnected,
    ThirdPartySecretRejected,
    Transient,
)
from tra_core.myunisoft.ratelimit import parse_rate_limit_headers

#: How long to wait after a 429 that carries no ``X-Rate-Limit-Reset``.
DEFAULT_RESET_WAIT_S = 10.0


def error_parts(payload: Any) -> tuple[str | None, str | None, str | None]:
    """``(code, message, request id)`` from a wrapped or unwrapped MyUnisoft error body."""
    if not isinstance(payload, dict):
        return None, None, None
    wrapped = payload.get("error")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else payload
    code = inner.get("code")
    message = inner.get("message")
    details = inner.get("details")
    request_id = None
    if isinstance(details, dict):
        request_id = details.get("requestId") or details.get("correlationId")
    return (
        str(code) if code is not None else None,
        str(message) if message is not None else None,
        str(request_id) if request_id is not None else None,
    )


CODE_CLASSES: dict[str, type[MyUnisoftError]] = {
    "ERR-API-TOKEN-NOT-FOUND": KeyRevoked,
    "ERR-FIRM-TOKEN-NOT-FOUND": KeyRevoked,
    "ERR-USER-TOKEN-NOT-FOUND": KeyRevoked,
    "ERR-INVALID-AUTH-HEADER": KeyInvalid,
    "ERR-INVALID-SECRET": ThirdPartySecretRejected,
    "ERR-THIRD-PARTY-DISCONNECTED": ThirdPartyDisconnected,
    "ERR-THIRD-PARTY-DOESNT-EXIST": ThirdPartyDisconnected,
    "ERR-FORBIDDEN-ACCESS": AccessForbidden,
    "ERR-FORBIDDEN-ROUTE": ForbiddenRoute,
    "SOCIETE12": FolderInactive,
    "SOCIETE13": FolderInactive,
    "ERR-FOLDER-NOT-FOUND": FolderNotFound,
    "ERR-SOCIETY-DOESNT-EXIST": FolderNotFound,
    "DROIT1": FolderNotFound,
    "SOCIETE16": FolderNotFound,
    "ERR-TOO-MANY-CONCURRENT-REQUEST": ConcurrencyLimited,
    "ERR-TOO-MANY-CONCURRENT-REQUESTS": ConcurrencyLimited,
    "ERR-TOO-MANY-REQUEST": RateLimited,
    "ERR-TOO-MANY-REQUESTS": RateLimited,
    "ERR-API-UNDER-MAINTENANCE": Maintenance,
    "IMPORT25": AlreadyImported,
}


def error_class(code: str | None, status: int) -> type[MyUnisoftError]:
    """The error class for MyUnisoft's ``error.code`` and the HTTP status (never the message)."""
    key = (code or "").upper()
    if key in CODE_CLASSES:
        return CODE_CLASSES[key]
    if key.startswith("ERR-INVALID-") and key.endswith("JWT"):
        return KeyInvalid
    if key.startswith("ERR-SECRET-"):
        return ThirdPartySecretRejected
    if status == 429:
        return RateLimited
    if status >= 500 or status == 408:
        return Transient
    if code is not None:
        return BusinessRejection
    return MyUnisoftError


# Messages for people: {what} is the action ("read the journals of client file 3"), {folder} the
# file, {said} MyUnisoft's own message (prefixed), {reason} MyUnisoft's message and code.
MESSAGES: dict[type[MyUnisoftError], str] = {
    KeyRevoked: (
        "The MyUnisoft API key is no longer valid (revoked or expired). Ask the firm to generate a "
        "new key in MyUnisoft (Paramètres > Connecteurs cabinet) and enter it again."
    ),
    KeyInvalid: (
        "MyUnisoft does not recognise this API key (malformed, or from another MyUnisoft "
        "environment). Check that the whole key was copied, or generate a new one."
    ),
    ThirdPartySecretRejected: (
        "MyUnisoft refused the bridge's partner secret: the integration is not (or no longer) enabled "
        "on MyUnisoft's side. Contact the bridge's administrator."
    ),
    ThirdPartyDisconnected: "MyUnisoft has disconnected this integration.{said}",
    AccessForbidden: (
        "This MyUnisoft API key is not allowed to use the API. Ask the firm to check the connector's "
        "rights in MyUnisoft."
    ),
    ForbiddenRoute: (
        "The MyUnisoft API key does not allow the bridge to {what}. Ask the firm to generate a key with "
        "access to accounts, journals, fiscal years and TRA imports."
    ),
    FolderInactive: "MyUnisoft reports {folder} as inactive: nothing can be read from or sent to it.{said}",
    FolderNotFound: (
        "MyUnisoft cannot find {folder} for this key (removed, archived or out of the firm's reach).{said}"
    ),
    ConcurrencyLimited: "Too many requests were running at once on MyUnisoft; the request will be retried.",
    RateLimited: (
        "MyUnisoft's request limit for this key was reached; the request will be retried once the "
        "limit resets."
    ),
    Maintenance: "MyUnisoft is under maintenance; the request will be retried later.",
    AlreadyImported: "MyUnisoft already holds this exact file in {folder}; it was not imported again.{said}",
    Transient: "MyUnisoft failed while trying to {what} (HTTP {status}); it will be tried again later.",
    BusinessRejection: "MyUnisoft refused to {what}: {reason}.",
    MyUnisoftError: "MyUnisoft answered HTTP {status} while trying to {what}.",
}


def classify_response(
    response: httpx.Response,
    *,
    what: str,
    method: str,
    path: str,
    society_id: int | None,
    scrub: Callable[[str], str],
    now: float,
) -> MyUnisoftError:
    """The typed error for a non-2xx answer; ``what`` names the action for the message."""
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        payload = None
    code, raw_message, body_request_id = error_parts(payload)
    message = scrub(raw_message) if raw_message is not None else None
    status = response.status_code
    kind = error_class(code, status)
    text = MESSAGES[kind].format(
        what=what,
        folder=f"client file {society_id}" if society_id is not None else "the client file",
        said=f" MyUnisoft said: {message}" if message else "",
        status=status,
        reason=f"{message or code} ({code})",
    )
    request_id = response.headers.get("request-id") or body_request_id
    common: dict[str, Any] = {
        "myunisoft_code": code,
        "myunisoft_message": message,
        "request_id": request_id,
        "status": status,
    }
    if kind is RateLimited:
        info = parse_rate_limit_headers(response.headers)
        reset_at = info.reset_at if info is not None else None
        return RateLimited(
            text, reset_at=now + DEFAULT_RESET_WAIT_S if reset_at is None else reset_at, **common
        )
    return kind(text, details={"method": method, "path": path}, **common)
