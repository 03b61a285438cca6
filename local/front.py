"""The local HTTP front: what API Gateway (HTTP API, payload format 2.0) does before and after a handler.

A request is matched against the template's ``HttpApi`` routes (the most specific one wins, as on
AWS), checked by the route's authorizer, turned into the API Gateway v2 event the handler gets on
AWS, and the handler's answer is turned back into an HTTP response (``statusCode``/``headers``/
``cookies``/``body``/``isBase64Encoded``, or a bare JSON value answered as 200).

Authentication: on AWS a JWT authorizer checks the hub's token and hands its claims to the handler
(``requestContext.authorizer.jwt.claims``). Locally the front accepts ``Authorization: Bearer
dev:<tenant>`` and builds the same claims (issuer, audience, subject and the tenant claim named by
the template's ``TenantClaim`` parameter), so handlers never see the difference (docs/architecture.md §7).
Anything else is answered ``401 {"message": "Unauthorized"}``, as API Gateway does.

Local-only control routes live under ``/_local/`` (never a route of the template):

- ``GET /_local/health`` — the stack is up.
- ``POST /_local/schedules/{name}`` — fire a schedule now (its function gets the EventBridge
  ``Scheduled Event``); answers the function's result.
- ``GET /_local/queues`` — each queue's visible, in-flight and dead-lettered message counts.
- ``POST /_local/mappings/{name}`` ``{"enabled": false}`` — switch an SQS mapping off (its batches in
  the function finish, nothing more is received) or back on, as ``UpdateEventSourceMapping`` does.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.topology import Route

#: API Gateway's payload limit for HTTP APIs (10 MB) and its integration timeout (30 s).
MAX_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 30.0
DEV_TOKEN = re.compile(r"Bearer dev:(?P<tenant>[A-Za-z0-9._:@|+-]{1,128})")
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|x-www-form-urlencoded|javascript))(;.*)?$", re.I
)


@dataclass(frozen=True)
class JwtSettings:
    """What the local authorizer puts in the claims (the template's JwtIssuer/JwtAudience/TenantClaim)."""

    issuer: str
    audience: str
    tenant_claim: str = "tenant"
    lifetime_s: int = 3600


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as received
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def json(cls, status: int, document: Any, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
        return cls(
            status, [("content-type", "application/json"), *headers], json.dumps(document).encode("utf-8")
        )


# -- routing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    route: Route
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s != ""]


def _match_path(template: str, path: str) -> dict[str, str] | None:
    want, have = _segments(template), _segments(path)
    parameters: dict[str, str] = {}
    for index, segment in enumerate(want):
        if segment.startswith("{") and segment.endswith("+}"):  # greedy {proxy+}: the rest of the path
            if index >= len(have):
                return None
            parameters[segment[1:-2]] = unquote("/".join(have[index:]))
            return parameters
        if index >= len(have):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = unquote(have[index])
        elif segment != have[index]:
            return None
    return parameters if len(want) == len(have) else None


def _specificity(route: Route) -> tuple[int, int, int]:
    """API Gateway prefers more literal segments, then fewer greedy ones, then a named method over ANY."""
    segments = _segments(route.path)
    literal = sum(1 for s in segments if not s.startswith("{"))
    greedy = sum(1 for s in segments if s.endswith("+}"))
    return (literal, -greedy, 0 if route.method == "ANY" else 1)


def match_route(routes: Sequence[Route], method: str, path: str) -> Match | None:
    """The route API Gateway would pick for ``method path`` (``$default`` last), or None."""
    candidates: list[tuple[tuple[int, int, int], Match]] = []
    fallback: Match | None = None
    for route in routes:
        if route.method not in ("ANY", method.upper()):
            continue
        if route.path == "$default":
            fallback = Match(route, {})
            continue
        parameters = _match_path(route.path, path)
        if parameters is not None:
            candidates.append((_specificity(route), Match(route, parameters)))
    if candidates:
        return max(candidates, key=lambda item: item[0])[1]
    return fallback


# -- the event ----------------------------------------------------------------------------------


def dev_claims(authorization: str | None, jwt: JwtSettings, now: float) -> dict[str, str] | None:
    """The claims the JWT authorizer would pass for ``Bearer dev:<tenant>``; None when not acceptable."""
    found = DEV_TOKEN.fullmatch((authorization or "").strip())
    if found is None:
        return None
    tenant = found.group("tenant")
    issued = int(now)
    # API Gateway hands every claim over as a string.
    return {
        "iss": jwt.issuer,
        "aud": jwt.audience,
        "sub": f"dev:{tenant}",
        "iat": str(issued),
        "exp": str(issued + jwt.lifetime_s),
        jwt.tenant_claim: tenant,
    }


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased names; repeated headers joined with commas (payload format 2.0)."""
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def build_event(
    request: HttpRequest,
    match: Match,
    *,
    claims: Mapping[str, str] | None,
    api_id: str = "local",
    account_id: str = "123456789012",
    now: float | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for ``request``."""
    now = time.time() if now is None else now
    split = urlsplit(request.target)
    headers = _header_map(request.headers)
    cookie_header = headers.pop("cookie", None)
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    host = headers.get("host", "127.0.0.1")
    stamp = datetime.fromtimestamp(now, UTC)
    route_key = "$default" if match.route.path == "$default" else match.route.route_key
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "http": {
                "method": request.method.upper(),
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": base64.urlsafe_b64encode(uuid.uuid4().bytes[:10]).decode("ascii"),
            "routeKey": route_key,
            "stage": "$default",
            "time": stamp.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookie_header:
        event["cookies"] = [c.strip() for c in cookie_header.split(";") if c.strip()]
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if claims is not None:
        scope = claims.get("scope")
        event["requestContext"]["authorizer"] = {
            "jwt": {"claims": dict(claims), "scopes": scope.split() if scope else None}
        }
    if request.body:
        content_type = headers.get("content-type", "")
        text = _as_text(request.body) if _TEXT_TYPES.match(content_type) or not content_type else None
        if text is None:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _as_text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def to_response(payload: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a handler's answer (payload format 2.0)."""
    if isinstance(payload, dict) and "statusCode" in payload:
        status = int(payload["statusCode"])
        headers = [(str(k), str(v)) for k, v in (payload.get("headers") or {}).items()]
        for name, values in (payload.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("set-cookie", str(cookie)) for cookie in payload.get("cookies") or [])
        raw = payload.get("body")
        if raw is None:
            body = b""
        elif payload.get("isBase64Encoded"):
            body = base64.b64decode(str(raw))
        else:
            body = str(raw).encode("utf-8")
        return HttpResponse(status, headers, body)
    # Without a statusCode, API Gateway answers 200 with the payload as JSON.
    return HttpResponse.json(200, payload)


# -- the server ---------------------------------------------------------------------------------

Invoke = Callable[[str, dict[str, Any], float], Any]
Control = Callable[[HttpRequest], HttpResponse | None]


class Front:
    """Routes requests to functions through ``invoke(function, event, timeout)``.

    ``invoke`` raises for a failed invocation; the front then answers as API Gateway does
    (500 ``Internal Server Error``, or 503 ``Service Unavailable`` after the integration timeout).
    """

    def __init__(
        self,
        routes: Sequence[Route],
        invoke: Invoke,
        jwt: JwtSettings,
        *,
        control: Control | None = None,
        on_request: Callable[[str], None] | None = None,
        timeout_error: type[BaseException] | tuple[type[BaseException], ...] = (),
        integration_timeout_s: float = INTEGRATION_TIMEOUT_S,
    ):
        self.routes = list(routes)
        self.invoke = invoke
        self.jwt = jwt
        self.control = control
        self.on_request = on_request
        self.timeout_error = timeout_error
        self.integration_timeout_s = integration_timeout_s

    def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = self._handle(request)
        if self.on_request is not None:
            elapsed = (time.monotonic() - started) * 1000
            self.on_request(f"{request.method} {request.target} -> {response.status} ({elapsed:.0f} ms)")
        return response

    def _handle(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.target).path
        if path.startswith("/_local/") and self.control is not None:
            answer = self.control(request)
            if answer is not None:
                return answer
        if len(request.body) > MAX_BODY_BYTES:
            return HttpResponse.json(413, {"message": "Request Entity Too Large"})
        match = match_route(self.routes, request.method, path)
        if match is None:
            return HttpResponse.json(404, {"message": "Not Found"})
        now = time.time()
        claims = None
        if match.route.authorizer is not None:
            authorization = _header_map(request.headers).get("authorization")
            claims = dev_claims(authorization, self.jwt, now)
            if claims is None:
                return HttpResponse.json(
                    401, {"message": "Unauthorized"}, [("www-authenticate", 'Bearer realm="local"')]
                )
        event = build_event(request, match, claims=claims, now=now)
        try:
            payload = self.invoke(match.route.function, event, self.integration_timeout_s)
        except self.timeout_error:
            return HttpResponse.json(503, {"message": "Service Unavailable"})
        except Exception:
            return HttpResponse.json(500, {"message": "Internal Server Error"})
        try:
            return to_response(payload)
        except (TypeError, ValueError):
            return HttpResponse.json(500, {"message": "Internal Server Error"})


class _Handler(BaseHTTPRequestHandler):
    server: FrontServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        response = self.server.front.handle(request)
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if "content-type" not in names and response.body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(response.body)))
        self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve
    # Every other method a client may send is routed too (no route: 404), never http.server's 501.
    do_TRACE = do_QUERY = do_CONNECT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # the front reports requests itself
        return


class FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], front: Front):
        super().__init__(address, _Handler)
        self.front = front
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FrontServer:
        self._thread = threading.Thread(target=self.serve_forever, name="front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
