"""An httpx client for the MyUnisoft "API Partenaires" routes the bridge needs (firm-mode key).

Routes (``myunisoft-api.md``): ``GET /api/v1/key/info`` (§4.3; ``mode=extended`` also activates a
new key), ``GET /api/v1/society`` (§6; the list, or one dossier with ``society-id``),
``GET /api/v1/account?mode=2`` (§7.2; never ``mode=1``, whose default limit is 5),
``GET /api/v1/diary`` (§8), ``GET /api/v1/society/exercice`` (§9) and
``POST /api/v1/TRA/partial`` (§11; the raw zip as the body).

Every call sends ``X-Third-Party-Secret`` and ``Authorization: Bearer <key>``; dossier-scoped calls
add ``society-id``. Errors are raised as the typed classes of :mod:`tra_core.myunisoft.errors`,
chosen on MyUnisoft's ``error.code`` and the HTTP status.

Retries (all bounded by ``RetryPolicy.max_total_s`` and ``max_attempts``):

- reads are retried on transient failures (5xx, timeouts, dropped connections), maintenance,
  429 (waiting until ``X-Rate-Limit-Reset``) and the concurrency limit, with exponential backoff
  and jitter;
- the upload is retried on those only when ``HascodeVerif=true`` (then a second copy is refused
  with ``IMPORT25`` instead of being imported twice). Without it, only answers proving that
  nothing was processed (429 and the concurrency limit, which the gateway answers before the
  import starts) are retried;
- ``IMPORT25`` after an attempt of ours whose outcome is unknown (this call's or, with
  ``already_attempted=True``, an earlier one) means the file is in MyUnisoft: the result is
  ``already_imported``, not an error.

The API key and the secret never appear in a log line, an exception or a repr: the client keeps
them in its HTTP headers only, and scrubs them from any text it copies from an answer.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import random
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

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
    UnexpectedResponse,
)
from tra_core.myunisoft.models import (
    AccountRecord,
    Diary,
    FiscalYearRecord,
    KeyInfo,
    Route,
    Society,
    UploadResult,
)
from tra_core.myunisoft.ratelimit import InProcessRateLimiter, RateLimiter, parse_rate_limit_headers

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.myunisoft.fr"
API_PREFIX = "/api/v1"
HEALTH_PATH = "/api/partners/health"
TRA_PATH = "/api/v1/TRA/partial"
_REDACTED = "[redacted]"
_DEFAULT_RESET_WAIT_S = 10.0

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the client tries before giving up.

    The n-th retry waits ``min(max_delay_s, base_delay_s * 2 ** (n - 1))`` scaled by a random factor
    in ``[1 - jitter, 1]``; a 429 waits until ``X-Rate-Limit-Reset`` instead. No retry starts
    when it would end after ``max_total_s`` from the first attempt.
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_total_s: float = 60.0
    jitter: float = 0.5

    def backoff(self, retry_number: int, rand: float) -> float:
        delay = min(self.max_delay_s, self.base_delay_s * 2.0 ** max(retry_number - 1, 0))
        return delay * (1.0 - self.jitter * rand)


NO_RETRY = RetryPolicy(max_attempts=1)


def _normalise_base_url(base_url: str) -> str:
    url = base_url.strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    return url


def _tra_md5(archive: bytes) -> str | None:
    """MD5 of the ``.tra`` at the archive root: what MyUnisoft's ``HascodeVerif`` compares."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            for info in zf.infolist():
                if "/" not in info.filename and info.filename.lower().endswith(".tra"):
                    return hashlib.md5(zf.read(info)).hexdigest()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _error_parts(payload: Any) -> tuple[str | None, str | None, str | None]:
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


class MyUnisoftClient:
    """A client for one MyUnisoft API key (firm mode) and the bridge's third-party secret.

    Parameters
    ----------
    base_url:
        The API host, e.g. ``https://api.myunisoft.fr`` or an emulator's ``http://127.0.0.1:8089``
        (a trailing ``/api/v1`` is accepted and ignored).
    third_party_secret, api_key:
        Sent as ``X-Third-Party-Secret`` and ``Authorization: Bearer ...``; never logged or shown.
    transport:
        An httpx transport (tests pass ``httpx.WSGITransport`` over the emulator).
    rate_limiter:
        Paces this key's requests; default: an :class:`InProcessRateLimiter` (20 per 10 s, 10
        concurrent per route) on the same ``clock`` and ``sleep``.
    clock, sleep, rand:
        Epoch-seconds clock, sleep function and ``[0, 1)`` random source, injectable for tests.
    retry:
        The :class:`RetryPolicy` for reads and for the upload.
    timeout, upload_timeout:
        Per-request timeouts (seconds) for reads and for the upload.
    """

    def __init__(
        self,
        base_url: str,
        third_party_secret: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        upload_timeout: float = 120.0,
        user_agent: str = "myunisoft-bridge",
    ):
        self.base_url = _normalise_base_url(base_url)
        self._secrets = tuple(s for s in (api_key, third_party_secret) if s and len(s) >= 4)
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self.retry = retry or RetryPolicy()
        self._upload_timeout = upload_timeout
        self.rate_limiter: RateLimiter = rate_limiter or InProcessRateLimiter(clock=clock, sleep=sleep)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={
                "X-Third-Party-Secret": third_party_secret,
                "Authorization": f"Bearer {api_key}",
                "User-Agent": user_agent,
                "Accept": "application/json",
            },
        )

    def __repr__(self) -> str:
        return f"MyUnisoftClient(base_url={self.base_url!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self._http.close()

    def __enter__(self) -> MyUnisoftClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public API --------------------------------------------------------------------------

    def health(self) -> bool:
        """``GET /api/partners/health`` (no authentication): True when MyUnisoft answers 2xx."""
        request = self._http.build_request("GET", HEALTH_PATH)
        for name in ("Authorization", "X-Third-Party-Secret"):
            del request.headers[name]
        try:
            response = self._http.send(request)
        except httpx.HTTPError:
            return False
        return response.is_success

    def key_info(self, extended: bool = False) -> KeyInfo:
        """The key's route allow-list; with ``extended=True`` also its target and activation.

        Calling it with ``extended=True`` is what activates a newly generated key (§4.3).
        """
        params = {"mode": "extended"} if extended else None
        payload = self._get_json("/api/v1/key/info", params=params, what="check the API key")
        if isinstance(payload, list):
            routes = [self._parse(Route, item, "the key's routes") for item in payload]
            return KeyInfo(routes=tuple(routes))
        return self._parse(KeyInfo, payload, "the key information")

    def list_societies(self) -> list[Society]:
        """Every dossier the key reaches (``GET /api/v1/society`` without ``society-id``).

        A firm key gets the firm's list; a society key gets its one dossier.
        """
        payload = self._get_json("/api/v1/society", what="list the firm's client files")
        if isinstance(payload, dict) and "society_array" in payload:
            items = payload["society_array"] or []
        elif isinstance(payload, dict) and "society_id" in payload:
            items = [payload]  # a society (api) key gets its own dossier, in the detailed form
        else:
            items = payload
        return self._parse_list(Society, items, "the list of client files")

    def get_society(self, society_id: int) -> Society:
        """One dossier, in its detailed form (``GET /api/v1/society`` with ``society-id``)."""
        payload = self._get_json(
            "/api/v1/society", society_id=society_id, what=f"read client file {society_id}"
        )
        if isinstance(payload, dict) and isinstance(payload.get("society_array"), list):
            matches = [s for s in payload["society_array"] if s.get("society_id") == society_id]
            payload = matches[0] if matches else payload
        return self._parse(Society, payload, f"client file {society_id}")

    def list_accounts(self, society_id: int) -> list[AccountRecord]:
        """The dossier's whole chart, general and third-party accounts (``/account?mode=2``)."""
        payload = self._get_json(
            "/api/v1/account",
            params={"mode": "2"},
            society_id=society_id,
            what=f"read the chart of accounts of client file {society_id}",
        )
        items = payload.get("account_array") if isinstance(payload, dict) else payload
        return self._parse_list(AccountRecord, [] if items is None else items, "the chart of accounts")

    def list_diaries(self, society_id: int) -> list[Diary]:
        """The dossier's journals (``GET /api/v1/diary``)."""
        payload = self._get_json(
            "/api/v1/diary", society_id=society_id, what=f"read the journals of client file {society_id}"
        )
        return self._parse_list(Diary, payload, "the journals")

    def list_fiscal_years(self, society_id: int) -> list[FiscalYearRecord]:
        """The dossier's fiscal years (``GET /api/v1/society/exercice``), as MyUnisoft orders them."""
        payload = self._get_json(
            "/api/v1/society/exercice",
            society_id=society_id,
            what=f"read the fiscal years of client file {society_id}",
        )
        return self._parse_list(FiscalYearRecord, payload, "the fiscal years")

    def upload_tra(
        self,
        society_id: int,
        archive: bytes,
        *,
        hascode_verif: bool = True,
        mandatory_docs: bool = True,
        already_attempted: bool = False,
    ) -> UploadResult:
        """Upload a TRA+PJ zip to the dossier (``POST /api/v1/TRA/partial``, raw zip body).

        ``hascode_verif`` asks MyUnisoft to refuse a ``.tra`` it already imported (``IMPORT25``),
        which is what makes retries safe; ``mandatory_docs`` makes a missing attachment fail the
        import. Set ``already_attempted`` when an earlier call may have delivered this exact
        archive (its answer was lost): an ``IMPORT25`` then means "already imported".

        Raises :class:`AlreadyImported` for an ``IMPORT25`` not explained by our own attempts,
        :class:`BusinessRejection` for a refusal of the file's content, and the other
        :mod:`~tra_core.myunisoft.errors` classes.
        """
        params = {
            "HascodeVerif": "true" if hascode_verif else "false",
            "mandatory_docs": "1" if mandatory_docs else "0",
        }
        md5 = _tra_md5(archive)
        attempted = already_attempted
        attempts = 0
        started = self._clock()
        retries_allowed = hascode_verif
        while True:
            attempts += 1
            try:
                response = self._send(
                    "POST",
                    TRA_PATH,
                    params=params,
                    society_id=society_id,
                    content=archive,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=self._upload_timeout,
                    what=f"upload entries to client file {society_id}",
                )
            except MyUnisoftError as error:
                if isinstance(error, Transient) and error.outcome_unknown:
                    attempted = True
                if isinstance(error, AlreadyImported) and attempted:
                    logger.info(
                        "TRA already imported after an earlier attempt",
                        extra={"society_id": society_id, "request_id": error.request_id, "tra_md5": md5},
                    )
                    return UploadResult(
                        status="already_imported",
                        request_id=error.request_id,
                        attempts=attempts,
                        tra_md5=md5,
                        myunisoft_message=error.myunisoft_message,
                    )
                # Answers proving that nothing was imported: safe to retry even without HascodeVerif.
                safe_without_verif = isinstance(error, RateLimited | ConcurrencyLimited | Maintenance) or (
                    isinstance(error, Transient) and not error.outcome_unknown
                )
                if not (retries_allowed or safe_without_verif):
                    raise
                self._wait_before_retry(error, attempts, started)
                continue
            return UploadResult(
                status="imported",
                request_id=response.headers.get("request-id"),
                attempts=attempts,
                tra_md5=md5,
            )

    # -- plumbing ----------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _REDACTED)
        return text

    def _get_json(
        self,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        society_id: int | None = None,
    ) -> Any:
        attempts = 0
        started = self._clock()
        while True:
            attempts += 1
            try:
                response = self._send("GET", path, params=params, society_id=society_id, what=what)
                return self._json(response, what)
            except MyUnisoftError as error:
                self._wait_before_retry(error, attempts, started)

    def _wait_before_retry(self, error: MyUnisoftError, attempts: int, started: float) -> None:
        """Sleep before the next attempt, or re-raise ``error`` when no retry is allowed."""
        if not error.retryable or attempts >= self.retry.max_attempts:
            raise error
        now = self._clock()
        if isinstance(error, RateLimited):
            delay = max(error.reset_at - now, 0.0) + 0.001
        else:
            delay = self.retry.backoff(attempts, self._rand())
        if now + delay - started > self.retry.max_total_s:
            raise error
        logger.info(
            "retrying MyUnisoft request",
            extra={"error_code": error.code, "request_id": error.request_id, "delay_s": round(delay, 3)},
        )
        self._sleep(delay)

    def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        society_id: int | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One HTTP attempt under the rate limiter; a non-2xx answer is raised as a typed error."""
        request_headers = dict(headers or {})
        if society_id is not None:
            request_headers["society-id"] = str(society_id)
        self.rate_limiter.acquire(path)
        try:
            try:
                response = self._http.request(
                    method,
                    path,
                    params=params,
                    content=content,
                    headers=request_headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, what) from None
            self.rate_limiter.observe(path, response.headers)
        finally:
            self.rate_limiter.release(path)
        logger.debug(
            "MyUnisoft answered",
            extra={
                "method": method,
                "path": path,
                "status": response.status_code,
                "request_id": response.headers.get("request-id"),
            },
        )
        if response.is_success:
            return response
        raise self._classify(response, what=what, method=method, path=path, society_id=society_id)

    def _transport_error(self, exc: httpx.HTTPError, what: str) -> Transient:
        not_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if isinstance(exc, httpx.TimeoutException):
            reason = "did not answer in time"
        elif not_sent:
            reason = "could not be reached"
        else:
            reason = "closed the connection before answering"
        return Transient(
            f"MyUnisoft {reason} while trying to {what}; it will be tried again later.",
            outcome_unknown=not not_sent,
            details={"transport_error": type(exc).__name__},
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            raise UnexpectedResponse(
                f"MyUnisoft sent an unreadable answer while trying to {what}.",
                request_id=response.headers.get("request-id"),
                status=response.status_code,
            ) from None

    def _parse(self, model: type[M], payload: Any, what: str) -> M:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
            raise UnexpectedResponse(
                f"MyUnisoft sent {what} in an unexpected shape.", details={"fields": fields[:10]}
            ) from None

    def _parse_list(self, model: type[M], payload: Any, what: str) -> list[M]:
        if not isinstance(payload, list):
            raise UnexpectedResponse(f"MyUnisoft sent {what} in an unexpected shape (not a list).")
        return [self._parse(model, item, what) for item in payload]

    def _classify(
        self, response: httpx.Response, *, what: str, method: str, path: str, society_id: int | None
    ) -> MyUnisoftError:
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
            payload = None
        code, raw_message, body_request_id = _error_parts(payload)
        message = self._scrub(raw_message) if raw_message is not None else None
        status = response.status_code
        error_class = _error_class(code, status)
        text = _MESSAGES[error_class].format(
            what=what,
            folder=f"client file {society_id}" if society_id is not None else "the client file",
            said=f" MyUnisoft said: {message}" if message else "",
            status=status,
            reason=f"{message or code} ({code})",
        )
        request_id = response.headers.get("request-id") or body_request_id
        if error_class is RateLimited:
            info = parse_rate_limit_headers(response.headers)
            reset_at = info.reset_at if info is not None else None
            return RateLimited(
                text,
                reset_at=self._clock() + _DEFAULT_RESET_WAIT_S if reset_at is None else reset_at,
                myunisoft_code=code,
                myunisoft_message=message,
                request_id=request_id,
                status=status,
            )
        details: dict[str, object] = {"method": method, "path": path}
        return error_class(
            text,
            myunisoft_code=code,
            myunisoft_message=message,
            request_id=request_id,
            status=status,
            details=details,
        )


_CODE_CLASSES: dict[str, type[MyUnisoftError]] = {
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


def _error_class(code: str | None, status: int) -> type[MyUnisoftError]:
    """The error class for MyUnisoft's ``error.code`` and the HTTP status (never the message)."""
    key = (code or "").upper()
    if key in _CODE_CLASSES:
        return _CODE_CLASSES[key]
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
_MESSAGES: dict[type[MyUnisoftError], str] = {
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
