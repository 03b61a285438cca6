"""The local front does what API Gateway (HTTP API, payload 2.0) and its JWT authorizer do."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from local.front import (
    Front,
    FrontServer,
    HttpRequest,
    JwtSettings,
    build_event,
    dev_claims,
    match_route,
    to_response,
)
from local.topology import Route
from tests.support.events import load_event

JWT = JwtSettings(issuer="https://issuer.example/", audience="bridge", tenant_claim="tenant")


def _route(method: str, path: str, function: str = "Fn", authorizer: str | None = "Jwt") -> Route:
    return Route(method=method, path=path, function=function, api="Api", authorizer=authorizer)


ROUTES = [
    _route("GET", "/files/{file_id}/entries/{entry_id}", "Entry"),
    _route("GET", "/files/{file_id}/entries/preview", "Preview"),
    _route("ANY", "/files/{proxy+}", "Proxy"),
    _route("POST", "/connections", "Connect"),
    _route("GET", "/open", "Open", authorizer=None),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "parameters"),
    [
        ("GET", "/files/f1/entries/e-1", "Entry", {"file_id": "f1", "entry_id": "e-1"}),
        ("GET", "/files/f1/entries/preview", "Preview", {"file_id": "f1"}),
        ("DELETE", "/files/f1/anything/deeper", "Proxy", {"proxy": "f1/anything/deeper"}),
        ("POST", "/connections/", "Connect", {}),
        ("GET", "/files/a%3Ab/entries/e", "Entry", {"file_id": "a:b", "entry_id": "e"}),
    ],
)
def test_the_most_specific_route_wins_and_path_parameters_are_decoded(
    method: str, path: str, function: str, parameters: dict[str, str]
) -> None:
    # When a request path is matched against the routes
    match = match_route(ROUTES, method, path)

    # Then API Gateway's choice is made: literal segments beat parameters, greedy ones come last
    assert match is not None
    assert (match.route.function, match.path_parameters) == (function, parameters)


def test_no_route_for_the_wrong_method_or_path() -> None:
    assert match_route(ROUTES, "GET", "/connections") is None
    assert match_route(ROUTES, "GET", "/nowhere") is None


def test_dev_token_builds_the_authorizer_claims_and_anything_else_is_refused() -> None:
    # Given the local token of tenant acme
    claims = dev_claims("Bearer dev:acme", JWT, now=1_800_000_000.5)

    # Then the claims look like the authorizer's: strings, issuer, audience and the tenant claim
    assert claims == {
        "iss": "https://issuer.example/",
        "aud": "bridge",
        "sub": "dev:acme",
        "iat": "1800000000",
        "exp": "1800003600",
        "tenant": "acme",
    }
    for refused in (None, "", "Bearer dev:", "Bearer acme", "Basic dev:acme", "Bearer dev:a b"):
        assert dev_claims(refused, JWT, now=0) is None


def test_the_event_has_the_payload_2_0_shape_of_the_sample_event() -> None:
    # Given a JSON POST with a query string, repeated headers and cookies
    request = HttpRequest(
        method="POST",
        target="/files/f%201/entries/e1?status=queued&status=failed&x=",
        headers=[
            ("Host", "127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("X-Tag", "a"),
            ("X-Tag", "b"),
            ("Cookie", "a=1; b=2"),
            ("User-Agent", "hub/1.0"),
        ],
        body=b'{"api_key": "k"}',
    )
    match = match_route(
        [_route("POST", "/files/{file_id}/entries/{entry_id}")], "POST", "/files/f%201/entries/e1"
    )
    assert match is not None

    # When the event is built with the authorizer's claims
    event = build_event(request, match, claims={"tenant": "acme", "scope": "read write"}, now=1_800_000_000.0)

    # Then it has the keys of events/api_gateway_http.json and Powertools parses it as v2
    sample = load_event("api_gateway_http")
    assert set(sample) <= set(event)
    assert set(sample["requestContext"]) <= set(event["requestContext"])
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.routeKey == "POST /files/{file_id}/entries/{entry_id}"
    assert event["rawPath"] == "/files/f%201/entries/e1"
    assert event["pathParameters"] == {"file_id": "f 1", "entry_id": "e1"}
    assert event["queryStringParameters"] == {"status": "queued,failed", "x": ""}
    assert event["headers"]["x-tag"] == "a,b"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["authorizer"]["jwt"] == {
        "claims": {"tenant": "acme", "scope": "read write"},
        "scopes": ["read", "write"],
    }
    assert event["requestContext"]["time"] == "15/Jan/2027:08:00:00 +0000"
    assert (event["body"], event["isBase64Encoded"]) == ('{"api_key": "k"}', False)


def test_a_binary_body_is_base64_encoded_and_an_empty_one_is_absent() -> None:
    match = match_route(ROUTES, "POST", "/connections")
    assert match is not None
    pdf = b"%PDF-1.4\xff\xfe"
    binary = build_event(
        HttpRequest("POST", "/connections", [("Content-Type", "application/pdf")], pdf), match, claims=None
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == pdf
    empty = build_event(HttpRequest("POST", "/connections", [], b""), match, claims=None)
    assert "body" not in empty
    assert "authorizer" not in empty["requestContext"]


def test_handler_answers_become_http_responses() -> None:
    # A full answer keeps its status, headers, cookies and (decoded) body
    full = to_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "cookies": ["s=1"],
            "body": base64.b64encode(b"\x00\x01").decode(),
            "isBase64Encoded": True,
        }
    )
    assert (full.status, full.body) == (201, b"\x00\x01")
    assert ("set-cookie", "s=1") in full.headers
    # A bare value is answered 200 as JSON, as API Gateway does
    bare = to_response({"hello": "world"})
    assert (bare.status, json.loads(bare.body)) == (200, {"hello": "world"})


class _Recorder:
    def __init__(self, answer: Any = None, error: BaseException | None = None):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "{}"}
        self.error = error

    def __call__(self, function: str, event: dict[str, Any], timeout: float | None) -> Any:
        self.calls.append((function, event))
        if self.error is not None:
            raise self.error
        return self.answer


class _Slow(Exception):
    pass


def test_front_refuses_without_token_and_maps_failures_like_api_gateway() -> None:
    recorder = _Recorder()
    front = Front(ROUTES, recorder, JWT, timeout_error=_Slow)

    # No token on a protected route: 401 before any function runs
    refused = front.handle(HttpRequest("POST", "/connections", [], b"{}"))
    assert (refused.status, json.loads(refused.body)) == (401, {"message": "Unauthorized"})
    assert recorder.calls == []
    # An open route needs none; an unknown route is 404 Not Found
    assert front.handle(HttpRequest("GET", "/open", [], b"")).status == 200
    assert json.loads(front.handle(HttpRequest("GET", "/nope", [], b"")).body) == {"message": "Not Found"}
    # A crashing function is a 500, a slow one a 503
    crashing = Front(ROUTES, _Recorder(error=RuntimeError("boom")), JWT, timeout_error=_Slow)
    assert crashing.handle(HttpRequest("GET", "/open", [], b"")).status == 500
    slow = Front(ROUTES, _Recorder(error=_Slow()), JWT, timeout_error=_Slow)
    assert slow.handle(HttpRequest("GET", "/open", [], b"")).status == 503


def test_front_server_serves_over_http() -> None:
    # Given a front on a free port whose function echoes the tenant it was given
    def echo(function: str, event: dict[str, Any], timeout: float | None) -> Any:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        return {
            "statusCode": 202,
            "headers": {"x-fn": function},
            "body": json.dumps({"tenant": claims["tenant"]}),
        }

    server = FrontServer(("127.0.0.1", 0), Front(ROUTES, echo, JWT)).start()
    try:
        # When a client calls it with the local token
        response = httpx.post(
            f"{server.url}/connections", headers={"Authorization": "Bearer dev:acme"}, json={}
        )
    finally:
        server.stop()

    # Then the function's answer comes back as the HTTP response
    assert response.status_code == 202
    assert response.headers["x-fn"] == "Connect"
    assert response.json() == {"tenant": "acme"}


def test_a_method_no_route_has_is_answered_404_like_api_gateway_never_501() -> None:
    # Given a front on a free port
    server = FrontServer(("127.0.0.1", 0), Front(ROUTES, _Recorder(), JWT)).start()
    try:
        # When a client sends a method no route of the template has
        response = httpx.request(
            "TRACE", f"{server.url}/connections", headers={"Authorization": "Bearer dev:x"}
        )
    finally:
        server.stop()

    # Then it is answered as an unknown route, not as a server error
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
