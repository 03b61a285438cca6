"""Turning MyUnisoft's answers into reference data, and diffing two versions."""

from __future__ import annotations

from datetime import date

from refresh.diff import diff_references
from refresh.use_cases import build_references
from tra_core.domain.references import Account, FiscalYear, Journal, References
from tra_core.myunisoft.models import AccountRecord, Diary, FiscalYearRecord


def _accounts(*numbers: str) -> list[AccountRecord]:
    return [AccountRecord(account_id=i, account_number=n, label=n) for i, n in enumerate(numbers, start=1)]


def test_every_401_and_411_account_is_a_subsidiary_401000_included() -> None:
    # Given a chart mixing general accounts and third-party accounts, of varying lengths
    accounts = _accounts(
        "4010000000", "401000", "401UBER", "411000", "411FOOBAR", "421000", "421DUPONT", "512000"
    )

    # When it becomes reference data
    references = build_references(accounts, [], [])

    # Then 401*/411* (and 421 with letters) are subsidiaries, the rest general accounts
    assert [a.number for a in references.subsidiaries] == [
        "401000",
        "4010000000",
        "401UBER",
        "411000",
        "411FOOBAR",
        "421DUPONT",
    ]
    assert [a.number for a in references.accounts] == ["421000", "512000"]


def test_journals_and_fiscal_years_are_ordered_and_closed_journals_blocked() -> None:
    # Given journals and fiscal years in MyUnisoft's order (newest year first)
    diaries = [
        Diary(diary_id=2, code="VTE", name="Ventes", diary_type_code="VTE"),
        Diary(diary_id=1, code="ACH", name="Achats", diary_type_code="ACH", closed=True),
        Diary(diary_id=3, code="ZZ", name="Sans type", diary_type_code=""),
    ]
    years = [
        FiscalYearRecord.model_validate({"exercice_id": 2, "start_date": "20260101", "end_date": "20261231"}),
        FiscalYearRecord.model_validate(
            {"exercice_id": 1, "start_date": "20250101", "end_date": "20251231", "closed": True}
        ),
    ]

    # When they become reference data
    references = build_references([], diaries, years)

    # Then journals are by code (a closed one cannot be posted to), years oldest first
    assert [(j.code, j.type, j.blocked) for j in references.journals] == [
        ("ACH", "ACH", True),
        ("VTE", "VTE", False),
        ("ZZ", "", False),
    ]
    assert [(y.start, y.closed) for y in references.fiscal_years] == [
        (date(2025, 1, 1), True),
        (date(2026, 1, 1), False),
    ]


def test_a_diff_names_what_was_added_removed_closed_and_reopened() -> None:
    # Given two versions of a file's references
    before = References(
        accounts=(Account(number="512000"), Account(number="606100"), Account(number="627000", closed=True)),
        journals=(Journal(code="ACH"), Journal(code="OD")),
        fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),),
    )
    after = References(
        accounts=(Account(number="606100", closed=True), Account(number="627000"), Account(number="706000")),
        journals=(Journal(code="ACH", blocked=True), Journal(code="BQ")),
        fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31), closed=True),),
    )

    # When they are compared
    changes = diff_references(before, after)

    # Then every change is named
    assert changes.accounts.model_dump() == {
        "added": ("706000",),
        "removed": ("512000",),
        "closed": ("606100",),
        "reopened": ("627000",),
    }
    assert (changes.journals.added, changes.journals.removed, changes.journals.closed) == (
        ("BQ",),
        ("OD",),
        ("ACH",),
    )
    assert changes.fiscal_years.closed == ("2026-01-01/2026-12-31",)
    assert diff_references(after, after).counts() == {}
    assert diff_references(None, after).initial
