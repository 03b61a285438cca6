"""The webhook routes through the API handler, over in-memory ports (an injected resolver, no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api import wiring
from api.webhooks import WebhookPorts
from tests.support.events import LambdaContext, api_event
from tests.support.webhook_fakes import Clock, InMemoryRegistry, InMemorySecrets, Resolver


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Iterator[WebhookPorts]:
    ports = WebhookPorts(
        registry=InMemoryRegistry(),
        secrets=InMemorySecrets(),
        resolve=Resolver({"hub.example": ["93.184.216.34"], "evil.example": ["169.254.169.254"]}),
        clock=Clock(),
    )
    wiring.reset()
    monkeypatch.setattr(wiring, "get_webhook_ports", lambda: ports)
    yield ports
    wiring.reset()


def call(method: str, path: str, body: Any = None, tenant: str = "t1") -> tuple[int, Any]:
    from api.app import lambda_handler

    response = lambda_handler(api_event(method, path, body=body, tenant=tenant), LambdaContext())
    text = response.get("body")
    return response["statusCode"], json.loads(text) if text else None


def test_register_read_rotate_and_delete(ports: WebhookPorts) -> None:
    status, body = call("PUT", "/webhook", {"url": "https://hub.example/hooks/myunisoft"})
    assert status == 200 and body["url"] == "https://hub.example/hooks/myunisoft"
    first = body["secret"]
    assert first.startswith("whsec_")
    status, shown = call("GET", "/webhook")
    assert status == 200 and set(shown) == {"url", "created_at"} and first not in json.dumps(shown)
    registration = ports.registry.get("t1")
    assert registration is not None and first not in registration.model_dump_json()
    status, rotated = call("POST", "/webhook/secret")
    assert status == 200 and rotated["secret"] != first
    signing = ports.secrets.load(registration.secret_ref, ports.registry.get("t1").secret_version)  # type: ignore[union-attr]
    assert signing.in_force(ports.clock()) == (rotated["secret"], first)
    assert call("GET", "/webhook", tenant="t2")[0] == 404
    assert call("DELETE", "/webhook")[0] == 204
    assert call("GET", "/webhook")[0] == 404
    assert call("DELETE", "/webhook")[0] == 204
    assert call("POST", "/webhook/secret")[1]["error"]["code"] == "WEBHOOK_NOT_FOUND"


@pytest.mark.parametrize(
    "url",
    [
        "http://hub.example/h",
        "https://evil.example/h",
        "https://127.0.0.1/h",
        "https://[::ffff:10.0.0.1]/h",
        "http://127.0.0.1:9000/h",
        "https://hub.example/h\u0007ook",  # a control character, refused by the request's model
    ],
)
def test_refused_urls_are_answered_422_with_a_sentence_and_nothing_is_stored(
    ports: WebhookPorts, url: str
) -> None:
    status, body = call("PUT", "/webhook", {"url": url})
    assert status == 422 and body["error"]["code"] == "WEBHOOK_URL_REFUSED"
    assert body["error"]["message"].endswith(".")
    assert ports.registry.get("t1") is None


def test_a_malformed_body_is_a_400(ports: WebhookPorts) -> None:
    assert call("PUT", "/webhook", {"address": "https://hub.example"})[0] == 400
