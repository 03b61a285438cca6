"""The API handler over fakes: routing, tenant from the authorizer, one error shape, no key in answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api import app as api_app
from api import wiring
from api.connections import ApiPorts
from tests.support.events import LambdaContext, api_event
from tests.support.fakes import FakeMyUnisoft


@pytest.fixture
def call(ports: ApiPorts, monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Any:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "test")
    monkeypatch.setattr(wiring, "get_ports", lambda: ports)

    def invoke(method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        response = api_app.lambda_handler(api_event(method, path, **kwargs), LambdaContext())
        return response["statusCode"], json.loads(response["body"] or "null"), response.get("headers", {})

    return invoke


def test_onboarding_answers_201_with_the_files(call: Any) -> None:
    # When a firm key is posted
    status, body, _ = call("POST", "/connections", body={"api_key": "firm-key"})

    # Then the connection and its files are returned, without the key
    assert status == 201
    assert body["status"] == "active"
    assert [f["society_id"] for f in body["files"]] == [101, 102, 103]
    assert body["files"][0]["file_id"] == f"{body['connection_id']}.101"
    assert body["warnings"] == []
    assert "firm-key" not in json.dumps(body)

    # And the same firm again answers 200 with the same connection
    status_again, again, _ = call("POST", "/connections", body={"api_key": "firm-key"})
    assert (status_again, again["connection_id"]) == (200, body["connection_id"])


def test_the_connection_shows_a_fingerprint_never_the_key(call: Any) -> None:
    # Given a connection
    _, created, _ = call("POST", "/connections", body={"api_key": "firm-key"})

    # When it is read
    status, body, _ = call("GET", f"/connections/{created['connection_id']}")

    # Then it has a fingerprint, counts, and no key
    assert status == 200
    assert body["key_fingerprint"].startswith("sha256:")
    assert body["files"] == {"total": 3, "visible": 3, "references": {"pending": 3}}
    assert body["entries"] == {}
    assert "firm-key" not in json.dumps(body)


@pytest.mark.parametrize(
    ("request_body", "status", "code"),
    [
        pytest.param({"api_key": "society-key"}, 422, "KEY_NOT_FIRM", id="dossier-key"),
        pytest.param({"api_key": "narrow-key"}, 422, "KEY_MISSING_ROUTES", id="missing-route"),
        pytest.param({"api_key": ""}, 400, "INVALID_REQUEST", id="empty"),
        pytest.param({"key": "firm-key"}, 400, "INVALID_REQUEST", id="wrong-field"),
    ],
)
def test_refusals_share_one_error_shape(call: Any, request_body: Any, status: int, code: str) -> None:
    # When an unusable key or a malformed body is posted
    answer_status, body, _ = call("POST", "/connections", body=request_body)

    # Then the answer is {"error": {"code", "message"}} with a fitting status
    assert answer_status == status
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "society-key" not in json.dumps(body)


def test_a_body_that_is_not_json_is_a_400_that_does_not_echo_it(call: Any) -> None:
    # When the body is not JSON
    status, body, _ = call("POST", "/connections", raw_body='{"api_key": "secret-key-value"')

    # Then it is refused without repeating what was sent
    assert status == 400
    assert "secret-key-value" not in json.dumps(body)


def test_maintenance_is_a_503_with_retry_after(call: Any, myunisoft: FakeMyUnisoft) -> None:
    # Given MyUnisoft under maintenance
    from tra_core.myunisoft.errors import Maintenance

    myunisoft.failure = Maintenance("down", myunisoft_code="ERR-API-UNDER-MAINTENANCE")

    # When a key is posted
    status, body, headers = call("POST", "/connections", body={"api_key": "firm-key"})

    # Then the answer is 503 with a Retry-After
    assert status == 503
    assert body["error"]["code"] == "MYUNISOFT_MAINTENANCE"
    assert headers["Retry-After"] == "300"


def test_without_a_tenant_claim_nothing_is_served(call: Any) -> None:
    # When the authorizer context names no tenant
    status, body, _ = call("POST", "/connections", body={"api_key": "firm-key"}, tenant=None)

    # Then the request is refused
    assert (status, body["error"]["code"]) == (401, "UNAUTHENTICATED")


def test_another_tenants_connection_is_a_404(call: Any) -> None:
    # Given tenant A's connection
    _, created, _ = call("POST", "/connections", body={"api_key": "firm-key"})
    connection_id = created["connection_id"]
    file_id = created["files"][0]["file_id"]

    # Then every route answers 404 to tenant B
    for method, path, body in (
        ("GET", f"/connections/{connection_id}", None),
        ("GET", f"/connections/{connection_id}/files", None),
        ("PUT", f"/connections/{connection_id}/key", {"api_key": "firm-key-2"}),
        ("DELETE", f"/connections/{connection_id}", None),
        ("GET", f"/files/{file_id}/references", None),
        ("POST", f"/files/{file_id}/refresh", None),
    ):
        status, answer, _ = call(method, path, body=body, tenant="tenant-b")
        assert (status, answer["error"]["code"]) == (404, "NOT_FOUND"), (method, path)


def test_an_unknown_route_is_a_404(call: Any) -> None:
    status, body, _ = call("GET", "/nowhere")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
