"""POST /api/v1/account: MyUnisoft's find-or-create, its refusals, and where created accounts appear."""

from __future__ import annotations

import copy
import threading
from typing import Any

import httpx
import pytest

from emulator.app import EmulatorApp
from emulator.testing import build_tra_archive
from tests.unit.emulator.support import FIRM, Upload, error_code

DOSSIER = {**FIRM, "society-id": "2101"}
NEWCO = {
    "account_number": "401NEWCO",
    "label": "NEWCO SAS",
    "das_2": True,
    "complementary_info": {
        "name": "NEWCO SAS",
        "siren": "552081317",
        "email": "compta@newco.example",
        "city": "LYON",
        "iban_list": [{"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "etablissement": "CA"}],
    },
}


def _create(http: httpx.Client, body: Any, headers: dict[str, str] = DOSSIER) -> httpx.Response:
    return http.post("/api/v1/account", json=body, headers=headers)


def test_created_account_is_answered_as_the_documentation_shows(http: httpx.Client) -> None:
    response = _create(http, {"account_number": "411FOOBAR2", "label": "FOOBAR account"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"account_id", "account_number", "label", "counterpart_account"}
    assert (body["account_number"], body["label"], body["counterpart_account"]) == (
        "411FOOBAR2",
        "FOOBAR account",
        None,
    )
    assert isinstance(body["account_id"], int)


def test_created_account_appears_everywhere_the_chart_is_read(http: httpx.Client) -> None:
    # When a supplier is created with its third-party details
    created = _create(http, NEWCO).json()

    # Then the detailed chart (what the bridge's refresh reads) lists it with those details
    chart = http.get("/api/v1/account", params={"mode": "2"}, headers=DOSSIER).json()["account_array"]
    [account] = [a for a in chart if a["account_number"] == "401NEWCO"]
    assert account["account_id"] == created["account_id"]
    assert (account["label"], account["das_2"], account["closed"]) == ("NEWCO SAS", True, False)
    info = account["complementary_informations"]
    assert (info["siren"], info["email"], info["city"]) == ("552081317", "compta@newco.example", "LYON")
    assert info["iban_list"][0]["bic"] == "AGRIFRPP"

    # And the other reads of the chart list it too
    v2 = http.get("/api/v1/account/v2", params={"begin_by": "401NEWCO", "details": "true"}, headers=DOSSIER)
    assert v2.json()[0]["complementary_informations"]["siren"] == "552081317"
    mad = http.get(
        "/api/v1/mad/accounts", params={"version": "1.0.0", "classAccount": "401%"}, headers=DOSSIER
    ).json()
    assert {"401NEWCO": "552081317"}.items() <= {
        a["number"]: a.get("company", {}).get("SIREN") for a in mad
    }.items()
    mode1 = http.get("/api/v1/account", params={"mode": "1", "q": "401NEWCO"}, headers=DOSSIER).json()
    assert [a["account_number"] for a in mode1] == ["401NEWCO"]


def test_find_returns_the_existing_account_unchanged(http: httpx.Client, app: EmulatorApp) -> None:
    first = _create(http, NEWCO).json()
    again = _create(http, {"account_number": "401NEWCO", "label": "ANOTHER NAME"}).json()
    existing = _create(http, {"account_number": "401EDF", "label": "NOT EDF"}).json()

    assert again == first
    assert existing["label"] == "EDF"
    dossier = app.data.dossier(2101)
    assert dossier is not None and [a.number for a in dossier.accounts].count("401NEWCO") == 1


def test_a_created_account_is_accepted_by_the_next_import(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any], app: EmulatorApp
) -> None:
    app.config = app.config.replace(unknown_auxiliary_accounts="reject")
    entry = copy.deepcopy(purchase) | {"attachments": []}
    entry["lines"][0]["subsidiary"] = "NEWCO"
    archive = build_tra_archive([entry])
    assert error_code(upload(archive)) == "COMPTE2"

    _create(http, NEWCO)

    assert upload(archive).status_code == 200


def test_concurrent_creations_make_one_account(http: httpx.Client, app: EmulatorApp) -> None:
    answers: list[dict[str, Any]] = []

    def create() -> None:
        answers.append(_create(http, {"account_number": "401RACE", "label": "RACE"}).json())

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    dossier = app.data.dossier(2101)
    assert dossier is not None and [a.number for a in dossier.accounts].count("401RACE") == 1
    assert len({a["account_id"] for a in answers}) == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"account_number": "0401NEWCO", "label": "X"}, "COMPTE6"),
        ({"account_number": "NEWCO", "label": "X"}, "COMPTE6"),
        ({"account_number": "401" + "A" * 18, "label": "X"}, "COMPTE7"),
        ({"account_number": "0" + "A" * 25, "label": "X"}, "COMPTE7"),
        ({"label": "no number"}, "GBL10"),
        ({"account_number": "   ", "label": "X"}, "GBL10"),
        ({"account_number": ["401X"], "label": "X"}, "GBL10"),
        ({"account_number": "401X", "label": 12}, "GBL10"),
        ({"account_number": "401X", "das_2": "yes"}, "GBL10"),
        ({"account_number": "401X", "complementary_info": "NEWCO"}, "GBL10"),
        ({"account_number": "401X", "complementary_info": {"iban_list": ["FR76"]}}, "GBL10"),
        ({"account_number": "401X", "counterpart_account_id": 1}, "COMPTE2"),
        (["401X"], "GBL10"),
    ],
    ids=[
        "leading-zero",
        "letter-first",
        "21-chars",
        "too-long-first",
        "missing",
        "blank",
        "not-text",
        "label-not-text",
        "flag-not-bool",
        "info-not-object",
        "iban-not-object",
        "unknown-counterpart",
        "not-object",
    ],
)
def test_refusals_carry_myunisoft_codes(http: httpx.Client, app: EmulatorApp, body: Any, code: str) -> None:
    response = _create(http, body)

    assert (response.status_code, error_code(response)) == (400, code)
    dossier = app.data.dossier(2101)
    assert dossier is not None and dossier.account("401X") is None


def test_a_key_without_the_route_cannot_create(http: httpx.Client) -> None:
    http.post(
        "/_emulator/keys/demo-firm-key/routes",
        json={"remove": [{"method": "post", "path": "/api/v1/account"}]},
    )
    assert error_code(_create(http, NEWCO)) == "ERR-FORBIDDEN-ROUTE"


def test_creation_needs_the_dossier(http: httpx.Client) -> None:
    assert error_code(_create(http, NEWCO, headers=FIRM)) == "SOCIETE10"
    assert error_code(_create(http, NEWCO, headers={**FIRM, "society-id": "3101"})) == "DROIT1"
