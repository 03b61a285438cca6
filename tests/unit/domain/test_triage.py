"""Triage of an entry's problems: reject, wait for MyUnisoft, or create the missing third parties."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tra_core.domain.checks import check_against_references
from tra_core.domain.entry import ThirdParty, parse_entries
from tra_core.domain.references import Account, FiscalYear, Journal, References
from tra_core.domain.triage import (
    FISCAL_YEAR_MISSING,
    SUBSIDIARY_UNKNOWN,
    NewSubsidiary,
    created_notice,
    triage,
    with_subsidiaries,
)

JSON_VALUES = (
    st.none() | st.booleans() | st.integers() | st.text(max_size=300) | st.lists(st.none(), max_size=2)
)

REFERENCES = References(
    accounts=(Account(number="445660"), Account(number="606100"), Account(number="606400", closed=True)),
    subsidiaries=(Account(number="401000"), Account(number="401EDF", label="EDF")),
    journals=(Journal(code="ACH", name="Achats", type="ACH"),),
    fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),),
)


def _entry(purchase, *, supplier="NEWCO", third_party=None, **changes):
    raw = dict(purchase, **changes)
    raw["lines"][0] = dict(raw["lines"][0], subsidiary=supplier)
    if third_party is not None:
        raw["lines"][0]["third_party"] = third_party
    entries, problems = parse_entries(raw)
    assert problems == []
    return entries[0]


def _triage(entry, *, create=True):
    problems = check_against_references(entry, REFERENCES)
    return triage(entry, REFERENCES, problems, create_missing_subsidiaries=create)


def test_an_unknown_subsidiary_is_created_when_the_connection_allows_it(purchase):
    verdict = _triage(_entry(purchase, third_party={"name": "New Co SARL", "siren": "552081317"}))
    assert verdict.ready
    assert verdict.problems == ()
    assert [(n.number, n.label) for n in verdict.to_create] == [("401NEWCO", "New Co SARL")]
    assert verdict.to_create[0].third_party is not None
    assert verdict.to_create[0].third_party.siren == "552081317"


def test_without_a_third_party_the_label_is_the_account_number(purchase):
    verdict = _triage(_entry(purchase))
    assert verdict.to_create == (NewSubsidiary(number="401NEWCO", label="401NEWCO"),)


def test_with_creation_off_the_entry_waits_for_the_account(purchase):
    verdict = _triage(_entry(purchase), create=False)
    assert not verdict.ready
    assert [p.code for p in verdict.waiting] == [SUBSIDIARY_UNKNOWN]
    assert verdict.rejecting == () and verdict.to_create == ()


def test_a_missing_fiscal_year_waits_and_creates_nothing_yet(purchase):
    verdict = _triage(_entry(purchase, date="2027-01-15"))
    assert [p.code for p in verdict.waiting] == [FISCAL_YEAR_MISSING]
    assert verdict.to_create == ()


def test_a_wrong_entry_is_rejected_and_nothing_is_created(purchase):
    entry = _entry(purchase)
    raw_lines = [dict(line) for line in purchase["lines"]]
    raw_lines[0]["subsidiary"] = "NEWCO"
    raw_lines[1]["account"] = "606400"  # closed: the accountant must fix the entry
    entry = _entry(dict(purchase, lines=raw_lines))
    verdict = _triage(entry)
    assert [p.code for p in verdict.rejecting] == ["ACCOUNT_CLOSED"]
    assert verdict.waiting == () and verdict.to_create == ()


def test_an_account_named_twice_is_created_once_with_the_details_given(purchase):
    raw = dict(purchase)
    raw["lines"] = [
        {"account": "401000", "subsidiary": "NEWCO", "debit": "0", "credit": "60.00"},
        {
            "account": "401000",
            "subsidiary": "NEWCO",
            "debit": "0",
            "credit": "60.00",
            "third_party": {"name": "NewCo"},
        },
        {"account": "606100", "debit": "120.00", "credit": "0"},
    ]
    entry = _entry(raw, supplier="NEWCO")
    assert _triage(entry).to_create == (
        NewSubsidiary(number="401NEWCO", label="NewCo", third_party=entry.lines[1].third_party),
    )


def test_created_accounts_join_the_references_once_and_sorted():
    merged = with_subsidiaries(REFERENCES, [Account(number="401ACME"), Account(number="401EDF", label="x")])
    assert [a.number for a in merged.subsidiaries] == ["401000", "401ACME", "401EDF"]
    assert merged.subsidiaries[2].label == "EDF"


def test_the_created_notice_names_the_account():
    notice = created_notice("e-1", NewSubsidiary(number="401NEWCO", label="New Co"), line=1)
    assert notice.code == "SUBSIDIARY_CREATED"
    assert "401NEWCO" in notice.message and notice.result == "401NEWCO"


@pytest.mark.parametrize(
    ("third_party", "code"),
    [
        ({"name": " "}, "THIRD_PARTY_NAME_INVALID"),
        ({"name": "x" * 101}, "THIRD_PARTY_NAME_INVALID"),
        ({"name": 12}, "THIRD_PARTY_NAME_INVALID"),
        ({"siren": "552081317"}, "FIELD_REQUIRED"),
        ({"name": "A", "siren": "12345"}, "SIREN_INVALID"),
        ({"name": "A", "email": "not-an-address"}, "EMAIL_INVALID"),
        ({"name": "A", "iban": "FR76"}, "IBAN_INVALID"),
        ({"name": "A", "bic": "BNP"}, "BIC_INVALID"),
        ({"name": "A", "phone": "0102"}, "FIELD_UNKNOWN"),
    ],
)
def test_third_party_details_are_checked_at_the_boundary(purchase, third_party, code):
    raw = dict(purchase)
    raw["lines"] = [dict(line) for line in purchase["lines"]]
    raw["lines"][0]["third_party"] = third_party
    _, problems = parse_entries(raw)
    assert [(p.code, p.line) for p in problems] == [(code, 1)]


def test_every_detail_may_be_null(purchase):
    # Found by the API fuzz run: a null e-mail once raised instead of being "not given"
    raw = dict(purchase)
    raw["lines"] = [dict(line) for line in purchase["lines"]]
    raw["lines"][0]["third_party"] = {"name": "A", "siren": None, "email": None, "iban": None, "bic": None}
    entries, problems = parse_entries(raw)
    assert problems == []
    assert entries[0].lines[0].third_party == ThirdParty(name="A")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["name", "siren", "email", "iban", "bic", "x"]), JSON_VALUES))
def test_any_third_party_gives_problems_never_an_exception(purchase, third_party):
    raw = dict(purchase)
    raw["lines"] = [dict(line) for line in purchase["lines"]]
    raw["lines"][0]["third_party"] = third_party
    entries, problems = parse_entries(raw)
    assert bool(entries) != bool(problems)


def test_iban_and_bic_are_compacted(purchase):
    raw = dict(purchase)
    raw["lines"] = [dict(line) for line in purchase["lines"]]
    raw["lines"][0]["third_party"] = {
        "name": "A",
        "iban": "fr76 3000 6000 0112 3456 7890 189",
        "bic": "bnpa frpp",
    }
    entries, problems = parse_entries(raw)
    assert problems == []
    third_party = entries[0].lines[0].third_party
    assert third_party is not None
    assert (third_party.iban, third_party.bic) == ("FR7630006000011234567890189", "BNPAFRPP")


def test_a_third_party_on_a_general_line_is_refused(purchase):
    raw = dict(purchase)
    raw["lines"] = [dict(line) for line in purchase["lines"]]
    raw["lines"][1]["third_party"] = {"name": "EDF"}
    _, problems = parse_entries(raw)
    assert [(p.code, p.line) for p in problems] == [("THIRD_PARTY_NOT_ALLOWED", 2)]
