"""The client's HTTP details and its tolerance of MyUnisoft's documented inconsistencies (mock transport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from tra_core.myunisoft import (
    NO_RETRY,
    BusinessRejection,
    KeyInfo,
    MyUnisoftClient,
    RetryPolicy,
    Transient,
    UnexpectedResponse,
    UnlimitedRateLimiter,
)

Handler = Callable[[httpx.Request], httpx.Response]


def _client(
    handler: Handler, *, retry: RetryPolicy | None = None, base_url: str = "https://api.example.test"
) -> MyUnisoftClient:
    now = [1_000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return MyUnisoftClient(
        base_url,
        "partner-secret-value",
        "api-key-value",
        transport=httpx.MockTransport(handler),
        rate_limiter=UnlimitedRateLimiter(),
        clock=lambda: now[0],
        sleep=sleep,
        rand=lambda: 0.0,
        retry=retry,
    )


def test_headers_query_and_paths() -> None:
    # Given a server that records what it receives
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/TRA/partial":
            return httpx.Response(200, json={"status": "success"}, headers={"request-id": "req-1"})
        return httpx.Response(200, json={"account_array": []})

    client = _client(handler, base_url="https://api.example.test/api/v1/")

    # When the chart is read and an archive is uploaded
    client.list_accounts(42)
    result = client.upload_tra(42, b"PK\x05\x06" + b"\x00" * 18, hascode_verif=True, mandatory_docs=False)

    # Then every call authenticates, names the dossier, and uses the documented parameters
    read, upload = seen
    for request in seen:
        assert request.headers["Authorization"] == "Bearer api-key-value"
        assert request.headers["X-Third-Party-Secret"] == "partner-secret-value"
        assert request.headers["society-id"] == "42"
    assert str(read.url) == "https://api.example.test/api/v1/account?mode=2"
    assert upload.url.path == "/api/v1/TRA/partial"
    assert dict(upload.url.params) == {"HascodeVerif": "true", "mandatory_docs": "0"}
    assert upload.headers["Content-Type"] == "application/octet-stream"
    assert upload.content.startswith(b"PK")
    assert result.request_id == "req-1" and result.tra_md5 is None


def test_firm_level_calls_send_no_society_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"row_numbers": 0, "pages_number": None, "society_array": None})

    assert _client(handler).list_societies() == []
    assert "society-id" not in seen[0].headers


@pytest.mark.parametrize(
    "body",
    [
        {"code": "OCR1", "message": "Extension non acceptée", "details": ""},
        {"error": {"code": "OCR1", "message": "Extension non acceptée", "details": ""}},
        {
            "error": {
                "code": "OCR1",
                "message": "Extension non acceptée",
                "details": {"correlationId": "09347205-7de2-4efe-aa68-f0f24a378029"},
            }
        },
    ],
    ids=["unwrapped", "wrapped-empty-details", "correlation-id"],
)
def test_error_bodies_wrapped_or_not(body: dict[str, Any]) -> None:
    client = _client(lambda request: httpx.Response(400, json=body))

    with pytest.raises(BusinessRejection) as caught:
        client.list_diaries(1)

    assert caught.value.myunisoft_code == "OCR1"
    assert caught.value.myunisoft_message == "Extension non acceptée"
    if "correlationId" in json.dumps(body):
        assert caught.value.request_id == "09347205-7de2-4efe-aa68-f0f24a378029"


def test_tolerant_models() -> None:
    # Given answers with numbers as numbers, nulls, ISO dates and extra fields
    answers = {
        "/api/v1/account": [
            {"account_id": 1, "account_number": 401000, "label": None, "closed": None, "new": 1}
        ],
        "/api/v1/diary": [
            {
                "diary_id": 3,
                "code": "BQ",
                "name": None,
                "blocked": False,
                "diary_type_id": None,
                "diary_type_code": None,
                "account": {"id": None, "label": None, "number": "512000"},
            }
        ],
        "/api/v1/society/exercice": [
            {
                "exercice_id": 9,
                "start_date": "2026-01-01",
                "end_date": "20261231",
                "closed": None,
                "closed_at": "",
                "result": 4742.8263,
            }
        ],
        "/api/v1/society": {
            "siret": 84014327500039,
            "society_id": 3,
            "name": "MY UNISOFT",
            "ape": {"id": 534, "label": "5829C"},
            "city": {"label": "MASSY", "value": "MASSY"},
            "folder_reference": "",
        },
    }
    client = _client(lambda request: httpx.Response(200, json=answers[request.url.path]))

    # When they are read
    [account] = client.list_accounts(1)
    [diary] = client.list_diaries(1)
    [year] = client.list_fiscal_years(1)
    society = client.get_society(3)

    # Then they come out typed, exact and complete
    assert (account.account_number, account.label, account.closed) == ("401000", "", False)
    assert diary.account is not None and diary.account.number == "512000" and diary.diary_type_code == ""
    assert (year.start_date, year.end_date, year.closed_at) == (date(2026, 1, 1), date(2026, 12, 31), None)
    assert str(year.result) == "4742.8263"
    assert (society.siret, society.ape, society.city, society.folder_reference) == (
        "84014327500039",
        "5829C",
        "MASSY",
        None,
    )


def test_route_allow_list_accepts_the_documented_typo_and_parameters() -> None:
    info = KeyInfo.model_validate(
        {
            "routes": [
                {"path": "/api/v1/society/exercie", "method": "GET"},
                {"path": "/api/v1/society/:id/associate", "method": "get"},
            ]
        }
    )
    assert info.allows("get", "/api/v1/society/exercice")
    assert info.allows("get", "/api/v1/society/12/associate")
    assert not info.allows("post", "/api/v1/society/12/associate")
    assert ("post", "/api/v1/TRA/partial") in info.missing_routes()


def test_unreadable_success_is_unexpected() -> None:
    client = _client(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(UnexpectedResponse):
        client.list_diaries(1)
    shaped = _client(lambda request: httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(UnexpectedResponse):
        shaped.list_diaries(1)


def test_read_timeout_is_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=[])

    assert _client(handler).list_diaries(1) == []
    assert len(calls) == 2


def test_html_502_is_transient() -> None:
    client = _client(lambda request: httpx.Response(502, text="<html>Bad gateway</html>"), retry=NO_RETRY)
    with pytest.raises(Transient) as caught:
        client.list_societies()
    assert caught.value.status == 502 and caught.value.myunisoft_code is None


def test_upload_not_sent_is_retried_even_without_hascode() -> None:
    # Given a connection that could not be opened the first time (nothing reached MyUnisoft)
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"code": "Success", "message": ""})

    # When an upload without HascodeVerif is made
    result = _client(handler).upload_tra(1, b"zip", hascode_verif=False)

    # Then it was safely retried
    assert result.status == "imported" and result.attempts == 2


def test_upload_timeout_without_hascode_is_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(Transient) as caught:
        _client(handler).upload_tra(1, b"zip", hascode_verif=False)
    assert caught.value.outcome_unknown and len(calls) == 1
    assert "api-key-value" not in str(caught.value) and "partner-secret-value" not in str(caught.value)


def test_rate_limited_without_reset_header_waits_ten_seconds() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(
                429, json={"error": {"code": "ERR-TOO-MANY-REQUEST", "message": "", "details": ""}}
            )
        return httpx.Response(200, json=[])

    client = _client(handler)
    before = client._clock()
    assert client.list_diaries(1) == []
    assert client._clock() - before == pytest.approx(10.0, abs=0.01)


def test_health_sends_no_credentials() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "ok"})

    assert _client(handler).health() is True
    assert "Authorization" not in seen[0].headers and "X-Third-Party-Secret" not in seen[0].headers
    assert seen[0].url.path == "/api/partners/health"


def test_context_manager_closes() -> None:
    with _client(lambda request: httpx.Response(200, json=[])) as client:
        assert client.list_diaries(1) == []
    with pytest.raises(RuntimeError):
        client.list_diaries(1)
