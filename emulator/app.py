"""The emulator as a WSGI application (``docs/architecture.md`` §3.5; behaviours of ``myunisoft-api.md`` §14).

Pipeline of an ``/api/...`` call, in MyUnisoft's order: maintenance switch; third-party secret
(``ERR-SECRET-HEADER-NOT-SET``, ``ERR-INVALID-SECRET``); ``Authorization: Bearer``
(``ERR-INVALID-AUTH-HEADER``, ``ERR-INVALID-JWT``, ``ERR-API-TOKEN-NOT-FOUND``); third party
disconnected; the rate-limit window of the token (429 ``ERR-TOO-MANY-REQUEST``; the three
``X-Rate-Limit-*`` headers on every authenticated answer); activation; the key's route allow-list
(``ERR-FORBIDDEN-ROUTE``); the concurrency limit; injected faults; ``society-id`` scoping; the
route itself. Every answer carries a unique ``request-id``.

Test-control routes live under ``/_emulator/`` (never under ``/api/``); see :meth:`EmulatorApp._control`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from emulator import shapes
from emulator.account_upsert import find_or_create, parse_upsert
from emulator.clock import Clock, SystemClock
from emulator.config import EmulatorConfig, from_dict
from emulator.control import handle_control
from emulator.errors import ApiError, ConnectionDropped, api_error
from emulator.faults import Fault
from emulator.fixtures import (
    ALL_ROUTES,
    Account,
    Dossier,
    Fixtures,
    KeyFixture,
    demo_fixtures,
    fixtures_from_dict,
    generated_dossiers,
    load_fixtures,
)
from emulator.mad_entries import Ledger, export_entries, parse_export_query
from emulator.tra_import import ImportOutcome, create_accounts, open_archive, tra_md5, validate_import

StartResponse = Callable[..., Any]
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TRUE = {"true", "1", "yes"}


def _requested_at(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M:%S}"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    url: str
    request_id: str

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise api_error("GBL10") from None


@dataclass
class Response:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class KeyState:
    fixture: KeyFixture
    activated: bool
    revoked: bool = False


@dataclass
class _Window:
    start: float
    used: int = 0


@dataclass
class _Route:
    method: str
    path: str
    handler: Callable[[Request, _Context], Any]
    scope: str  # "key" | "society" | "firm" | "dossier"


@dataclass
class _Context:
    key: KeyState
    dossier: Dossier | None = None


def _route_matches(pattern: str, path: str) -> bool:
    expected = pattern.rstrip("/").split("/")
    actual = path.rstrip("/").split("/")
    return len(expected) == len(actual) and all(
        e.startswith(":") or e.lower() == a.lower() for e, a in zip(expected, actual, strict=True)
    )


class EmulatorApp:
    """The WSGI app. Build it with :func:`create_app`."""

    def __init__(self, fixtures: Fixtures, clock: Clock, config: EmulatorConfig):
        self.fixtures = fixtures
        self.clock = clock
        self.base_config = config
        self.config = config
        self._lock = threading.RLock()
        self._routes = [
            _Route("get", "/api/v1/key/info", self._key_info, "key"),
            _Route("get", "/api/v1/society", self._society, "society"),
            _Route("get", "/api/v1/society/search", self._society_search, "firm"),
            _Route("get", "/api/v1/society/exercice", self._exercices, "dossier"),
            _Route("get", "/api/v1/account", self._accounts, "dossier"),
            _Route("post", "/api/v1/account", self._account_find_or_create, "dossier"),
            _Route("get", "/api/v1/account/v2", self._accounts_v2, "dossier"),
            _Route("get", "/api/v1/diary", self._diaries, "dossier"),
            _Route("post", "/api/v1/TRA/partial", self._tra_partial, "dossier"),
            _Route("get", "/api/v1/mad/accounts", self._mad_accounts, "dossier"),
            _Route("get", "/api/v1/mad/journals", self._mad_journals, "dossier"),
            _Route("get", "/api/v1/mad/exercices", self._mad_exercices, "dossier"),
            _Route("get", "/api/v1/mad/entries", self._mad_entries, "dossier"),
        ]
        self.reset()

    # -- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the fixtures: keys, dossiers, imports, windows, faults, switches, config."""
        with self._lock:
            self.data = self.fixtures.copy()
            self.keys = {k.token: KeyState(k, activated=k.activated) for k in self.data.keys}
            self.imports: list[dict[str, Any]] = []
            self.ledger = Ledger()
            self.hidden: set[tuple[str, int]] = set()  # (token, society_id) hidden from that key
            self.hashes: dict[tuple[str, int], dict[str, float]] = {}
            self.windows: dict[str, _Window] = {}
            self.in_flight: Counter[tuple[str, str]] = Counter()
            self.faults: list[Fault] = []
            self.requests: list[dict[str, Any]] = []
            self.maintenance = False
            self.disconnected: dict[str, str] = {}
            self.config = self.base_config

    def revoke(self, token: str) -> bool:
        with self._lock:
            state = self.keys.get(token)
            if state is None:
                return False
            state.revoked = True
            return True

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def set_visibility(self, token: str, society_id: int, visible: bool) -> None:
        """Hide a dossier from one key (its list omits it, its dossier routes answer ``DROIT1``)."""
        with self._lock:
            if visible:
                self.hidden.discard((token, society_id))
            else:
                self.hidden.add((token, society_id))

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = self._request(environ)
        try:
            response = self._dispatch(request)
        except ConnectionDropped:
            raise
        except ApiError as error:
            response = self._error(request, error)
        payload = b"" if response.body is None else json.dumps(response.body, ensure_ascii=False).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            ("request-id", request.request_id),
            *response.headers,
        ]
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        return [payload]

    def _request(self, environ: dict[str, Any]) -> Request:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        query_string = str(environ.get("QUERY_STRING", ""))
        host = (
            headers.get("host")
            or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '')}"
        )
        path = str(environ.get("PATH_INFO", "/")) or "/"
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}" + (
            f"?{query_string}" if query_string else ""
        )
        return Request(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            query=parse_qs(query_string, keep_blank_values=True),
            headers=headers,
            body=body,
            url=url,
            request_id=f"req-{uuid.uuid4()}",
        )

    def _error(
        self, request: Request, error: ApiError, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        config = self.config
        details: Any = (
            {
                "url": request.url,
                "method": request.method,
                "requestedAt": _requested_at(self.clock.now()),
                "requestId": request.request_id,
            }
            if config.error_details == "full"
            else ""
        )
        inner: dict[str, Any] = {"code": error.code, "message": error.text(), "details": details}
        if config.error_shape == "unwrapped":
            return Response(error.status, {**inner, "details": ""}, list(headers or []))
        body = {"error": inner}
        return Response(error.status, body, list(headers or []))

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return self._control(request)
        if request.path == "/api/partners/health":
            if self.maintenance:
                return Response(self.config.health_status_in_maintenance, {"status": "maintenance"})
            return Response(200, {"status": "ok"})
        if request.method == "POST" and request.path == "/api/authenticate/firm":
            return self._legacy_login(request)
        if request.path.startswith("/api/"):
            return self._api(request)
        raise api_error("ERR-HTTP")

    # -- the gateway ---------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> KeyState:
        config = self.config
        secret = request.headers.get("x-third-party-secret")
        if not secret:
            raise api_error("ERR-SECRET-HEADER-NOT-SET", config.secret_status)
        if secret not in {tp.secret for tp in self.data.third_parties}:
            raise api_error("ERR-INVALID-SECRET", config.secret_status)
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token.strip():
            raise api_error("ERR-INVALID-AUTH-HEADER", config.auth_status)
        token = token.strip()
        if not _TOKEN.fullmatch(token):
            raise api_error("ERR-INVALID-JWT", config.auth_status)
        state = self.keys.get(token)
        if state is None or state.revoked:
            raise api_error(config.revoked_code, config.revoked_status)
        if secret in self.disconnected:
            reason = self.disconnected[secret]
            raise ApiError("ERR-THIRD-PARTY-DISCONNECTED", config.disconnected_status, reason or None)
        return state

    def _consume_rate(self, token: str, path: str) -> tuple[bool, list[tuple[str, str]]]:
        config = self.config
        now = self.clock.now()
        window = self.windows.get(token)
        if window is None or now >= window.start + config.rate_window_s:
            window = self.windows[token] = _Window(start=now)
        cost = config.route_costs.get(path, 1)
        allowed = window.used + cost <= config.rate_limit
        if allowed:
            window.used += cost
        headers = [
            ("X-Rate-Limit-Total", str(config.rate_limit)),
            ("X-Rate-Limit-Remaining", str(max(config.rate_limit - window.used, 0))),
            ("X-Rate-Limit-Reset", f"{window.start + config.rate_window_s:.6f}"),
        ]
        return allowed, headers

    def _find_route(self, method: str, path: str) -> _Route | None:
        for route in self._routes:
            if route.method == method.lower() and _route_matches(route.path, path):
                return route
        return None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if _route_matches(fault.route, path) and fault.method in (None, method.lower()):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def _log(self, request: Request, status: int, token: str | None, code: str | None = None) -> None:
        self.requests.append(
            {
                "at": self.clock.now(),
                "method": request.method,
                "path": request.path,
                "status": status,
                "code": code,
                "key": token,
                "society_id": request.headers.get("society-id"),
                "request_id": request.request_id,
            }
        )

    def _api(self, request: Request) -> Response:
        config = self.config
        token: str | None = None
        rate_headers: list[tuple[str, str]] = []
        try:
            with self._lock:
                if self.maintenance:
                    raise api_error("ERR-API-UNDER-MAINTENANCE", config.maintenance_status)
                key = self._authenticate(request)
                token = key.fixture.token
                allowed, rate_headers = self._consume_rate(token, request.path)
                if not allowed:
                    raise api_error("ERR-TOO-MANY-REQUEST", 429)
                route = self._find_route(request.method, request.path)
                is_key_info = route is not None and route.scope == "key"
                if config.activate_on_any_call:
                    key.activated = True
                if config.require_activation and not key.activated and not is_key_info:
                    raise api_error("ERR-FORBIDDEN-ACCESS", config.forbidden_route_status)
                if not is_key_info and not any(
                    m == request.method.lower() and _route_matches(p, request.path)
                    for m, p in key.fixture.routes
                ):
                    raise api_error("ERR-FORBIDDEN-ROUTE", config.forbidden_route_status)
                if route is None:
                    raise api_error("ERR-HTTP")
                context = self._scope(request, route, key)
                slot = (
                    token,
                    f"dossier:{context.dossier.society_id}"
                    if config.concurrency_scope == "dossier" and context.dossier
                    else f"route:{route.path}",
                )
                if self.in_flight[slot] >= config.max_concurrent:
                    raise api_error(config.concurrency_code, config.concurrency_status)
                self.in_flight[slot] += 1
                fault = self._take_fault(request.method, request.path)
            try:
                response = self._run(request, route, context, fault)
            finally:
                with self._lock:
                    self.in_flight[slot] -= 1
        except ApiError as error:
            with self._lock:
                self._log(request, error.status, token, error.code)
            return self._error(request, error, rate_headers)
        except ConnectionDropped:
            with self._lock:
                self._log(request, 0, token, "CONNECTION-DROPPED")
            raise
        response.headers.extend(rate_headers)
        with self._lock:
            self._log(request, response.status, token)
        return response

    def _run(self, request: Request, route: _Route, context: _Context, fault: Fault | None) -> Response:
        if fault is not None:
            if fault.delay_s:
                self.clock.sleep(fault.delay_s)
            if fault.drop == "before":
                raise ConnectionDropped(request.path)
            if fault.status is not None:
                code = fault.code or ("GBL1" if fault.status >= 500 else "GBL10")
                raise (
                    ApiError(code, fault.status, fault.message)
                    if fault.message
                    else api_error(code, fault.status)
                )
            if fault.lose:
                return Response(200, {"status": "success"})
        result = route.handler(request, context)
        response = result if isinstance(result, Response) else Response(200, result)
        if fault is not None and fault.drop == "after":
            raise ConnectionDropped(request.path)
        return response

    def _dossier_from_header(self, request: Request, key: KeyState, *, required: bool) -> Dossier | None:
        config = self.config
        raw = request.headers.get("society-id")
        if raw is None and config.accept_accounting_folder_id:
            raw = request.headers.get("accounting-folder-id")
        if raw is None or not raw.strip():
            if required:
                raise api_error(config.missing_society_code, config.missing_society_status)
            return None
        if not raw.strip().isdigit():
            raise api_error("SOCIETE16")
        dossier = self.data.dossier(int(raw))
        if (
            dossier is None
            or dossier.schema_id != key.fixture.schema_id
            or (key.fixture.token, dossier.society_id) in self.hidden
        ):
            raise api_error(config.foreign_society_code, config.foreign_society_status)
        return dossier

    def _scope(self, request: Request, route: _Route, key: KeyState) -> _Context:
        fixture = key.fixture
        context = _Context(key=key)
        if route.scope == "key":
            return context
        if fixture.type == "api":
            if route.scope == "firm":
                raise api_error("ERR-FORBIDDEN-ROUTE", self.config.forbidden_route_status)
            own = self.data.dossier(fixture.society_id or -1)
            if own is None:
                raise ApiError("ERR-FOLDER-NOT-FOUND", 404, "No active dossier is linked to this token.")
            if (fixture.token, own.society_id) in self.hidden:
                raise api_error(self.config.foreign_society_code, self.config.foreign_society_status)
            if not self.config.api_key_ignores_society_id:
                named = request.headers.get("society-id")
                if named and named.strip() != str(own.society_id):
                    raise api_error(self.config.foreign_society_code, self.config.foreign_society_status)
            context.dossier = own
        elif route.scope in ("society", "dossier"):
            context.dossier = self._dossier_from_header(request, key, required=route.scope == "dossier")
        if route.scope == "dossier" and context.dossier is not None and not context.dossier.active:
            raise api_error("SOCIETE12")
        return context

    # -- routes ----------------------------------------------------------------------------------

    def _key_info(self, request: Request, context: _Context) -> Any:
        key = context.key
        fixture = key.fixture
        routes = [{"path": path, "method": method} for method, path in fixture.routes]
        if request.arg("mode") != "extended":
            return routes
        key.activated = True
        target: dict[str, Any] = {
            "type": fixture.type,
            "schemaId": fixture.schema_id,
            "thirdPartyId": fixture.third_party_id,
        }
        if fixture.type == "api":
            target["societyId"] = fixture.society_id
        elif self.config.firm_key_society_id == "null":
            target["societyId"] = None
        return {
            "target": target,
            "version": {"current": 1, "latest": 1, "beta": False},
            "canBeActivated": True,
            "isActivated": key.activated,
            "routes": routes,
        }

    def _firm_dossiers(self, key: KeyState) -> list[Dossier]:
        """The dossiers of the key's firm that are not hidden from the key."""
        token = key.fixture.token
        return [
            d
            for d in self.data.dossiers
            if d.schema_id == key.fixture.schema_id and (token, d.society_id) not in self.hidden
        ]

    def _society(self, request: Request, context: _Context) -> Any:
        firm_name = self.data.firms.get(context.key.fixture.schema_id, "")
        if context.dossier is not None:
            return shapes.society_detail(context.dossier, firm_name)
        dossiers = self._firm_dossiers(context.key)
        siret = (request.arg("siret") or "").strip()
        if siret:
            if not (siret.isdigit() and len(siret) in (9, 14)):
                raise api_error("GBL10")
            for dossier in dossiers:
                if dossier.siret and dossier.siret[: len(siret)] == siret:
                    return shapes.society_detail(dossier, firm_name, by_siret=True)
            raise api_error("SOCIETE16")
        query = (request.arg("q") or "").strip().lower()
        if query:
            dossiers = [d for d in dossiers if query in d.name.lower()]
        sort = request.arg("sort")
        if sort:
            try:
                spec = json.loads(sort)
                column, direction = str(spec.get("column", "name")), str(spec.get("direction", "asc"))
            except (json.JSONDecodeError, AttributeError):
                raise api_error("GBL10") from None
            items = [shapes.society_list_item(d) for d in dossiers]
            if column not in {"name", "city", "ape", "siret", "status", "step", "folder_reference"}:
                raise api_error("GBL10")
            items.sort(key=lambda item: str(item.get(column) or ""), reverse=direction == "desc")
            return {"row_numbers": len(items), "pages_number": None, "society_array": items}
        return shapes.society_list(dossiers)

    def _society_search(self, request: Request, context: _Context) -> Any:
        reference = (request.arg("reference") or "").strip()
        if not reference:
            raise api_error("GBL10")
        matches = [d for d in self._firm_dossiers(context.key) if d.folder_reference == reference]
        if not matches:
            raise api_error("SOCIETE16")
        if len(matches) > 1:
            raise api_error("SOCIETE17")
        return {"name": matches[0].name, "siret": matches[0].siret, "society_id": matches[0].society_id}

    @staticmethod
    def _dossier(context: _Context) -> Dossier:
        assert context.dossier is not None  # guaranteed by the "dossier" scope
        return context.dossier

    def _accounts(self, request: Request, context: _Context) -> Any:
        dossier = self._dossier(context)
        mode = request.arg("mode", "1")
        accounts = list(dossier.accounts)
        if mode == "2":
            begin_by = request.arg("begin_by")
            account_id = request.arg("account_id")
            if account_id:
                accounts = [a for a in accounts if str(a.account_id) == account_id.strip()]
            if begin_by:
                accounts = [a for a in accounts if a.number.startswith(begin_by.strip())]
            if account_id or begin_by:
                return {"account_array": [shapes.account_detailed(dossier, a) for a in accounts]}
            return {
                "rows_number": len(accounts),
                "pages_number": 1,
                "account_array": [
                    shapes.account_detailed(dossier, a, row_number=i) for i, a in enumerate(accounts, start=1)
                ],
            }
        if mode != "1":
            raise api_error("GBL10")
        query = (request.arg("q") or "").strip()
        if query:
            lowered = query.lower()
            accounts = [a for a in accounts if a.number.startswith(query) or lowered in a.label.lower()]
        try:
            limit = int(request.arg("limit") or self.config.account_mode1_default_limit)
        except ValueError:
            raise api_error("GBL10") from None
        return [shapes.account_simplified(dossier, a) for a in accounts[: max(limit, 0)]]

    def _accounts_v2(self, request: Request, context: _Context) -> Any:
        dossier = self._dossier(context)
        account_id = request.arg("account_id")
        begin_by = request.arg("begin_by")
        if account_id and begin_by:
            raise api_error("GBL10")
        accounts = list(dossier.accounts)
        if account_id:
            accounts = [a for a in accounts if str(a.account_id) == account_id.strip()]
        if begin_by:
            accounts = [a for a in accounts if a.number.startswith(begin_by.strip())]
        flags = {
            name
            for name in ("details", "compta", "vat", "counterpart", "quantity")
            if (request.arg(name) or "").lower() in _TRUE
        }
        return [shapes.account_v2(dossier, a, flags) for a in accounts]

    def _account_find_or_create(self, request: Request, context: _Context) -> Any:
        dossier = self._dossier(context)
        upsert = parse_upsert(request.json())
        with self._lock:
            account = find_or_create(dossier, upsert)
        return shapes.account_created(account)

    def _diaries(self, request: Request, context: _Context) -> Any:
        dossier = self._dossier(context)
        journals = list(dossier.journals)
        query = (request.arg("q") or "").strip().lower()
        if query:
            journals = [j for j in journals if query in j.name.lower() or query in j.code.lower()]
        kind = (request.arg("type") or "").strip()
        if kind:
            journals = [j for j in journals if (j.type or "") == kind]
        code = (request.arg("code") or "").strip()
        if code:
            journals = [j for j in journals if j.code == code]
        return [shapes.diary(dossier, j) for j in journals]

    def _exercices(self, request: Request, context: _Context) -> Any:
        years = sorted(self._dossier(context).fiscal_years, key=lambda y: y.start, reverse=True)
        return [shapes.exercice(y) for y in years]

    def _mad_version(self, request: Request) -> None:
        if not request.arg("version"):
            raise api_error("GBL10")

    def _mad_accounts(self, request: Request, context: _Context) -> Any:
        self._mad_version(request)
        dossier = self._dossier(context)
        prefixes = [p.rstrip("%") for p in request.query.get("classAccount", [])]
        accounts: list[Account] = [
            a for a in dossier.accounts if not prefixes or any(a.number.startswith(p) for p in prefixes)
        ]
        return [shapes.mad_account(dossier, a) for a in accounts]

    def _mad_journals(self, request: Request, context: _Context) -> Any:
        self._mad_version(request)
        dossier = self._dossier(context)
        return [shapes.mad_journal(dossier, j) for j in dossier.journals]

    def _mad_exercices(self, request: Request, context: _Context) -> Any:
        self._mad_version(request)
        years = sorted(self._dossier(context).fiscal_years, key=lambda y: y.start, reverse=True)
        return [shapes.mad_exercice(y) for y in years]

    def _mad_entries(self, request: Request, context: _Context) -> Any:
        dossier = self._dossier(context)
        query = parse_export_query(request.query, dossier)
        origin = request.url.split("/api/", 1)[0]
        with self._lock:
            return export_entries(self.ledger, dossier, query, origin, self.config.mad_reference_field)

    def _duplicate_of(self, hash_key: tuple[str, int], md5: str) -> float | None:
        with self._lock:
            return self.hashes.get(hash_key, {}).get(md5)

    def _tra_partial(self, request: Request, context: _Context) -> Any:
        """Import a TRA+PJ zip; a partial commit that left entries out answers the first one's error."""
        dossier = self._dossier(context)
        config = self.config
        hascode = (request.arg("HascodeVerif") or "").lower() in _TRUE
        mandatory = (request.arg("mandatory_docs") or "").lower() in _TRUE
        archive = open_archive(request.body, request.headers.get("content-type", ""))
        md5 = tra_md5(archive.tra_bytes)
        scope_id = dossier.society_id if config.duplicate_scope == "dossier" else dossier.schema_id
        hash_key = (config.duplicate_scope, scope_id)
        previous = self._duplicate_of(hash_key, md5)
        if hascode and previous is not None:
            moment = datetime.fromtimestamp(previous, UTC)
            raise ApiError(
                "IMPORT25",
                400,
                f"({md5}) - Fichier déjà importé le {moment:%d/%m/%Y à %H:%M} par {config.import_user}."
                "<br>Import non effectué",
            )
        outcome = validate_import(archive.tra_bytes, archive.names, dossier, config, mandatory_docs=mandatory)
        with self._lock:
            if hascode and self._duplicate_of(hash_key, md5) is not None:  # a concurrent copy won the race
                raise api_error("IMPORT6")
            self.hashes.setdefault(hash_key, {})[md5] = self.clock.now()
            self._record_import(request, dossier, archive, outcome, hascode=hascode, mandatory=mandatory)
        if outcome.rejected:
            first = outcome.rejected[0]
            raise ApiError(str(first["code"]), 400, str(first["message"]))
        return {"status": "success"}

    def _record_import(
        self,
        request: Request,
        dossier: Dossier,
        archive: Any,
        outcome: ImportOutcome,
        *,
        hascode: bool,
        mandatory: bool,
    ) -> None:
        """Create the accounts, book the entries (for the export) and keep the inspection record."""
        create_accounts(dossier, outcome.created_accounts)
        booked = self.ledger.book(dossier.society_id, outcome.accepted, outcome.md5)
        self.imports.append(
            {
                "society_id": dossier.society_id,
                "md5": outcome.md5,
                "tra": outcome.tra_text,
                "attachments": [n for n in archive.names if n != archive.tra_name],
                "imported_at": _iso(self.clock.now()),
                "tra_name": archive.tra_name,
                "linked_attachments": outcome.linked_attachments,
                "entries": [line.as_dict() for line in outcome.lines],
                "entry_ids": [entry.producer_id for entry in booked],
                "created_accounts": sorted(outcome.created_accounts),
                "rejected": outcome.rejected,
                "hascode_verif": hascode,
                "mandatory_docs": mandatory,
                "request_id": request.request_id,
            }
        )

    def _legacy_login(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict):
            raise api_error("GBL10")
        for login in self.data.logins:
            if login.get("mail") == body.get("mail") and login.get("password") == body.get("password"):
                state = self.keys.get(str(login["token"]))
                schema_id = state.fixture.schema_id if state else 0
                expires = datetime.fromtimestamp(self.clock.now() + 4 * 3600, UTC)
                return Response(
                    200,
                    {
                        "api_token": login["token"],
                        "expiresIn": f"{expires:%Y-%m-%d %H:%M:%S}",
                        "firm": {"id": schema_id, "label": self.data.firms.get(schema_id, "")},
                    },
                )
        raise api_error("DROIT5")

    # -- control routes ------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")[1:]
        try:
            body = json.loads(request.body) if request.body else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            return Response(400, {"error": {"code": "BAD_JSON", "message": "the body is not JSON"}})
        with self._lock:
            status, answer = handle_control(self, request.method, parts, body)
        return Response(status, answer)

    @staticmethod
    def key_json(state: KeyState) -> dict[str, Any]:
        """A key as ``GET /_emulator/keys`` shows it (never used as a credential by the emulator)."""
        fixture = state.fixture
        return {
            "token": fixture.token,
            "type": fixture.type,
            "schema_id": fixture.schema_id,
            "society_id": fixture.society_id,
            "activated": state.activated,
            "revoked": state.revoked,
            "routes": [{"method": m, "path": p} for m, p in fixture.routes],
        }


_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def create_app(
    fixtures: Fixtures | dict[str, Any] | str | Path | None = None,
    clock: Clock | None = None,
    *,
    config: EmulatorConfig | dict[str, Any] | None = None,
    extra_dossiers: int = 0,
    rate_limit: int | None = None,
    rate_window_s: float | None = None,
) -> EmulatorApp:
    """Build the emulator.

    ``fixtures``: a :class:`Fixtures`, its JSON form (dict), a fixture-file path, or ``None`` for
    :func:`~emulator.fixtures.demo_fixtures`. ``clock``: a :class:`~emulator.clock.ManualClock`
    for tests (default: the wall clock). ``config``: settings (a fixture file's ``"config"`` is
    applied first). ``extra_dossiers`` adds that many generated dossiers to the demo firm (e.g.
    300 for a scale test). ``rate_limit``/``rate_window_s`` override the rate-limit window
    (e.g. 100 per 1 s for fast tests).
    """
    if fixtures is None:
        data = demo_fixtures()
    elif isinstance(fixtures, Fixtures):
        data = fixtures.copy()
    elif isinstance(fixtures, dict):
        data = fixtures_from_dict(fixtures)
    else:
        data = load_fixtures(fixtures)
    if extra_dossiers:
        schema = next(iter(data.firms), 80)
        first = max((d.society_id for d in data.dossiers), default=0) + 1
        data.dossiers.extend(generated_dossiers(schema, extra_dossiers, max(first, 10_000)))
    settings = from_dict(data.config)
    if isinstance(config, EmulatorConfig):
        settings = config if not data.config else from_dict(data.config, base=config)
    elif isinstance(config, dict):
        settings = from_dict(config, base=settings)
    overrides: dict[str, Any] = {}
    if rate_limit is not None:
        overrides["rate_limit"] = rate_limit
    if rate_window_s is not None:
        overrides["rate_window_s"] = rate_window_s
    if overrides:
        settings = settings.replace(**overrides)
    return EmulatorApp(data, clock or SystemClock(), settings)


__all__ = ["ALL_ROUTES", "EmulatorApp", "Fault", "create_app"]
