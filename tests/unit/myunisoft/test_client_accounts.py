"""MyUnisoftClient.create_account: MyUnisoft's find-or-create, against the emulator and on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from emulator.app import EmulatorApp, Fault
from tra_core.myunisoft import (
    NO_RETRY,
    AccountRefused,
    BusinessRejection,
    ForbiddenRoute,
    MyUnisoftClient,
    ThirdPartyDetails,
    Transient,
    UnlimitedRateLimiter,
)

ClientFactory = Callable[..., MyUnisoftClient]
NEWCO = ThirdPartyDetails(
    name="NEWCO SAS",
    siren="552081317",
    email="compta@newco.example",
    iban="FR76 3000 6000 0112 3456 7890 189",
    bic="AGRIFRPP",
)


def _account_calls(emulator: EmulatorApp) -> list[dict[str, object]]:
    return [r for r in emulator.requests if r["path"] == "/api/v1/account" and r["method"] == "POST"]


def test_a_new_supplier_is_created_with_its_details(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    # When a supplier missing from the chart is created
    account = client.create_account(2101, "401NEWCO", "NEWCO SAS", third_party=NEWCO)

    # Then it is returned, and the chart the refresh reads lists it with the third party's details
    assert (account.account_number, account.label) == ("401NEWCO", "NEWCO SAS")
    [listed] = [a for a in client.list_accounts(2101) if a.account_number == "401NEWCO"]
    assert listed.account_id == account.account_id
    info = listed.complementary_informations or {}
    assert (info["siren"], info["email"]) == ("552081317", "compta@newco.example")
    assert info["iban_list"] == [{"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"}]
    assert len(_account_calls(emulator)) == 1


def test_an_existing_account_is_found_not_changed(client: MyUnisoftClient) -> None:
    first = client.create_account(2101, "411NEWCLIENT", "NEW CLIENT")
    again = client.create_account(2101, "411NEWCLIENT", "ANOTHER LABEL", third_party=NEWCO)
    edf = client.create_account(2101, "401EDF", "SOMETHING ELSE")

    assert again == first
    assert (edf.label, edf.account_number) == ("EDF", "401EDF")


@pytest.mark.parametrize(
    ("number", "code"),
    [("0401NEWCO", "COMPTE6"), ("NEWCO", "COMPTE6"), ("401" + "N" * 18, "COMPTE7")],
    ids=["leading-zero", "letter-first", "21-characters"],
)
def test_refusals_carry_myunisoft_code_verbatim(
    client: MyUnisoftClient, emulator: EmulatorApp, number: str, code: str
) -> None:
    with pytest.raises(AccountRefused) as caught:
        client.create_account(2101, number, "X")

    error = caught.value
    assert isinstance(error, BusinessRejection) and error.code == "MYUNISOFT_REJECTED"
    assert (error.myunisoft_code, error.account_number, error.status) == (code, number, 400)
    assert error.myunisoft_message and error.request_id == emulator.requests[-1]["request_id"]
    assert number in error.message and "client file 2101" in error.message
    assert len(_account_calls(emulator)) == 1  # a refusal is never retried


def test_a_key_without_the_route_gets_forbidden_route(client: MyUnisoftClient, emulator: EmulatorApp) -> None:
    emulator.keys["demo-firm-key"].fixture.routes.remove(("post", "/api/v1/account"))
    with pytest.raises(ForbiddenRoute):
        client.create_account(2101, "401NEWCO", "NEWCO")


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"drop": True}],
    ids=["500", "answer-lost-after-creation"],
)
def test_a_failed_call_is_retried_and_creates_one_account(
    client: MyUnisoftClient, emulator: EmulatorApp, fault: dict[str, object]
) -> None:
    # Given the first creation call fails (possibly after creating the account)
    emulator.add_fault(Fault.from_json({"route": "/api/v1/account", "method": "post", **fault}))

    # When the account is created
    account = client.create_account(2101, "401NEWCO", "NEWCO")

    # Then the retry finds or creates it: one account in the chart
    assert len(_account_calls(emulator)) == 2
    assert [a.account_number for a in client.list_accounts(2101)].count("401NEWCO") == 1
    assert account.account_number == "401NEWCO"


def test_no_retry_policy_reports_the_first_failure(make_client: ClientFactory, emulator: EmulatorApp) -> None:
    emulator.add_fault(Fault.from_json({"route": "/api/v1/account", "status": 503}))
    with pytest.raises(Transient) as caught:
        make_client(retry=NO_RETRY).create_account(2101, "401NEWCO", "NEWCO")
    assert (caught.value.status, len(_account_calls(emulator))) == (503, 1)


def test_the_request_is_the_documented_upsert() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(
            200,
            json={"account_id": 2228247, "account_number": body["account_number"], "label": body["label"]},
        )

    client = MyUnisoftClient(
        "https://api.example.test",
        "partner-secret-value",
        "api-key-value",
        transport=httpx.MockTransport(handler),
        rate_limiter=UnlimitedRateLimiter(),
    )
    client.create_account(42, "401NEWCO", "NEWCO SAS", third_party=ThirdPartyDetails(name="NEWCO", city=" "))
    client.create_account(42, "411FOOBAR", "FOOBAR account")

    with_details, plain = seen
    assert (with_details.method, with_details.url.path) == ("POST", "/api/v1/account")
    assert with_details.headers["society-id"] == "42"
    assert with_details.headers["Content-Type"] == "application/json"
    assert json.loads(with_details.content) == {
        "account_number": "401NEWCO",
        "label": "NEWCO SAS",
        "complementary_info": {"name": "NEWCO"},
    }
    assert json.loads(plain.content) == {"account_number": "411FOOBAR", "label": "FOOBAR account"}


def test_third_party_details_leave_blanks_out() -> None:
    assert ThirdPartyDetails().complementary_info() == {}
    assert ThirdPartyDetails(name=" ACME ", iban="FR76 1234", bank_name="BANQUE").complementary_info() == {
        "name": "ACME",
        "iban_list": [{"iban": "FR761234", "etablissement": "BANQUE"}],
    }
    assert ThirdPartyDetails.model_validate({"name": "ACME", "unknown": 1}).name == "ACME"
