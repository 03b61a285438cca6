"""Control routes that change a dossier as an accountant would, hide it from a key, or lose an import."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from emulator.app import EmulatorApp
from emulator.testing import build_tra_archive
from tests.unit.emulator.support import FIRM, Upload, error_code

DOSSIER = {**FIRM, "society-id": "2101"}


def _january_2028(purchase: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(purchase) | {"date": "2028-01-15", "due_date": "2028-02-15", "attachments": []}


# -- fiscal years ------------------------------------------------------------------------------------


def test_a_new_fiscal_year_opens_the_dossier_to_its_dates(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    # Given an entry dated in 2028, which no fiscal year of the dossier covers
    archive = build_tra_archive([_january_2028(purchase)])
    assert error_code(upload(archive)) == "IMPORT29"

    # When the accountant opens 2028
    created = http.post(
        "/_emulator/dossiers/2101/fiscal-years", json={"start": "2028-01-01", "end": "2028-12-31"}
    )

    # Then the year is listed (in MyUnisoft's shape) and the same file now imports
    assert created.status_code == 201
    assert (created.json()["start_date"], created.json()["end_date"]) == ("20280101", "20281231")
    years = http.get("/api/v1/society/exercice", headers=DOSSIER).json()
    assert [y["start_date"] for y in years][:1] == ["20280101"]
    assert upload(archive).status_code == 200


def test_a_closed_fiscal_year_can_be_added(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    http.post(
        "/_emulator/dossiers/2101/fiscal-years",
        json={"start": "2028-01-01", "end": "2028-12-31", "closed": True},
    )
    assert error_code(upload(build_tra_archive([_january_2028(purchase)]))) == "ECR9"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (
            "/_emulator/dossiers/9999/fiscal-years",
            {"start": "2028-01-01", "end": "2028-12-31"},
            404,
            "UNKNOWN_DOSSIER",
        ),
        (
            "/_emulator/dossiers/2101/fiscal-years",
            {"start": "2028-13-01", "end": "2028-12-31"},
            400,
            "BAD_REQUEST",
        ),
        (
            "/_emulator/dossiers/2101/fiscal-years",
            {"start": "2028-12-31", "end": "2028-01-01"},
            400,
            "BAD_REQUEST",
        ),
        (
            "/_emulator/dossiers/2101/fiscal-years",
            {"start": "2026-06-01", "end": "2027-05-31"},
            409,
            "FISCAL_YEAR_OVERLAP",
        ),
        ("/_emulator/dossiers/2101/fiscal-years", ["2028"], 400, "BAD_REQUEST"),
        ("/_emulator/dossiers/2101/accounts", {"label": "no number"}, 400, "BAD_REQUEST"),
        ("/_emulator/dossiers/2101/accounts", {"number": "401X", "closed": "yes"}, 400, "BAD_REQUEST"),
        ("/_emulator/dossiers/2101/visibility", {"token": "nope", "visible": False}, 404, "UNKNOWN_KEY"),
    ],
    ids=[
        "unknown-dossier",
        "bad-date",
        "reversed",
        "overlap",
        "not-object",
        "no-number",
        "bad-flag",
        "bad-key",
    ],
)
def test_bad_control_calls_are_refused_clearly(
    http: httpx.Client, path: str, body: Any, status: int, code: str
) -> None:
    response = http.post(path, json=body)
    assert (response.status_code, error_code(response)) == (status, code)


# -- accounts ----------------------------------------------------------------------------------------


def test_an_account_added_by_the_accountant_is_in_the_chart(http: httpx.Client) -> None:
    # When an account is added, then renamed and closed
    added = http.post("/_emulator/dossiers/2101/accounts", json={"number": "401ACME", "label": "ACME"})
    changed = http.post(
        "/_emulator/dossiers/2101/accounts", json={"number": "401ACME", "label": "ACME SAS", "closed": True}
    )

    # Then the chart (mode 2) shows its latest state under one id
    assert (added.status_code, changed.status_code) == (201, 200)
    [account] = http.get(
        "/api/v1/account", params={"mode": "2", "begin_by": "401ACME"}, headers=DOSSIER
    ).json()["account_array"]
    assert (account["label"], account["closed"]) == ("ACME SAS", True)
    assert account["account_id"] == added.json()["account_id"] == changed.json()["account_id"]


def test_an_existing_account_can_be_closed_and_reopened(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    archive = build_tra_archive([copy.deepcopy(purchase) | {"attachments": []}])
    http.post("/_emulator/dossiers/2101/accounts", json={"number": "606100", "closed": True})
    assert error_code(upload(archive)) == "COMPTE32"
    http.post("/_emulator/dossiers/2101/accounts", json={"number": "606100", "closed": False})
    assert upload(archive).status_code == 200


# -- visibility --------------------------------------------------------------------------------------


def test_a_hidden_dossier_vanishes_for_one_key_only(http: httpx.Client) -> None:
    # When dossier 2102 is hidden from demo-firm-key
    answer = http.post(
        "/_emulator/dossiers/2102/visibility", json={"token": "demo-firm-key", "visible": False}
    )
    assert answer.json() == {"society_id": 2102, "token": "demo-firm-key", "visible": False}

    # Then that key's list omits it and its dossier routes answer DROIT1
    listed = http.get("/api/v1/society", headers=FIRM).json()
    assert 2102 not in {d["society_id"] for d in listed["society_array"]}
    assert listed["row_numbers"] == 2
    for path in ("/api/v1/diary", "/api/v1/account", "/api/v1/society", "/api/v1/mad/journals"):
        response = http.get(path, params={"version": "1.0.0"}, headers={**FIRM, "society-id": "2102"})
        assert (response.status_code, error_code(response)) == (403, "DROIT1"), path
    assert error_code(http.get("/api/v1/society/search", params={"reference": "GDUPONT"}, headers=FIRM)) == (
        "SOCIETE16"
    )

    # And the other key of the same firm still sees it
    other = {**FIRM, "Authorization": "Bearer demo-firm-key-2"}
    assert 2102 in {
        d["society_id"] for d in http.get("/api/v1/society", headers=other).json()["society_array"]
    }

    # And showing it again restores it
    http.post("/_emulator/dossiers/2102/visibility", json={"token": "demo-firm-key", "visible": True})
    assert http.get("/api/v1/diary", headers={**FIRM, "society-id": "2102"}).status_code == 200


def test_a_society_key_loses_its_hidden_dossier(http: httpx.Client) -> None:
    society = {**FIRM, "Authorization": "Bearer demo-society-key"}
    http.post("/_emulator/dossiers/2101/visibility", json={"token": "demo-society-key", "visible": False})
    assert error_code(http.get("/api/v1/diary", headers=society)) == "DROIT1"


def test_reset_shows_hidden_dossiers_again(http: httpx.Client) -> None:
    http.post("/_emulator/dossiers/2102/visibility", json={"token": "demo-firm-key", "visible": False})
    http.post("/_emulator/reset")
    assert http.get("/api/v1/diary", headers={**FIRM, "society-id": "2102"}).status_code == 200


# -- key routes --------------------------------------------------------------------------------------


def test_a_key_can_lose_a_route(http: httpx.Client) -> None:
    removed = http.post(
        "/_emulator/keys/demo-firm-key/routes",
        json={"remove": [{"method": "get", "path": "/api/v1/mad/entries"}]},
    )
    assert {"method": "get", "path": "/api/v1/mad/entries"} not in removed.json()["routes"]
    response = http.get(
        "/api/v1/mad/entries",
        params={"version": "1.0.0", "startDate": "2026-01-01", "endDate": "2026-12-31"},
        headers=DOSSIER,
    )
    assert (response.status_code, error_code(response)) == (403, "ERR-FORBIDDEN-ROUTE")
    restored = http.post("/_emulator/keys/demo-firm-key/routes", json={"routes": "all"})
    assert {"method": "get", "path": "/api/v1/mad/entries"} in restored.json()["routes"]


# -- the lose fault ----------------------------------------------------------------------------------


def test_a_lost_import_answers_success_and_imports_nothing(
    http: httpx.Client, app: EmulatorApp, upload: Upload, purchase: dict[str, Any]
) -> None:
    # Given the next upload will be lost
    fault = http.post("/_emulator/faults", json={"route": "/api/v1/TRA/partial", "lose": True, "count": 1})
    assert fault.json()["faults"] == [{"route": "/api/v1/TRA/partial", "count": 1, "lose": True}]
    archive = build_tra_archive([copy.deepcopy(purchase) | {"attachments": []}])

    # When it is sent
    lost = upload(archive)

    # Then MyUnisoft says success, but nothing is imported, nor remembered by the duplicate check
    assert (lost.status_code, lost.json()) == (200, {"status": "success"})
    assert app.imports == [] and app.ledger.of_dossier(2101) == []
    assert upload(archive).status_code == 200
    assert len(app.imports) == 1
