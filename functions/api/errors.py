"""What the API answers when a request cannot be served; ``api.resolver`` maps each class to an HTTP status.

Messages are written for the accountant who pasted the key: what went wrong and what to do.
"""

from __future__ import annotations

from tra_core.domain.errors import TraError

FIRM_KEY_HOWTO = (
    "Generate a Firm-mode key in MyUnisoft: Settings > Connectors (Connecteurs cabinet), choose the "
    "Firm (Cabinet) mode and click Generate, as a user who has access to every client file, then paste "
    "it here."
)


class InvalidRequest(TraError):
    """The request body or a parameter is malformed."""

    code = "INVALID_REQUEST"


class Unauthenticated(TraError):
    """The request carries no tenant (the authorizer context has no tenant claim)."""

    code = "UNAUTHENTICATED"


class NotFound(TraError):
    """No such resource for this tenant (another tenant's resource is "not found" too)."""

    code = "NOT_FOUND"


class ReferencesNotReady(TraError):
    """The file's references have not been fetched yet."""

    code = "REFERENCES_NOT_READY"


class ConnectionNotActive(TraError):
    """The connection cannot call MyUnisoft (revoked key, or disconnected)."""

    code = "CONNECTION_NOT_ACTIVE"


class FileNotVisible(TraError):
    """The file is not listed by the connection's key any more."""

    code = "FILE_NOT_VISIBLE"


class KeyRejected(TraError):
    """The pasted key cannot be used; ``code`` says why (``KEY_NOT_FIRM``, ``KEY_REVOKED``...)."""

    code = "KEY_REJECTED"


class ServiceUnavailable(TraError):
    """MyUnisoft, or the bridge's access to it, is unavailable for now: try again later."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, code: str | None = None, retry_after_s: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class EntryConflict(TraError):
    """The entry is not in a state that allows the request (an outdated version, a retry of an
    entry that did not fail...)."""

    code = "ENTRY_CONFLICT"


class RequestTooLarge(TraError):
    """Too many entries, or an entry too large, in one request."""

    code = "REQUEST_TOO_LARGE"


class UnsupportedMediaType(TraError):
    """The body is not sent as JSON."""

    code = "UNSUPPORTED_MEDIA_TYPE"
