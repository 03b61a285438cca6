"""Hostile input over HTTP through the local stack (``bridge stack`` as a process): the front turns
raw bytes into API Gateway events as AWS does, the real store answers; every refusal is a 4xx with
the API's error shape, documented in docs/openapi.json, and never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.demo import DEMO_KEY
from local.launcher import StackProcess
from tests.support.openapi import assert_conforms

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(stack: StackProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.api, headers={"Authorization": "Bearer dev:tenant-hostile"}, timeout=30
    ) as client:
        yield client


@pytest.fixture(scope="module")
def file_id(api: httpx.Client) -> str:
    connected = api.post("/connections", json={"api_key": DEMO_KEY})
    assert connected.status_code == 201, connected.text
    first: str = connected.json()["files"][0]["file_id"]
    return first


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is the documented refusal ``status``/``code``."""
    body: dict[str, Any] = response.json()
    assert (response.status_code, body["error"]["code"]) == (status, code), response.text[:300]
    assert_conforms(response.request.method, response.request.url.path, response.status_code, body)
    return body


def test_a_body_that_is_not_utf8_is_refused(api: httpx.Client, file_id: str) -> None:
    raw = b'{"entry_id": "caf\xe9"}'
    headers = {"Content-Type": "application/json"}
    refused(api.post(f"/files/{file_id}/entries", content=raw, headers=headers), 400, "BODY_NOT_UTF8")
    refused(api.post("/connections", content=b'{"api_key": "\xff"}', headers=headers), 400, "BODY_NOT_UTF8")


def test_a_number_of_5000_digits_is_refused(api: httpx.Client, file_id: str) -> None:
    raw = '{"entry_id": "a", "version": ' + "9" * 5000 + "}"
    headers = {"Content-Type": "application/json"}
    for path in (f"/files/{file_id}/entries", f"/files/{file_id}/entries/preview"):
        refused(api.post(path, content=raw, headers=headers), 400, "NUMBER_TOO_LONG")


def test_an_id_of_3000_characters_is_not_found(api: httpx.Client, file_id: str) -> None:
    long_id = "c" * 3000
    refused(api.get(f"/connections/{long_id}"), 404, "NOT_FOUND")
    refused(api.get(f"/files/{long_id}.1/entries"), 404, "NOT_FOUND")
    refused(api.get(f"/files/{file_id}/entries/{long_id}"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "key", ["demo-firm-key\u0000", "clé-du-cabinet", "demo firm key", "demo\r\nX-Evil: 1"]
)
def test_a_key_a_header_cannot_carry_is_an_unusable_key_not_an_outage(api: httpx.Client, key: str) -> None:
    body = refused(api.post("/connections", json={"api_key": key}), 422, "KEY_INVALID")
    assert key not in json.dumps(body, ensure_ascii=False)


def test_deep_json_and_huge_bodies_are_refused(api: httpx.Client, file_id: str) -> None:
    headers = {"Content-Type": "application/json"}
    deep = "[" * 50_000 + "]" * 50_000
    refused(api.post(f"/files/{file_id}/entries", content=deep, headers=headers), 400, "JSON_TOO_DEEP")
    huge = json.dumps([{"entry_id": "x" * 1000}] * 6000)
    refused(api.post(f"/files/{file_id}/entries", content=huge, headers=headers), 413, "REQUEST_TOO_LARGE")


def test_a_body_not_sent_as_json_is_refused(api: httpx.Client, file_id: str) -> None:
    response = api.post(f"/files/{file_id}/entries", content="a=b", headers={"Content-Type": "text/plain"})
    refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("cursor", "code"),
    [
        (
            base64.urlsafe_b64encode(b'{"PK": "FILE#other#1", "SK": "ENTRY#x"}').decode().rstrip("="),
            "INVALID_CURSOR",
        ),
        (base64.urlsafe_b64encode(b'{"nothing": "useful"}').decode().rstrip("="), "INVALID_CURSOR"),
        ("not-a-cursor", "INVALID_CURSOR"),
    ],
)
def test_a_cursor_the_api_did_not_give_is_refused(
    api: httpx.Client, file_id: str, cursor: str, code: str
) -> None:
    refused(api.get(f"/files/{file_id}/entries", params={"cursor": cursor}), 400, code)


def test_the_preview_refuses_what_the_post_refuses(api: httpx.Client, file_id: str) -> None:
    entry = {
        "entry_id": "p-1",
        "kind": "purchase",
        "journal": "ACH",
        "date": "2026-11-20",
        "lines": [
            {"account": "401000", "subsidiary": "EDF", "credit": "10.00"},
            {"account": "606100", "debit": "10.00"},
        ],
    }
    repeated = [entry, {**entry, "version": 2}]
    preview = api.post(f"/files/{file_id}/entries/preview", json=repeated)
    post = refused(api.post(f"/files/{file_id}/entries", json=repeated), 400, "INVALID_ENTRIES")
    assert preview.status_code == 200 and preview.json()["valid"] is False
    assert preview.json()["problems"] == post["error"]["details"]["problems"]
    assert [p["code"] for p in preview.json()["problems"]] == ["ENTRY_REPEATED"]
