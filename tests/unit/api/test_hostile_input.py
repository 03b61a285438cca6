"""Hostile and careless input through the API handler: always a 4xx with a stable code, never a 500.

Each class of input the edge refuses (a body that is not UTF-8, a 5,000-digit number, a 3,000-character
id, a key with characters a header cannot carry, deep JSON, a huge body, a body that is not JSON)
is sent to every route it applies to. Every answer must conform to docs/openapi.json for its route
and status, and the preview must answer what POST .../entries answers for the same body.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from api import app as api_app
from api import wiring
from api.connections import ApiPorts
from api.entry_checks import MAX_ENTRIES_PER_REQUEST
from api.request import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.support.events import LambdaContext, api_event
from tests.support.fakes import FakeMyUnisoft
from tests.support.openapi import assert_conforms
from tests.support.upload_world import TENANT, World


class Answer:
    def __init__(self, method: str, path: str, response: dict[str, Any]):
        self.status: int = response["statusCode"]
        self.text: str = response["body"] or ""
        self.body: Any = json.loads(self.text) if self.text else None
        self.method, self.path = method, path

    @property
    def code(self) -> str | None:
        return self.body["error"]["code"] if isinstance(self.body, dict) and "error" in self.body else None


@pytest.fixture
def call(world: World, ports: ApiPorts, monkeypatch: pytest.MonkeyPatch, api_environment: None) -> Any:
    monkeypatch.setattr(wiring, "get_ports", lambda: ports)
    monkeypatch.setattr(wiring, "get_intake_ports", lambda: world.intake)

    def invoke(
        method: str,
        path: str,
        *,
        base64_body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Answer:
        event = api_event(method, path, tenant=TENANT, **kwargs)
        if base64_body is not None:
            event["body"], event["isBase64Encoded"] = base64.b64encode(base64_body).decode(), True
        event["headers"].update(headers or {})
        if query:
            event["queryStringParameters"] = query
            event["rawQueryString"] = urlencode(query)
        answer = Answer(method, path, api_app.lambda_handler(event, LambdaContext()))
        assert_conforms(method, path, answer.status, answer.body)
        return answer

    return invoke


@pytest.fixture
def world() -> World:
    return World()


def body_routes(world: World) -> list[tuple[str, str]]:
    entries = f"/files/{world.file_id}/entries"
    return [
        ("POST", "/connections"),
        ("PUT", f"/connections/{world.connection_id}/key"),
        ("POST", f"/files/{world.file_id}/attachments"),
        ("POST", entries),
        ("POST", f"{entries}/preview"),
    ]


def test_a_body_that_is_not_utf8_is_a_400(world: World, call: Any) -> None:
    for method, path in body_routes(world):
        answer = call(method, path, base64_body=b'{"api_key": "caf\xe9"}')
        assert (answer.status, answer.code) == (400, "BODY_NOT_UTF8"), (method, path)


def test_a_number_of_5000_digits_is_a_400_not_a_500(world: World, call: Any) -> None:
    # Given entries whose version, and amount, have 5,000 digits (and a key that is such a number)
    huge = "9" * 5000
    entry = json.dumps(world.entry("a")).replace('"version": 1', f'"version": {huge}')
    amount = json.dumps(world.entry("b")).replace('"credit": "120.00"', f'"credit": {huge}.5')

    # Then every route refuses them with a stable code
    for method, path in body_routes(world)[3:]:
        for raw in (entry, amount):
            answer = call(method, path, raw_body=raw)
            assert (answer.status, answer.code) == (400, "NUMBER_TOO_LONG"), (method, path)
    answer = call("POST", "/connections", raw_body=f'{{"api_key": {huge}}}')
    assert (answer.status, answer.code) == (400, "NUMBER_TOO_LONG")


def test_a_version_dynamodb_cannot_store_is_refused(world: World, call: Any) -> None:
    for exponent in ("1e999999", "1e-999999"):
        raw = json.dumps(world.entry("a")).replace('"credit": "120.00"', f'"credit": {exponent}')
        answer = call("POST", f"/files/{world.file_id}/entries", raw_body=raw)
        assert (answer.status, answer.code) == (400, "NUMBER_TOO_LONG")


def test_an_id_of_3000_characters_is_a_404_on_every_route(world: World, call: Any) -> None:
    long_id = "c" + "x" * 3000
    file_id, entry_id = world.file_id, "a"
    for method, path, body in (
        ("GET", f"/connections/{long_id}", None),
        ("DELETE", f"/connections/{long_id}", None),
        ("GET", f"/connections/{long_id}/files", None),
        ("PUT", f"/connections/{long_id}/key", {"api_key": "firm-key"}),
        ("GET", f"/files/{long_id}.101/references", None),
        ("POST", f"/files/{long_id}.101/refresh", None),
        ("POST", f"/files/{long_id}.101/attachments", {"filename": "f.pdf", "sha256": "1" * 64}),
        ("POST", f"/files/{long_id}.101/entries", world.entry("a")),
        ("POST", f"/files/{long_id}.101/entries/preview", world.entry("a")),
        ("GET", f"/files/{long_id}.101/entries", None),
        ("GET", f"/files/{file_id}/entries/{long_id}", None),
        ("POST", f"/files/{file_id}/entries/{long_id}/retry", None),
        ("GET", f"/files/{file_id}.{'9' * 3000}/entries/{entry_id}", None),
    ):
        answer = call(method, path, body=body)
        assert (answer.status, answer.code) == (404, "NOT_FOUND"), (method, path[:60])


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("firm\x00key", id="nul"),
        pytest.param("firm-key\x1b[31m", id="escape"),
        pytest.param("firm\nkey", id="line-break"),
        pytest.param("clé-du-cabinet", id="accent"),
        pytest.param("firm key", id="space"),
        pytest.param("firm-key\u200b", id="zero-width"),
    ],
)
def test_a_key_with_characters_a_header_cannot_carry_is_a_422_never_a_503(
    call: Any, myunisoft: FakeMyUnisoft, key: str
) -> None:
    # When such a key is pasted
    answer = call("POST", "/connections", body={"api_key": key})

    # Then it is refused with a clear code, before any call to MyUnisoft, and never echoed
    assert (answer.status, answer.code) == (422, "KEY_INVALID")
    assert "Copy the whole key again" in answer.body["error"]["message"]
    assert myunisoft.calls == []
    assert key not in answer.text and json.dumps(key)[1:-1] not in answer.text


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_deep_json_is_a_400(world: World, call: Any, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    for method, path in body_routes(world):
        answer = call(method, path, raw_body=deep)
        assert (answer.status, answer.code) == (400, "JSON_TOO_DEEP"), (method, path)


def test_a_huge_body_is_a_413(world: World, call: Any) -> None:
    huge = json.dumps({"api_key": "k", "padding": "x" * MAX_BODY_BYTES})
    for method, path in body_routes(world):
        answer = call(method, path, raw_body=huge)
        assert (answer.status, answer.code) == (413, "REQUEST_TOO_LARGE"), (method, path)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("{not json", "INVALID_JSON", id="broken"),
        pytest.param('{"api_key": NaN}', "INVALID_JSON", id="nan"),
        pytest.param('{"api_key": Infinity}', "INVALID_JSON", id="infinity"),
        pytest.param('{"api_key": "\\ud800"}', "INVALID_TEXT", id="lone-surrogate"),
        pytest.param("", "INVALID_JSON", id="empty"),
        pytest.param('"just a string"', "INVALID_REQUEST", id="not-an-object"),
    ],
)
def test_a_body_that_is_not_the_json_expected_is_a_400(world: World, call: Any, raw: str, code: str) -> None:
    for method, path in body_routes(world):
        answer = call(method, path, raw_body=raw)
        assert (answer.status, answer.code) == (400, code), (method, path)


def test_a_body_that_is_not_sent_as_json_is_a_415(world: World, call: Any) -> None:
    for content_type in ("text/plain", "multipart/form-data", "application/x-www-form-urlencoded"):
        for method, path in body_routes(world):
            answer = call(method, path, raw_body="api_key=x", headers={"content-type": content_type})
            assert (answer.status, answer.code) == (415, "UNSUPPORTED_MEDIA_TYPE"), (content_type, path)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        pytest.param({"limit": "abc"}, "INVALID_LIMIT", id="limit-text"),
        pytest.param({"limit": "0"}, "INVALID_LIMIT", id="limit-zero"),
        pytest.param({"limit": "9" * 5000}, "INVALID_LIMIT", id="limit-5000-digits"),
        pytest.param({"status": "lost"}, "INVALID_STATUS", id="status"),
        pytest.param({"status": "queued,failed"}, "INVALID_STATUS", id="status-list"),
        pytest.param({"cursor": "not a cursor!"}, "INVALID_CURSOR", id="cursor-charset"),
        pytest.param({"cursor": "A" * 3000}, "INVALID_CURSOR", id="cursor-long"),
    ],
)
def test_query_parameters_are_bounded(world: World, call: Any, query: dict[str, str], code: str) -> None:
    answer = call("GET", f"/files/{world.file_id}/entries", query=query)
    assert (answer.status, answer.code) == (400, code)


def test_an_unexpected_failure_answers_only_internal_error_and_a_request_id(
    world: World, call: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store that fails with a message naming internals
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("table t-secret-internal is on fire")

    monkeypatch.setattr(world.entries, "get", broken)

    # When an entry is read
    answer = call("GET", f"/files/{world.file_id}/entries/a")

    # Then the answer is a 500 saying nothing but "internal error" and a request id
    assert answer.status == 500
    assert answer.body["error"]["code"] == "INTERNAL_ERROR"
    assert answer.body["error"]["message"] == "Internal error."
    assert answer.body["error"]["request_id"]
    assert "fire" not in answer.text and "t-secret" not in answer.text


def preview_and_post(call: Any, world: World, body: Any) -> tuple[Answer, Answer]:
    entries = f"/files/{world.file_id}/entries"
    return call("POST", f"{entries}/preview", body=body), call("POST", entries, body=body)


@pytest.mark.parametrize(
    "case",
    ["too-many-entries", "repeated-entry", "too-many-lines", "schema", "foreign-document", "valid"],
)
def test_the_preview_answers_what_the_post_answers(world: World, call: Any, case: str) -> None:
    # Given a body the POST refuses (or accepts)
    many_lines = [{"account": "606100", "debit": "0.01"} for _ in range(4000)]
    many_lines.append({"account": "401000", "subsidiary": "EDF", "credit": "40.00"})
    body: Any = {
        "too-many-entries": [world.entry(f"e{i}") for i in range(MAX_ENTRIES_PER_REQUEST + 1)],
        "repeated-entry": [world.entry("a"), world.entry("a", version=2)],
        "too-many-lines": world.entry("a", lines=many_lines),
        "schema": [world.entry("a", journal="ACHATS"), world.entry("b", date="2026-13-01")],
        "foreign-document": world.entry(
            "a", attachments=[{"filename": "f.pdf", "s3_key": world.document(society_id=999)}]
        ),
        "valid": [world.entry("a"), world.entry("b")],
    }[case]

    # When it is previewed, then posted
    preview, post = preview_and_post(call, world, body)

    # Then the preview refuses the request as the POST does, or lists exactly the POST's problems
    if post.status == 413:
        assert (preview.status, preview.code) == (post.status, post.code) == (413, "REQUEST_TOO_LARGE")
    elif post.status == 400:
        assert preview.status == 200 and preview.body["valid"] is False
        assert preview.body["problems"] == post.body["error"]["details"]["problems"]
    else:
        assert post.status == 202
        assert preview.status == 200 and preview.body["valid"] is True and preview.body["problems"] == []
        assert preview.body["tra"]
