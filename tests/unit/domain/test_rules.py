"""One test per MyUnisoft rule of docs/architecture.md §3.2, with its own examples."""

from __future__ import annotations

import pytest

from tra_core.domain.entry import parse_entries
from tra_core.domain.rules import (
    collective_account,
    fit_label,
    is_subsidiary_account,
    subsidiary_code,
)
from tra_core.domain.text import fit_encoding


# Rule 1 — labels: at most 35 characters, cut with a LABEL_TRUNCATED warning.
def test_a_50_character_label_becomes_its_first_35_characters_with_a_warning():
    # Given a 50-character label
    label = "ABCDEFGHIJ" * 5
    # When it is fitted for MyUnisoft
    result, notices = fit_label(label, entry_id="e-1", line=2)
    # Then it is its first 35 characters and a LABEL_TRUNCATED warning says so
    assert result == label[:35]
    assert [n.code for n in notices] == ["LABEL_TRUNCATED"]
    assert notices[0].original == label
    assert notices[0].result == label[:35]
    assert (notices[0].entry_id, notices[0].line, notices[0].field) == ("e-1", 2, "label")


def test_a_label_of_35_characters_is_kept_without_warning():
    label = "X" * 35
    assert fit_label(label) == (label, [])


# Rule 1 — characters cp1252 cannot hold are transliterated, with a warning.
@pytest.mark.parametrize(
    ("text", "expected"),
    [("Électricité", "Électricité"), ("Łódź", "Lódz"), ("café ☕ 😀", "café  "), ("a\tb\r\nc", "a b  c")],
)
def test_text_keeps_cp1252_characters_and_transliterates_the_others(text, expected):
    assert fit_encoding(text, "cp1252") == expected


def test_transliteration_is_reported_with_original_and_result():
    result, notices = fit_label("Łódź 😀")
    assert result == "Lódz"
    assert notices[0].code == "TEXT_TRANSLITERATED"
    assert (notices[0].original, notices[0].result) == ("Łódź 😀", "Lódz")


def test_utf8_files_keep_every_printable_character():
    assert fit_encoding("Łódź", "utf-8") == "Łódź"


# Rule 2 — every 401*/411* account is a subsidiary account, 401000 included.
@pytest.mark.parametrize("account", ["401000", "401", "401100", "401EDF", "411000", "4110001", "411ACME"])
def test_every_401_and_411_account_is_a_subsidiary_account(account):
    assert is_subsidiary_account(account) is True


@pytest.mark.parametrize("account", ["421000", "467000", "606100", "445660", "512000", "408100"])
def test_other_plain_accounts_are_general_accounts(account):
    assert is_subsidiary_account(account) is False


def test_421_and_467_are_subsidiary_when_the_line_names_a_subsidiary_or_the_number_has_a_letter():
    assert is_subsidiary_account("421000", "DUPONT") is True
    assert is_subsidiary_account("467000", "ASSOC") is True
    assert is_subsidiary_account("421DUPONT") is True
    assert is_subsidiary_account("467ASSOC") is True
    assert is_subsidiary_account("421000") is False
    assert is_subsidiary_account("467100") is False


# Rule 3 — a subsidiary code starts with the first 3 digits of its account.
@pytest.mark.parametrize(
    ("account", "subsidiary", "code"),
    [
        ("401000", "EDF", "401EDF"),
        ("401000", "401EDF", "401EDF"),
        ("401000", None, "401000"),
        ("411000", "ACME", "411ACME"),
        ("421000", "DUPONT", "421DUPONT"),
        ("467000", "ASSOC", "467ASSOC"),
        ("401100", "EDF", "401EDF"),
    ],
)
def test_subsidiary_code_takes_the_3_digit_prefix_of_its_account(account, subsidiary, code):
    assert subsidiary_code(account, subsidiary) == code


# Rule 4 — a subsidiary line's GENERAL is the collective account of its root.
def test_collective_account_defaults_per_root_and_can_be_configured():
    assert collective_account("401EDF") == "401000"
    assert collective_account("411000") == "411000"
    assert collective_account("421DUPONT") == "421000"
    assert collective_account("467ASSOC") == "467000"
    assert collective_account("401100", {"401": "40100000"}) == "40100000"
    assert collective_account("411100", {"401": "40100000"}) == "411000"


# Rule 5 — representable or rejected: never a silent cut.
@pytest.mark.parametrize(
    ("change", "code", "field", "line"),
    [
        (lambda e: e["lines"][1].update(account="6" * 18), "ACCOUNT_TOO_LONG", "account", 2),
        (lambda e: e.update(journal="ACHA"), "JOURNAL_TOO_LONG", "journal", None),
        (
            lambda e: (
                e["lines"][1].update(debit="100000000000000000.00"),
                e["lines"][0].update(credit="100000000000000020.00"),
            ),
            "AMOUNT_TOO_LARGE",
            "debit",
            2,
        ),
        (lambda e: e["lines"][0].update(subsidiary="S" * 15), "SUBSIDIARY_TOO_LONG", None, 1),
    ],
)
def test_values_the_tra_cannot_hold_are_rejected_not_cut(purchase, change, code, field, line):
    # Given an entry with a value too wide for its TRA column
    change(purchase)
    # When it is validated
    entries, problems = parse_entries(purchase)
    # Then it is refused with a problem naming the line and field
    assert entries == []
    assert (code, line, field) in {(p.code, p.line, p.field) for p in problems}
