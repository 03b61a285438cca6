"""The MyUnisoft error taxonomy: one class per thing the bridge does differently.

MyUnisoft answers errors as ``{"error": {"code", "message", "details"}}`` (sometimes unwrapped,
sometimes with ``details: ""``; ``myunisoft-api.md`` §12). Classification is on ``error.code`` and
the HTTP status, never on the message text. Every error keeps:

- ``code``: the bridge's stable code (``KEY_REVOKED``, ``RATE_LIMITED``, ``MYUNISOFT_REJECTED``...);
- ``myunisoft_code`` / ``myunisoft_message``: MyUnisoft's own code and message, verbatim;
- ``request_id``: MyUnisoft's ``request-id`` (support asks for it), when there was a response;
- ``status``: the HTTP status, when there was a response;
- ``retryable``: whether the same request may succeed later without any change.

``message`` is written for an accountant. It never contains the API key or the third-party
secret: the client scrubs both from everything it copies out of a response.
"""

from __future__ import annotations

from typing import ClassVar

from tra_core.domain.errors import TraError


class MyUnisoftError(TraError):
    """Base of every error raised by :mod:`tra_core.myunisoft` (an unclassified MyUnisoft failure)."""

    code = "MYUNISOFT_ERROR"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        myunisoft_code: str | None = None,
        myunisoft_message: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        details: dict[str, object] | None = None,
    ):
        merged: dict[str, object] = dict(details or {})
        for key, value in (
            ("myunisoft_code", myunisoft_code),
            ("myunisoft_message", myunisoft_message),
            ("request_id", request_id),
            ("status", status),
        ):
            if value is not None:
                merged.setdefault(key, value)
        super().__init__(message, details=merged)
        self.myunisoft_code = myunisoft_code
        self.myunisoft_message = myunisoft_message
        self.request_id = request_id
        self.status = status

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, myunisoft_code={self.myunisoft_code!r}, "
            f"status={self.status!r}, request_id={self.request_id!r})"
        )


class CredentialError(MyUnisoftError):
    """The key or the integration itself is unusable: stop calling with it and alert someone.

    Never retried. Entries waiting on such a connection are parked, not failed.
    """

    code = "MYUNISOFT_CREDENTIALS"


class KeyRevoked(CredentialError):
    """The API key is unknown or revoked (``ERR-API-TOKEN-NOT-FOUND``, ``ERR-FIRM-TOKEN-NOT-FOUND``)."""

    code = "KEY_REVOKED"


class KeyInvalid(KeyRevoked):
    """The API key is malformed or from another environment (``ERR-INVALID-*JWT``, bad auth header).

    A subclass of :class:`KeyRevoked`: in both cases the firm must generate a new key.
    """

    code = "KEY_INVALID"


class ThirdPartyDisconnected(CredentialError):
    """MyUnisoft disabled this integration (``ERR-THIRD-PARTY-DISCONNECTED``); its message says why."""

    code = "THIRD_PARTY_DISCONNECTED"


class ThirdPartySecretRejected(CredentialError):
    """The bridge's own third-party secret is missing, wrong or not configured (``ERR-SECRET-*``)."""

    code = "THIRD_PARTY_SECRET_REJECTED"


class AccessForbidden(CredentialError):
    """The key has no permission to use the API at all (``ERR-FORBIDDEN-ACCESS``)."""

    code = "MYUNISOFT_ACCESS_FORBIDDEN"


class ForbiddenRoute(MyUnisoftError):
    """The route is not in the key's allow-list (``ERR-FORBIDDEN-ROUTE``): a configuration problem."""

    code = "FORBIDDEN_ROUTE"


class FolderNotFound(MyUnisoftError):
    """The client file (dossier) is unknown, out of reach or inactive for this key.

    Raised for ``ERR-FOLDER-NOT-FOUND``, ``DROIT1`` (no access), ``SOCIETE16`` (not found) and, as
    :class:`FolderInactive`, for ``SOCIETE12``/``SOCIETE13``.
    """

    code = "FOLDER_NOT_FOUND"


class FolderInactive(FolderNotFound):
    """The dossier exists but is inactive or has no billing formula (``SOCIETE12``, ``SOCIETE13``)."""

    code = "FOLDER_INACTIVE"


class RateLimited(MyUnisoftError):
    """HTTP 429 ``ERR-TOO-MANY-REQUEST``: the key's request budget is spent until ``reset_at``.

    ``reset_at`` is the absolute time (Unix epoch seconds, from ``X-Rate-Limit-Reset``) at which
    the budget is renewed.
    """

    code = "RATE_LIMITED"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        reset_at: float,
        myunisoft_code: str | None = None,
        myunisoft_message: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        details: dict[str, object] | None = None,
    ):
        super().__init__(
            message,
            myunisoft_code=myunisoft_code,
            myunisoft_message=myunisoft_message,
            request_id=request_id,
            status=status,
            details={**(details or {}), "reset_at": reset_at},
        )
        self.reset_at = reset_at


class ConcurrencyLimited(MyUnisoftError):
    """Too many calls in flight (``ERR-TOO-MANY-CONCURRENT-REQUEST`` or ``...-REQUESTS``)."""

    code = "CONCURRENCY_LIMITED"
    retryable = True


class Maintenance(MyUnisoftError):
    """MyUnisoft is under maintenance (``ERR-API-UNDER-MAINTENANCE``): try again later."""

    code = "MYUNISOFT_MAINTENANCE"
    retryable = True


class Transient(MyUnisoftError):
    """A failure that may pass: a 5xx answer, a timeout or a dropped connection.

    ``outcome_unknown`` is true when the request may have reached MyUnisoft (a read timeout, a
    connection dropped after sending, a 5xx): an upload retried after it must be idempotent.
    """

    code = "MYUNISOFT_UNAVAILABLE"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        outcome_unknown: bool = True,
        myunisoft_code: str | None = None,
        myunisoft_message: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
        details: dict[str, object] | None = None,
    ):
        super().__init__(
            message,
            myunisoft_code=myunisoft_code,
            myunisoft_message=myunisoft_message,
            request_id=request_id,
            status=status,
            details={**(details or {}), "outcome_unknown": outcome_unknown},
        )
        self.outcome_unknown = outcome_unknown


class AlreadyImported(MyUnisoftError):
    """``IMPORT25``: this exact ``.tra`` was already imported in the dossier, and not by our own attempt.

    When the bridge itself sent the file before (a retry after a lost answer), the client returns
    an :class:`~tra_core.myunisoft.models.UploadResult` marked ``already_imported`` instead.
    """

    code = "ALREADY_IMPORTED"


class BusinessRejection(MyUnisoftError):
    """MyUnisoft refused the request for a reason in the data (an unknown account, a closed year...).

    ``myunisoft_code`` and ``myunisoft_message`` hold MyUnisoft's words verbatim; the entry is
    rejected and shown to the accountant, never retried as is.
    """

    code = "MYUNISOFT_REJECTED"


class UnexpectedResponse(MyUnisoftError):
    """A successful status whose body the client cannot read (not JSON, or not the documented shape)."""

    code = "MYUNISOFT_BAD_RESPONSE"


class AccountRefused(BusinessRejection):
    """MyUnisoft refused to create an account (``COMPTE6``: not starting with 1–9, ``COMPTE7``: over
    20 characters, ...): ``myunisoft_code`` holds its code verbatim, ``account_number`` the number.
    """

    def __init__(self, rejection: BusinessRejection, account_number: str):
        super().__init__(
            rejection.message,
            myunisoft_code=rejection.myunisoft_code,
            myunisoft_message=rejection.myunisoft_message,
            request_id=rejection.request_id,
            status=rejection.status,
            details={**rejection.details, "account_number": account_number},
        )
        self.account_number = account_number
