"""MyUnisoftClient.mad_entries: reading back what MyUnisoft holds (emulator in-process, and on the wire)."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from emulator.app import EmulatorApp, Fault
from emulator.testing import build_tra_archive
from tra_core.myunisoft import (
    MAD_ENTRIES_ROUTE,
    ForbiddenRoute,
    MadEntry,
    MyUnisoftClient,
    UnexpectedResponse,
    UnlimitedRateLimiter,
    export_period_fits,
    export_periods,
)

START, END = date(2026, 1, 1), date(2026, 12, 31)


def _bank_fee(purchase: dict[str, Any], entry_id: str, day: str) -> dict[str, Any]:
    return copy.deepcopy(purchase) | {
        "entry_id": entry_id,
        "kind": "bank_transaction",
        "journal": "BQ",
        "date": day,
        "reference": "FEES",
        "label": "Bank fees",
        "lines": [
            {"account": "627000", "debit": "5.00", "credit": "0"},
            {"account": "512000", "debit": "0", "credit": "5.00"},
        ],
        "attachments": [],
    }


def test_uploaded_entries_read_back_with_myunisoft_ids(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    # Given a purchase and a bank fee uploaded in one archive
    client.upload_tra(2101, build_tra_archive([purchase, _bank_fee(purchase, "e-fee", "2026-11-21")]))

    # When the year is read back
    entries = client.mad_entries(2101, start=START, end=END)

    # Then both are there, with MyUnisoft's ids, journals, dates and exact amounts per line
    assert [e.producer_id for e in entries] == emulator.imports[0]["entry_ids"]
    bought, fee = entries
    assert (bought.journal_code, bought.day, bought.due_date) == (
        "ACH",
        date(2026, 11, 20),
        date(2026, 12, 20),
    )
    assert [(m.account_number, m.value.debit, m.value.credit) for m in bought.movements] == [
        ("401EDF", Decimal(0), Decimal("120")),
        ("606100", Decimal("100"), Decimal(0)),
        ("445660", Decimal("20"), Decimal(0)),
    ]
    assert [m.value.amount for m in fee.movements] == [Decimal("-5"), Decimal("5")]
    assert all(isinstance(m.value.amount, Decimal) for m in bought.movements)
    assert (
        list(bought.attachments) == ["facture-edf.pdf"]
        and bought.attachments["facture-edf.pdf"].type == "URL"
    )
    assert bought.movements[0].invoice_number == "F2026-0042"
    assert fee.movements[0].description == "Bank fees"


def test_journals_and_fiscal_years_narrow_the_read(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    client.upload_tra(2101, build_tra_archive([purchase, _bank_fee(purchase, "e-fee", "2026-11-21")]))
    journals = {d.code: d.diary_id for d in client.list_diaries(2101)}
    years = {y.start_date.year: y.exercice_id for y in client.list_fiscal_years(2101)}

    only_bank = client.mad_entries(2101, start=START, end=END, journal_ids=[journals["BQ"]])
    bank_and_sales = client.mad_entries(
        2101, start=START, end=END, journal_ids=[journals["BQ"], journals["ACH"]]
    )

    assert [e.journal_code for e in only_bank] == ["BQ"]
    assert len(bank_and_sales) == 2
    assert len(client.mad_entries(2101, fiscal_year_id=years[2026])) == 2
    assert client.mad_entries(2101, fiscal_year_id=years[2027]) == []
    assert client.mad_entries(2101, start=date(2026, 11, 21), end=date(2026, 11, 21))[0].journal_code == "BQ"


def test_a_lost_import_reads_back_as_nothing(
    client: MyUnisoftClient, emulator: EmulatorApp, purchase: dict[str, Any]
) -> None:
    emulator.add_fault(Fault.from_json({"route": "/api/v1/TRA/partial", "lose": True}))
    assert client.upload_tra(2101, build_tra_archive([purchase])).status == "imported"

    assert client.mad_entries(2101, start=START, end=END) == []


def test_a_key_without_the_export_gets_forbidden_route(
    client: MyUnisoftClient, emulator: EmulatorApp
) -> None:
    assert client.key_info().allows(*MAD_ENTRIES_ROUTE)
    emulator.keys["demo-firm-key"].fixture.routes.remove(MAD_ENTRIES_ROUTE)

    assert not client.key_info().allows(*MAD_ENTRIES_ROUTE)
    with pytest.raises(ForbiddenRoute) as caught:
        client.mad_entries(2101, start=START, end=END)
    assert caught.value.myunisoft_code == "ERR-FORBIDDEN-ROUTE"


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"start": date(2026, 1, 1)},
        {"start": date(2026, 1, 1), "end": date(2027, 1, 1)},
        {"start": date(2026, 2, 1), "end": date(2026, 1, 1)},
        {"start": date(2026, 1, 1), "end": date(2026, 1, 31), "fiscal_year_id": 21012},
    ],
    ids=["nothing", "half-period", "13-months", "reversed", "both"],
)
def test_requests_myunisoft_would_refuse_are_not_sent(
    client: MyUnisoftClient, emulator: EmulatorApp, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        client.mad_entries(2101, **arguments)
    assert emulator.requests == []


def test_the_export_period_rule_matches_the_emulator(client: MyUnisoftClient) -> None:
    # The longest period one call may read is accepted by the emulator, the next day is not
    assert export_period_fits(date(2026, 3, 1), date(2027, 2, 28))
    assert not export_period_fits(date(2026, 3, 1), date(2027, 3, 1))
    assert client.mad_entries(2101, start=date(2026, 3, 1), end=date(2027, 2, 28)) == []


def test_long_ranges_are_cut_into_export_periods() -> None:
    assert export_periods(date(2025, 3, 15), date(2027, 1, 10)) == [
        (date(2025, 3, 15), date(2026, 3, 14)),
        (date(2026, 3, 15), date(2027, 1, 10)),
    ]
    assert export_periods(date(2026, 1, 31), date(2026, 1, 31)) == [(date(2026, 1, 31), date(2026, 1, 31))]
    assert all(export_period_fits(a, b) for a, b in export_periods(date(2020, 2, 29), date(2026, 12, 31)))
    with pytest.raises(ValueError):
        export_periods(date(2026, 2, 1), date(2026, 1, 1))


# -- on the wire ---------------------------------------------------------------------------------------

#: The documentation's example entry (shortened in the design folder), with the variations a
#: tolerant reader must accept: numeric ids, a date with a time, a missing amount, nulls, extras.
DOC_EXAMPLE: dict[str, Any] = {
    "producerId": 13524346,
    "attachments": {"facture.pdf": {"type": "URL", "value": "https://app.myunisoft.fr/api/ged/x/download"}},
    "date": "2023-02-01T00:00:00.000Z",
    "dueDate": None,
    "journal": {"producerId": "137145", "customerReferenceCode": "AC", "name": "ACHATS", "type": "Achat"},
    "currency": {"code": "EUR"},
    "movements": [
        {
            "producerId": "43221797",
            "description": "TEST",
            "value": {"credit": 1200, "debit": 0, "amount": 1200},
            "dueDate": None,
            "lettering": {"state": "none", "value": None},
            "freeNumber": None,
            "invoiceNumber": 42,
            "attachments": {},
            "account": {"producerId": 1482937, "number": "6010000000", "name": "ACHATS MATIERES PREM"},
            "payment": None,
            "analytics": [],
            "sections": [],
        },
        {
            "producerId": 43221798,
            "description": None,
            "value": {"credit": 0, "debit": 1200.1},
            "attachments": None,
            "account": None,
        },
    ],
    "additionalProducerProperties": None,
    "somethingNew": True,
}


def _wire_client(handler: Any) -> MyUnisoftClient:
    return MyUnisoftClient(
        "https://api.example.test",
        "partner-secret-value",
        "api-key-value",
        transport=httpx.MockTransport(handler),
        rate_limiter=UnlimitedRateLimiter(),
    )


def test_the_query_is_the_documented_one() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    client = _wire_client(handler)
    client.mad_entries(42, start=date(2026, 1, 1), end=date(2026, 3, 31), journal_ids=[7, 9])
    client.mad_entries(42, fiscal_year_id=5)

    period, year = seen
    assert period.url.path == "/api/v1/mad/entries" and period.headers["society-id"] == "42"
    assert period.url.params.multi_items() == [
        ("version", "1.0.0"),
        ("startDate", "2026-01-01"),
        ("endDate", "2026-03-31"),
        ("journalIds", "7"),
        ("journalIds", "9"),
    ]
    assert year.url.params.multi_items() == [("version", "1.0.0"), ("idExercice", "5")]


def test_the_reader_tolerates_what_myunisoft_may_send() -> None:
    [entry] = _wire_client(lambda request: httpx.Response(200, json=[DOC_EXAMPLE])).mad_entries(
        1, start=date(2023, 1, 1), end=date(2023, 12, 31)
    )

    assert isinstance(entry, MadEntry)
    assert (entry.producer_id, entry.day, entry.journal_code) == ("13524346", date(2023, 2, 1), "AC")
    first, second = entry.movements
    assert (first.account_number, first.invoice_number, first.value.amount) == (
        "6010000000",
        "42",
        Decimal(1200),
    )
    assert first.account is not None and first.account.producer_id == "1482937"
    assert (second.producer_id, second.description, second.account_number) == ("43221798", "", None)
    assert (second.value.debit, second.value.amount) == (Decimal("1200.1"), Decimal("-1200.1"))
    assert second.attachments == {} and entry.additional_producer_properties is None


def test_an_answer_that_is_not_a_list_is_unexpected() -> None:
    client = _wire_client(lambda request: httpx.Response(200, json={"entries": []}))
    with pytest.raises(UnexpectedResponse):
        client.mad_entries(1, start=START, end=END)
    client = _wire_client(lambda request: httpx.Response(200, json=[{"date": "2026-01-01"}]))
    with pytest.raises(UnexpectedResponse) as caught:
        client.mad_entries(1, start=START, end=END)
    assert "producerId" in str(caught.value.details["fields"])
