"""Checks of an entry against its file's references: every rule, with its code and message."""

from __future__ import annotations

from datetime import date

import pytest

from tra_core.domain.checks import check_against_references
from tra_core.domain.entry import parse_entries
from tra_core.domain.references import Account, FiscalYear, Journal, References

REFERENCES = References(
    accounts=(
        Account(number="445660", label="TVA déductible"),
        Account(number="512000", label="Banque"),
        Account(number="530000", label="Caisse"),
        Account(number="606100", label="Électricité"),
        Account(number="606400", label="Fournitures", closed=True),
        Account(number="706000", label="Prestations"),
    ),
    subsidiaries=(
        Account(number="401000", label="Fournisseurs divers"),
        Account(number="401EDF", label="EDF"),
        Account(number="401OLD", label="Ancien", closed=True),
        Account(number="411ACME", label="ACME"),
    ),
    journals=(
        Journal(code="ACH", name="Achats", type="ACH"),
        Journal(code="VTE", name="Ventes", type="VTE"),
        Journal(code="BQ", name="Banque", type="BQ"),
        Journal(code="CAI", name="Caisse", type="CAISSE"),
        Journal(code="OD", name="Opérations diverses", type="OD"),
        Journal(code="AN", name="À nouveaux", type="AN"),
        Journal(code="OLD", name="Ancien", type="OD", blocked=True),
    ),
    fiscal_years=(
        FiscalYear(start=date(2025, 1, 1), end=date(2025, 12, 31), closed=True),
        FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),
    ),
)


def _entry(purchase, **changes):
    raw = dict(purchase, **changes)
    entries, problems = parse_entries(raw)
    assert problems == []
    return entries[0]


def _found(purchase, **changes):
    problems = check_against_references(_entry(purchase, **changes), REFERENCES)
    return {(p.code, p.line, p.field) for p in problems}, problems


def test_the_contract_example_passes_every_check(purchase):
    assert check_against_references(_entry(purchase), REFERENCES) == []


def test_401000_without_subsidiary_is_checked_among_the_subsidiaries(purchase):
    lines = [{"account": "401000", "credit": "120.00"}, *purchase["lines"][1:]]
    assert _found(purchase, lines=lines)[0] == set()


@pytest.mark.parametrize(
    ("line", "change", "expected"),
    [
        (1, {"account": "401000", "subsidiary": "NOPE"}, ("SUBSIDIARY_UNKNOWN", 1, "subsidiary")),
        (1, {"account": "401000", "subsidiary": "OLD"}, ("SUBSIDIARY_CLOSED", 1, "subsidiary")),
        (1, {"account": "401999", "subsidiary": None}, ("SUBSIDIARY_UNKNOWN", 1, "account")),
        (2, {"account": "606999"}, ("ACCOUNT_UNKNOWN", 2, "account")),
        (2, {"account": "606400"}, ("ACCOUNT_CLOSED", 2, "account")),
    ],
)
def test_accounts_and_subsidiaries_must_exist_and_be_open(purchase, line, change, expected):
    lines = [dict(ln) for ln in purchase["lines"]]
    lines[line - 1].update(change)
    found, problems = _found(purchase, lines=lines)
    assert expected in found
    assert all(p.entry_id == "e-2026-000123" and p.message for p in problems)


def test_the_journal_must_exist_and_not_be_blocked(purchase):
    assert ("JOURNAL_UNKNOWN", None, "journal") in _found(purchase, journal="XYZ")[0]
    assert ("JOURNAL_BLOCKED", None, "journal") in _found(purchase, journal="OLD")[0]


def test_a_purchase_journal_takes_no_customer_account(purchase):
    lines = [{"account": "411000", "subsidiary": "ACME", "credit": "120.00"}, *purchase["lines"][1:]]
    found, problems = _found(purchase, lines=lines)
    assert ("JOURNAL_ACCOUNT_FORBIDDEN", 1, "account") in found
    assert "41x" in problems[0].message


def test_a_sales_journal_takes_no_supplier_account(purchase):
    found, _ = _found(purchase, journal="VTE", kind="sale")
    assert ("JOURNAL_ACCOUNT_FORBIDDEN", 1, "account") in found


def test_a_bank_journal_entry_needs_a_51x_or_54x_line(purchase):
    assert ("BANK_ACCOUNT_MISSING", None, "journal") in _found(purchase, journal="BQ")[0]
    lines = [
        {"account": "401000", "subsidiary": "EDF", "debit": "120.00"},
        {"account": "512000", "credit": "120.00"},
    ]
    assert _found(purchase, journal="BQ", kind="bank_transaction", lines=lines)[0] == set()


def test_a_cash_journal_entry_needs_a_53x_line(purchase):
    assert ("CASH_ACCOUNT_MISSING", None, "journal") in _found(purchase, journal="CAI")[0]


def test_no_posting_into_an_opening_balance_journal(purchase):
    assert ("JOURNAL_OPENING_BALANCE", None, "journal") in _found(purchase, journal="AN")[0]


def test_the_date_must_fall_in_an_open_fiscal_year(purchase):
    assert ("FISCAL_YEAR_CLOSED", None, "date") in _found(purchase, date="2025-06-30")[0]
    assert ("FISCAL_YEAR_MISSING", None, "date") in _found(purchase, date="2027-01-02")[0]


def test_every_reason_is_reported_at_once(purchase):
    lines = [dict(ln) for ln in purchase["lines"]]
    lines[1]["account"] = "606999"
    found, _ = _found(purchase, lines=lines, journal="XYZ", date="2027-01-02")
    assert {"ACCOUNT_UNKNOWN", "JOURNAL_UNKNOWN", "FISCAL_YEAR_MISSING"} <= {code for code, _, _ in found}
