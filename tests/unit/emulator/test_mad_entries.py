"""GET /api/v1/mad/entries: MyUnisoft's entries export, from what the emulator imported.

The answers are checked against MyUnisoft's MAD specification: a JSON schema read in place from
``../shared/reference`` when the design folder has one, and always the strict models of
``mad_spec.py`` derived from the interfaces of ``myunisoft-mad-entries.md`` §1 (themselves checked
against that file, read in place; skipped when it is absent).
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from emulator.app import EmulatorApp
from emulator.testing import build_tra_archive
from tests.unit.emulator import mad_spec
from tests.unit.emulator.support import FIRM, Upload, error_code

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference"
MAD_DOC = REFERENCE / "myunisoft-mad-entries.md"
DOSSIER = {**FIRM, "society-id": "2101"}
YEAR_2026 = {"version": "1.0.0", "startDate": "2026-01-01", "endDate": "2026-12-31"}


def _export(http: httpx.Client, params: dict[str, Any], headers: dict[str, str] = DOSSIER) -> httpx.Response:
    return http.get("/api/v1/mad/entries", params=params, headers=headers)


def _entries(http: httpx.Client, params: dict[str, Any] = YEAR_2026) -> list[dict[str, Any]]:
    response = _export(http, params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _sale(purchase: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(purchase) | {
        "entry_id": "e-sale",
        "kind": "sale",
        "journal": "VTE",
        "date": "2026-05-04",
        "reference": "V-0007",
        "label": "Sale to FOOBAR",
        "lines": [
            {"account": "411000", "subsidiary": "FOOBAR", "debit": "1200.00", "credit": "0"},
            {"account": "706000", "debit": "0", "credit": "1000.00"},
            {"account": "445710", "debit": "0", "credit": "200.00"},
        ],
        "attachments": [],
    }


@pytest.fixture
def imported(upload: Upload, purchase: dict[str, Any]) -> list[dict[str, Any]]:
    """A purchase with its invoice and a sale, imported in one archive into dossier 2101."""
    entries = [purchase, _sale(purchase)]
    assert upload(build_tra_archive(entries)).status_code == 200
    return entries


# -- content -----------------------------------------------------------------------------------------


def test_every_imported_entry_is_exported_with_its_lines(
    http: httpx.Client, app: EmulatorApp, imported: list[dict[str, Any]]
) -> None:
    # When the year is exported
    sale, purchase = _entries(http)  # by date: the sale (May) before the purchase (November)

    # Then the purchase is there with its journal, date, currency, due date and invoice
    assert (purchase["date"], purchase["dueDate"], purchase["currency"]) == (
        "2026-11-20",
        "2026-12-20",
        {"code": "EUR"},
    )
    journal = app.data.dossier(2101).journals[0]  # type: ignore[union-attr]
    assert purchase["journal"] == {
        "producerId": str(journal.diary_id),
        "customerReferenceCode": "ACH",
        "name": "JOURNAL D'ACHATS",
        "type": "Achat",
    }
    [(name, document)] = purchase["attachments"].items()
    assert name == "facture-edf.pdf" and document["type"] == "URL"
    assert re.fullmatch(r"http://emulator\.test/api/ged/ged/document/[\w-]+/download", document["value"])

    # And each line with its account (the third party's own account), label and amounts
    lines = [
        (m["account"]["number"], m["description"], m["value"], m["invoiceNumber"])
        for m in purchase["movements"]
    ]
    label = "EDF electricity November 2026 meter"  # LIBELLE: the first 35 characters
    assert lines == [
        ("401EDF", label, {"credit": 120, "debit": 0, "amount": 120}, "F2026-0042"),
        ("606100", label, {"credit": 0, "debit": 100, "amount": -100}, "F2026-0042"),
        ("445660", label, {"credit": 0, "debit": 20, "amount": -20}, "F2026-0042"),
    ]
    dossier = app.data.dossier(2101)
    edf = dossier.account("401EDF") if dossier else None
    assert edf is not None
    assert purchase["movements"][0]["account"] == {
        "producerId": str(edf.account_id),
        "number": "401EDF",
        "name": "EDF",
    }
    assert [m["dueDate"] for m in purchase["movements"]] == ["2026-12-20", None, None]
    assert [m["account"]["number"] for m in sale["movements"]] == ["411FOOBAR", "706000", "445710"]


def test_amount_is_credit_minus_debit_exactly(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    entry = copy.deepcopy(purchase) | {"attachments": []}
    entry["lines"] = [
        {"account": "401000", "subsidiary": "EDF", "debit": "0", "credit": "1234.57"},
        {"account": "606100", "debit": "1028.81", "credit": "0"},
        {"account": "445660", "debit": "205.76", "credit": "0"},
    ]
    upload(build_tra_archive([entry]))

    [exported] = _entries(http)

    for movement in exported["movements"]:
        value = {k: Decimal(str(v)) for k, v in movement["value"].items()}
        assert value["amount"] == value["credit"] - value["debit"]
    assert [m["value"]["amount"] for m in exported["movements"]] == [1234.57, -1028.81, -205.76]


def test_ids_never_change_and_are_unique(
    http: httpx.Client, app: EmulatorApp, imported: list[dict[str, Any]]
) -> None:
    first = _entries(http)
    again = _entries(http, {"version": "1.0.0", "startDate": "2026-11-01", "endDate": "2026-11-30"})

    assert again == [first[1]]
    ids = [e["producerId"] for e in first] + [m["producerId"] for e in first for m in e["movements"]]
    assert len(ids) == len(set(ids)) == 2 + 6
    assert app.imports[0]["entry_ids"] == [first[1]["producerId"], first[0]["producerId"]]  # file order


def test_two_identical_entries_are_two_entries(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    fee = copy.deepcopy(purchase) | {"attachments": []}
    upload(build_tra_archive([fee]), hascode=False)
    upload(build_tra_archive([fee]), hascode=False)

    twins = _entries(http)

    assert len(twins) == 2 and twins[0]["producerId"] != twins[1]["producerId"]
    assert twins[0]["movements"][0]["value"] == twins[1]["movements"][0]["value"]


def test_the_reference_field_is_a_setting(
    http: httpx.Client, app: EmulatorApp, imported: list[dict[str, Any]]
) -> None:
    app.config = app.config.replace(mad_reference_field="freeNumber")
    movement = _entries(http)[1]["movements"][0]
    assert (movement["freeNumber"], movement["invoiceNumber"]) == ("F2026-0042", None)
    app.config = app.config.replace(mad_reference_field="none")
    movement = _entries(http)[1]["movements"][0]
    assert (movement["freeNumber"], movement["invoiceNumber"]) == (None, None)


# -- what is left out --------------------------------------------------------------------------------


def test_other_dossiers_periods_and_journals_are_left_out(
    http: httpx.Client, app: EmulatorApp, imported: list[dict[str, Any]]
) -> None:
    dossier = app.data.dossier(2101)
    assert dossier is not None
    ids = {j.code: j.diary_id for j in dossier.journals}

    assert _export(http, YEAR_2026, headers={**FIRM, "society-id": "2102"}).json() == []
    assert (
        _entries(http, {**YEAR_2026, "endDate": "2026-11-19"})[-1]["journal"]["customerReferenceCode"]
        == "VTE"
    )
    assert _entries(http, {**YEAR_2026, "startDate": "2026-11-20"})[0]["date"] == "2026-11-20"
    only_sales = _entries(http, {**YEAR_2026, "journalIds": str(ids["VTE"])})
    assert [e["journal"]["customerReferenceCode"] for e in only_sales] == ["VTE"]
    both = _entries(http, {**YEAR_2026, "journalIds": [str(ids["VTE"]), str(ids["ACH"])]})
    assert len(both) == 2
    assert len(_entries(http, {**YEAR_2026, "journalIds": f"{ids['ACH']},{ids['VTE']}"})) == 2
    assert _entries(http, {**YEAR_2026, "journalIds": str(ids["BQ"])}) == []


def test_a_fiscal_year_id_selects_its_dates(
    http: httpx.Client, app: EmulatorApp, imported: list[dict[str, Any]]
) -> None:
    dossier = app.data.dossier(2101)
    assert dossier is not None
    by_year = {y.start.year: y.exercice_id for y in dossier.fiscal_years}

    assert len(_entries(http, {"version": "1.0.0", "idExercice": str(by_year[2026])})) == 2
    assert _entries(http, {"version": "1.0.0", "idExercice": str(by_year[2027])}) == []


def test_refused_and_lost_imports_yield_nothing(
    http: httpx.Client, upload: Upload, purchase: dict[str, Any]
) -> None:
    bad = copy.deepcopy(purchase) | {"entry_id": "e-bad", "journal": "ZZZ", "attachments": []}
    assert error_code(upload(build_tra_archive([purchase, bad]))) == "JOURNAL3"
    http.post("/_emulator/faults", json={"route": "/api/v1/TRA/partial", "lose": True})
    assert upload(build_tra_archive([purchase])).status_code == 200

    assert _entries(http) == []


def test_partial_commit_exports_the_good_entries_only(
    http: httpx.Client, app: EmulatorApp, upload: Upload, purchase: dict[str, Any]
) -> None:
    # Given partial commit, and a 5-entry archive whose third entry names an unknown journal
    app.config = app.config.replace(commit_mode="partial")
    entries = []
    for index in range(5):
        entry = copy.deepcopy(purchase) | {
            "entry_id": f"e-{index}",
            "reference": f"F-{index}",
            "attachments": [],
        }
        entry["lines"][0]["credit"] = entry["lines"][1]["debit"] = f"{100 + index}.00"
        entry["lines"][2]["debit"] = "0"
        entry["lines"] = entry["lines"][:2]
        entries.append(entry)
    entries[2]["journal"] = "ZZZ"

    # When it is sent
    response = upload(build_tra_archive(entries))

    # Then the answer is the bad entry's error, and the four others are in MyUnisoft once each
    assert (response.status_code, error_code(response)) == (400, "JOURNAL3")
    exported = _entries(http)
    assert sorted(e["movements"][0]["invoiceNumber"] for e in exported) == ["F-0", "F-1", "F-3", "F-4"]
    assert [r["code"] for r in app.imports[0]["rejected"]] == ["JOURNAL3"]


# -- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"startDate": "2026-01-01", "endDate": "2026-12-31"},
        {"version": "2.0.0", "startDate": "2026-01-01", "endDate": "2026-12-31"},
        {"version": "1.0.0"},
        {"version": "1.0.0", "startDate": "2026-01-01"},
        {"version": "1.0.0", "startDate": "2026-01-01", "endDate": "2027-01-01"},
        {"version": "1.0.0", "startDate": "2026-02-29", "endDate": "2026-03-31"},
        {"version": "1.0.0", "startDate": "20260101", "endDate": "2026-03-31"},
        {"version": "1.0.0", "startDate": "2026-03-31", "endDate": "2026-03-01"},
        {"version": "1.0.0", "idExercice": "21012", "startDate": "2026-01-01", "endDate": "2026-01-31"},
        {"version": "1.0.0", "idExercice": "999"},
        {"version": "1.0.0", "startDate": "2026-01-01", "endDate": "2026-01-31", "journalIds": "ACH"},
    ],
    ids=[
        "no-version",
        "unknown-version",
        "no-period",
        "half-period",
        "over-12-months",
        "bad-date",
        "compact-date",
        "reversed",
        "both-ways",
        "unknown-year",
        "journal-code",
    ],
)
def test_bad_queries_answer_gbl10_with_the_reason(http: httpx.Client, params: dict[str, str]) -> None:
    response = _export(http, params)

    assert (response.status_code, error_code(response)) == (400, "GBL10")
    assert response.json()["error"]["message"] != "Paramètre manquant ou invalide"  # says what is wrong


def test_twelve_months_is_the_most_one_call_reads(http: httpx.Client) -> None:
    assert (
        _export(http, {"version": "1.0.0", "startDate": "2026-03-01", "endDate": "2027-02-28"}).status_code
        == 200
    )
    assert (
        error_code(_export(http, {"version": "1.0.0", "startDate": "2026-03-01", "endDate": "2027-03-01"}))
        == "GBL10"
    )


def test_scoping_and_allow_list(http: httpx.Client) -> None:
    assert error_code(_export(http, YEAR_2026, headers=FIRM)) == "SOCIETE10"
    assert error_code(_export(http, YEAR_2026, headers={**FIRM, "society-id": "3101"})) == "DROIT1"
    society_key = {**FIRM, "Authorization": "Bearer demo-society-key"}
    assert _export(http, YEAR_2026, headers=society_key).status_code == 200
    http.post(
        "/_emulator/keys/demo-firm-key/routes",
        json={"remove": [{"method": "get", "path": "/api/v1/mad/entries"}]},
    )
    refused = _export(http, YEAR_2026)
    assert (refused.status_code, error_code(refused)) == (403, "ERR-FORBIDDEN-ROUTE")


def test_demo_keys_allow_the_export(http: httpx.Client) -> None:
    for key in ("demo-firm-key", "demo-firm-key-2", "demo-other-firm-key", "demo-society-key"):
        routes = http.get("/api/v1/key/info", headers={**FIRM, "Authorization": f"Bearer {key}"}).json()
        assert {"path": "/api/v1/mad/entries", "method": "get"} in routes, key


# -- the specification -------------------------------------------------------------------------------


def test_answers_follow_the_specification_models(
    http: httpx.Client,
    app: EmulatorApp,
    upload: Upload,
    imported: list[dict[str, Any]],
    purchase: dict[str, Any],
) -> None:
    app.config = app.config.replace(mad_reference_field="freeNumber")
    for entry in _entries(http):
        mad_spec.Entry.model_validate(entry)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda e: e.pop("dueDate"), "dueDate"),
        (lambda e: e.update(extra=1), "extra"),
        (lambda e: e.update(date="20261120"), "date"),
        (lambda e: e["movements"][0]["value"].update(amount="120.00"), "movements.0.value.amount"),
        (lambda e: e["movements"][0].update(lettering={"state": "partial", "value": "AA"}), "lettering"),
        (lambda e: e["attachments"].update(x={"type": "Link", "value": "u"}), "attachments.x.type"),
    ],
    ids=["missing", "unknown", "date-format", "amount-text", "lettering", "attachment-type"],
)
def test_the_specification_models_catch_departures(
    http: httpx.Client, imported: list[dict[str, Any]], change: Any, where: str
) -> None:
    entry = _entries(http)[1]
    change(entry)
    with pytest.raises(ValidationError) as caught:
        mad_spec.Entry.model_validate(entry)
    assert any(where in ".".join(str(p) for p in error["loc"]) for error in caught.value.errors())


def test_answers_follow_the_derived_json_schema(http: httpx.Client, imported: list[dict[str, Any]]) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema checks the derived schema")
    schema = TypeAdapter(list[mad_spec.Entry]).json_schema(by_alias=True)
    jsonschema.validate(_entries(http), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{**_entries(http)[0], "producerId": 7}], schema)


def _interface_fields(text: str, name: str) -> set[str]:
    match = re.search(rf"^interface {name} \{{\n(.*?)^\}}", text, flags=re.DOTALL | re.MULTILINE)
    assert match is not None, f"interface {name} not found in {MAD_DOC.name}"
    return set(re.findall(r"^  (\w+)\??:", match.group(1), flags=re.MULTILINE))


def test_the_specification_models_name_the_reference_fields() -> None:
    if not MAD_DOC.is_file():
        pytest.skip(f"{MAD_DOC} is not beside this clone (only CI and developers have the design folder)")
    text = MAD_DOC.read_text(encoding="utf-8")
    for name, model in mad_spec.INTERFACES.items():
        assert mad_spec.field_names(model) == _interface_fields(text, name), name


def _openapi_nullable(schema: Any) -> Any:
    """MyUnisoft's schemas mark ``null`` with OpenAPI's ``nullable``; JSON Schema needs a type list."""
    if isinstance(schema, list):
        return [_openapi_nullable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _openapi_nullable(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


def test_answers_follow_the_reference_json_schema(http: httpx.Client, imported: list[dict[str, Any]]) -> None:
    schemas = sorted(REFERENCE.glob("*mad*entries*.json")) if REFERENCE.is_dir() else []
    if not schemas:
        pytest.skip(
            "the design folder gives MyUnisoft's MAD entries specification as TypeScript interfaces only "
            "(myunisoft-mad-entries.md §1), no JSON schema: the strict models of mad_spec.py stand in"
        )
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to read the reference schema")
    schema = _openapi_nullable(json.loads(schemas[0].read_text(encoding="utf-8")))
    answer = _entries(http)
    jsonschema.validate(answer if schema.get("type") == "array" else answer[0], schema)
