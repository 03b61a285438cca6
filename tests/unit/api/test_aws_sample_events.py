"""The API handler answers AWS's own HTTP API sample event (``sam local generate-event apigateway
http-api-proxy``) cleanly: a route it does not have, a base64 body, claims without a tenant."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from api import app as api_app
from api import wiring
from api.connections import ApiPorts
from tests.support.events import LambdaContext, load_event


@pytest.fixture
def handler(ports: ApiPorts, monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Any:
    monkeypatch.setattr(wiring, "get_ports", lambda: ports)

    def invoke(event: dict[str, Any]) -> tuple[int, Any]:
        response = api_app.lambda_handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    yield invoke
    wiring.reset()


def aimed_at(event: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The sample event sent to one of our routes (as API Gateway would route it)."""
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["pathParameters"] = {}
    return event


def test_sams_sample_event_for_a_route_we_do_not_have_is_404(handler: Any) -> None:
    # Given SAM's sample event: POST /path/to/resource, route "$default", a base64 body
    event = load_event("aws/http_api_proxy")

    # When the API handler gets it
    status, body = handler(event)

    # Then it answers 404 in the API's error shape
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


def test_sams_sample_event_without_a_tenant_claim_is_401(handler: Any) -> None:
    # Given SAM's sample event on a real route, its JWT claims naming no tenant
    event = aimed_at(load_event("aws/http_api_proxy"), "GET", "/connections/c1/files")

    # When the API handler gets it
    status, body = handler(event)

    # Then the request is refused as unauthenticated, not failed
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


def test_sams_base64_body_is_decoded_and_refused_as_the_wrong_shape(handler: Any) -> None:
    # Given SAM's sample event posting its base64 body {"test":"body"} to POST /connections, with a tenant
    event = aimed_at(load_event("aws/http_api_proxy"), "POST", "/connections")
    event["requestContext"]["authorizer"]["jwt"]["claims"]["tenant"] = "tenant-demo"
    assert json.loads(base64.b64decode(event["body"])) == {"test": "body"}

    # When the API handler gets it
    status, body = handler(event)

    # Then the body was read (decoded) and refused with a 400 naming the missing field
    assert status == 400
    assert "api_key" in json.dumps(body["error"])
