"""An httpx client for the MyUnisoft "API Partenaires" routes the bridge needs (firm-mode key).

Routes (``myunisoft-api.md``): ``GET /api/v1/key/info`` (§4.3; ``mode=extended`` also activates a
new key), ``GET /api/v1/society`` (§6; the list, or one dossier with ``society-id``),
``GET /api/v1/account?mode=2`` (§7.2; never ``mode=1``, whose default limit is 5),
``GET /api/v1/diary`` (§8), ``GET /api/v1/society/exercice`` (§9),
``POST /api/v1/TRA/partial`` (§11; the raw zip as the body), and from
``myunisoft-mad-entries.md``: ``POST /api/v1/account`` (§2, find-or-create of an account) and
``GET /api/v1/mad/entries`` (§1, the entries export, read with :mod:`tra_core.myunisoft.mad`).

Every call sends ``X-Third-Party-Secret`` and ``Authorization: Bearer <key>``; dossier-scoped calls
add ``society-id``. Errors are raised as the typed classes of :mod:`tra_core.myunisoft.errors`,
chosen on MyUnisoft's ``error.code`` and the HTTP status.

Retries (all bounded by ``RetryPolicy.max_total_s`` and ``max_attempts``):

- reads, and the account find-or-create (repeating it finds what the first call created), are
  retried on transient failures (5xx, timeouts, dropped connections), maintenance,
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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tra_core.myunisoft.classify import classify_response
from tra_core.myunisoft.errors import (
    AccountRefused,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    Maintenance,
    MyUnisoftError,
    RateLimited,
    Transient,
    UnexpectedResponse,
)
from tra_core.myunisoft.mad import MAD_VERSION, MadEntry, export_period_fits
from tra_core.myunisoft.models import (
    AccountRecord,
    Diary,
    FiscalYearRecord,
    KeyInfo,
    Route,
    Society,
    ThirdPartyDetails,
    UploadResult,
)
from tra_core.myunisoft.ratelimit import InProcessRateLimiter, RateLimiter

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.myunisoft.fr"
API_PREFIX = "/api/v1"
HEALTH_PATH = "/api/partners/health"
TRA_PATH = "/api/v1/TRA/partial"
ACCOUNT_PATH = "/api/v1/account"
MAD_ENTRIES_PATH = "/api/v1/mad/entries"
_REDACTED = "[redacted]"

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


@dataclass(slots=True)
class _UploadRun:
    """The state of one ``upload_tra`` call across its attempts."""

    society_id: int
    md5: str | None
    attempted: bool
    started: float
    attempts: int = 0


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

    def create_account(
        self,
        society_id: int,
        account_number: str,
        label: str,
        *,
        third_party: ThirdPartyDetails | None = None,
    ) -> AccountRecord:
        """Find or create an account in the dossier (MyUnisoft's upsert, ``POST /api/v1/account``).

        Returns the account, created with ``label`` and the third party's details when it did not
        exist, or as it already was (MyUnisoft does not change an existing account). Safe to
        repeat, so retried like a read. Raises :class:`AccountRefused` (MyUnisoft's code verbatim:
        ``COMPTE6``, ``COMPTE7``...) when MyUnisoft refuses the number or the details, and the
        other :mod:`~tra_core.myunisoft.errors` classes (``ForbiddenRoute`` when the key's routes
        do not allow it).
        """
        body: dict[str, object] = {"account_number": account_number, "label": label}
        info = third_party.complementary_info() if third_party is not None else {}
        if info:
            body["complementary_info"] = info
        what = f"create account {account_number} in client file {society_id}"
        try:
            payload = self._idempotent_json("POST", ACCOUNT_PATH, what=what, society_id=society_id, body=body)
        except BusinessRejection as error:
            raise AccountRefused(error, account_number) from None
        return self._parse(AccountRecord, payload, f"the account {account_number}")

    def mad_entries(
        self,
        society_id: int,
        *,
        start: date | None = None,
        end: date | None = None,
        fiscal_year_id: int | None = None,
        journal_ids: Iterable[int] = (),
    ) -> list[MadEntry]:
        """The dossier's entries as MyUnisoft holds them (the MAD export, ``GET /api/v1/mad/entries``).

        Give either a period ``start``..``end`` (both included, at most 12 months: see
        :func:`~tra_core.myunisoft.mad.export_periods` to cut a longer one) or a ``fiscal_year_id``;
        ``journal_ids`` (MyUnisoft journal ids, ``Diary.diary_id``) keeps only those journals.
        Raises ``ValueError`` for a request MyUnisoft would refuse, :class:`ForbiddenRoute` when
        the key's routes do not allow the export, and the other errors as every read.
        """
        params: dict[str, str | list[str]] = {"version": MAD_VERSION}
        if fiscal_year_id is not None:
            if start is not None or end is not None:
                raise ValueError("give a period or a fiscal year, not both")
            params["idExercice"] = str(fiscal_year_id)
        elif start is None or end is None:
            raise ValueError("give a period (start and end) or a fiscal year")
        elif not export_period_fits(start, end):
            raise ValueError(f"{start}..{end} is not a period of at most 12 months")
        else:
            params.update(startDate=start.isoformat(), endDate=end.isoformat())
        journals = [str(journal) for journal in journal_ids]
        if journals:
            params["journalIds"] = journals
        payload = self._get_json(
            MAD_ENTRIES_PATH,
            params=params,
            society_id=society_id,
            what=f"read the entries of client file {society_id}",
        )
        return self._parse_list(MadEntry, payload, "the entries")

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
        run = _UploadRun(society_id, _tra_md5(archive), already_attempted, self._clock())
        while True:
            run.attempts += 1
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
                done = self._after_upload_error(error, run, retries_allowed=hascode_verif)
                if done is not None:
                    return done
                continue
            request_id = response.headers.get("request-id")
            return UploadResult("imported", request_id, attempts=run.attempts, tra_md5=run.md5)

    def _after_upload_error(
        self, error: MyUnisoftError, run: _UploadRun, *, retries_allowed: bool
    ) -> UploadResult | None:
        """The result when ``error`` proves the file is already in; ``None`` once the wait before a
        retry is over; else ``error`` is raised."""
        if isinstance(error, Transient) and error.outcome_unknown:
            run.attempted = True
        if isinstance(error, AlreadyImported) and run.attempted:
            logger.info(
                "TRA already imported after an earlier attempt",
                extra={"society_id": run.society_id, "request_id": error.request_id, "tra_md5": run.md5},
            )
            return UploadResult(
                status="already_imported",
                request_id=error.request_id,
                attempts=run.attempts,
                tra_md5=run.md5,
                myunisoft_message=error.myunisoft_message,
            )
        # Answers proving that nothing was imported: safe to retry even without HascodeVerif.
        safe_without_verif = isinstance(error, RateLimited | ConcurrencyLimited | Maintenance) or (
            isinstance(error, Transient) and not error.outcome_unknown
        )
        if not (retries_allowed or safe_without_verif):
            raise error
        self._wait_before_retry(error, run.attempts, run.started)
        return None

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
        params: Mapping[str, str | list[str]] | None = None,
        society_id: int | None = None,
    ) -> Any:
        return self._idempotent_json("GET", path, what=what, params=params, society_id=society_id)

    def _idempotent_json(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | list[str]] | None = None,
        society_id: int | None = None,
        body: Mapping[str, object] | None = None,
    ) -> Any:
        """A call that may be repeated without harm (a read, or MyUnisoft's find-or-create),
        retried on the retryable errors under the :class:`RetryPolicy`; its JSON answer."""
        attempts = 0
        started = self._clock()
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = None if body is None else {"Content-Type": "application/json"}
        while True:
            attempts += 1
            try:
                response = self._send(
                    method,
                    path,
                    params=params,
                    society_id=society_id,
                    what=what,
                    content=content,
                    headers=headers,
                )
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
        params: Mapping[str, str | list[str]] | None = None,
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
        raise classify_response(
            response,
            what=what,
            method=method,
            path=path,
            society_id=society_id,
            scrub=self._scrub,
            now=self._clock(),
        )

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
