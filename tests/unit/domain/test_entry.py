"""The entry (docs/architecture.md §3.1): every invalid input gets a problem naming entry, line, field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tra_core.domain.entry import decode_json, parse_entries


def _problems(raw):
    entries, problems = parse_entries(raw)
    assert entries == [] or problems == []
    return {(p.code, p.line, p.field) for p in problems}, problems


def test_the_contract_example_is_valid(purchase):
    entries, problems = parse_entries(purchase)
    assert problems == []
    (entry,) = entries
    assert entry.lines[0].subsidiary_code == "401EDF"
    assert entry.total == Decimal("120.00")
    assert entry.effective_piece_type == "FF"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda e: e.update(entry_id="bad id!"), ("ENTRY_ID_INVALID", None, "entry_id")),
        (lambda e: e.update(entry_id="x" * 65), ("ENTRY_ID_INVALID", None, "entry_id")),
        (lambda e: e.update(version=0), ("VALUE_TOO_SMALL", None, "version")),
        (lambda e: e.update(version="2"), ("FIELD_INVALID", None, "version")),
        (lambda e: e.update(kind="invoice"), ("KIND_INVALID", None, "kind")),
        (lambda e: e.update(journal="ACHATS"), ("JOURNAL_TOO_LONG", None, "journal")),
        (lambda e: e.update(journal=""), ("JOURNAL_REQUIRED", None, "journal")),
        (lambda e: e.update(date="2026-02-30"), ("DATE_INVALID", None, "date")),
        (lambda e: e.update(date="20/11/2026"), ("DATE_INVALID", None, "date")),
        (lambda e: e.update(due_date="tomorrow"), ("DATE_INVALID", None, "due_date")),
        (lambda e: e.update(currency="USD"), ("CURRENCY_UNSUPPORTED", None, "currency")),
        (lambda e: e.update(piece_type="XX"), ("PIECE_TYPE_INVALID", None, "piece_type")),
        (lambda e: e.update(payment_mode="CHEQUE"), ("PAYMENT_MODE_INVALID", None, "payment_mode")),
        (lambda e: e.update(lines=e["lines"][:1]), ("TOO_FEW_LINES", None, "lines")),
        (lambda e: e.update(colour="blue"), ("FIELD_UNKNOWN", None, "colour")),
        (lambda e: e.pop("kind"), ("FIELD_REQUIRED", None, "kind")),
        (lambda e: e["lines"][1].update(debit="-100.00"), ("AMOUNT_NEGATIVE", 2, "debit")),
        (lambda e: e["lines"][1].update(debit="100.001"), ("AMOUNT_TOO_PRECISE", 2, "debit")),
        (lambda e: e["lines"][1].update(debit="cent"), ("AMOUNT_INVALID", 2, "debit")),
        (lambda e: e["lines"][1].update(debit=100.0), ("AMOUNT_NOT_EXACT", 2, "debit")),
        (lambda e: e["lines"][1].update(credit="5.00"), ("LINE_SIDES", 2, None)),
        (lambda e: e["lines"][1].update(debit="0"), ("LINE_SIDES", 2, None)),
        (lambda e: e["lines"][2].update(account="ABC"), ("ACCOUNT_INVALID", 3, "account")),
        (lambda e: e["lines"][2].update(subsidiary="X"), ("SUBSIDIARY_NOT_ALLOWED", 3, None)),
        (lambda e: e["lines"][0].update(subsidiary="E D F"), ("SUBSIDIARY_INVALID", 1, None)),
        (lambda e: e["lines"][2].pop("account"), ("FIELD_REQUIRED", 3, "account")),
        (lambda e: e["lines"][1].update(debit="90.00"), ("UNBALANCED", None, None)),
        (lambda e: e["attachments"][0].pop("path"), ("ATTACHMENT_SOURCE", None, "attachments[1]")),
    ],
)
def test_each_invalid_input_is_named_precisely(purchase, change, expected):
    # Given the contract's entry with one thing wrong
    change(purchase)
    # When it is validated
    found, problems = _problems(purchase)
    # Then the problem names its code, line and field, and the message is a sentence
    assert expected in found, problems
    assert all(p.entry_id == "e-2026-000123" or p.code == "ENTRY_ID_INVALID" for p in problems)
    assert all(p.message and not p.message.startswith("Value error") for p in problems)


def test_every_problem_is_reported_at_once(purchase):
    # Given an entry with three independent mistakes
    purchase["journal"] = "ACHATS"
    purchase["lines"][1]["debit"] = "1.234"
    purchase["lines"][2]["account"] = "9" * 20
    # When it is validated
    found, _ = _problems(purchase)
    # Then all three are listed
    assert {
        ("JOURNAL_TOO_LONG", None, "journal"),
        ("AMOUNT_TOO_PRECISE", 2, "debit"),
        ("ACCOUNT_TOO_LONG", 3, "account"),
    } <= found


def test_problems_in_a_list_name_the_entry_by_id_or_position(purchase):
    second = dict(purchase, entry_id="e-2")
    third = {"kind": "sale"}
    entries, problems = parse_entries([purchase, second, third])
    assert [e.entry_id for e in entries] == ["e-2026-000123", "e-2"]
    assert problems and all(p.entry_index == 2 and p.entry_id is None for p in problems)
    assert str(problems[0]).startswith("entry #3, field ")


def test_the_same_entry_version_twice_in_one_input_is_refused(purchase):
    entries, problems = parse_entries([purchase, purchase])
    assert len(entries) == 1
    assert [p.code for p in problems] == ["ENTRY_DUPLICATED"]


def test_json_numbers_are_read_exactly_never_through_a_float():
    # Given amounts written as JSON numbers that a float cannot hold exactly
    raw = decode_json(
        '{"entry_id": "e-1", "kind": "sale", "journal": "VTE", "date": "2026-11-20",'
        ' "lines": [{"account": "411000", "debit": 0.3},'
        ' {"account": "706000", "credit": 0.1}, {"account": "706000", "credit": 0.2}]}'
    )
    # When validated
    entries, problems = parse_entries(raw)
    # Then 0.1 + 0.2 = 0.3 exactly and the entry balances
    assert problems == []
    assert entries[0].lines[0].debit == Decimal("0.30")


def test_a_non_object_entry_and_an_empty_list_are_refused():
    assert [p.code for p in parse_entries([1])[1]] == ["ENTRY_NOT_OBJECT"]
    assert [p.code for p in parse_entries([])[1]] == ["NO_ENTRIES"]


@pytest.mark.parametrize(
    ("kind", "lines", "expected"),
    [
        ("purchase", [("401000", "C"), ("606100", "D")], "FF"),
        ("purchase", [("401000", "D"), ("606100", "C")], "AF"),
        ("sale", [("411000", "D"), ("706000", "C")], "FC"),
        ("sale", [("411000", "C"), ("706000", "D")], "AC"),
        ("expense_report", [("421000", "C"), ("625100", "D")], "OD"),
        ("bank_transaction", [("401000", "D"), ("512000", "C")], "RF"),
        ("bank_transaction", [("411000", "C"), ("512000", "D")], "RC"),
        ("bank_transaction", [("627000", "D"), ("512000", "C")], "OD"),
    ],
)
def test_default_piece_type_follows_the_kind_and_the_third_party_line(kind, lines, expected):
    raw = {
        "entry_id": "e-1",
        "kind": kind,
        "journal": "OD",
        "date": "2026-11-20",
        "lines": [
            {"account": account, "debit" if side == "D" else "credit": "10.00"} for account, side in lines
        ],
    }
    entries, problems = parse_entries(raw)
    assert problems == []
    assert entries[0].effective_piece_type == expected


def test_an_explicit_piece_type_overrides_the_default(purchase):
    purchase["piece_type"] = "OD"
    assert parse_entries(purchase)[0][0].effective_piece_type == "OD"


def test_an_entry_with_a_partial_third_party_reads_back_as_stored(purchase):
    # Given a line naming a third party with only some of its details
    purchase["lines"][0]["third_party"] = {"name": "EDF SA", "siren": "552081317"}
    (entry,) = parse_entries(purchase)[0]

    # When it is stored as JSON and read back (the worker re-reads the stored body)
    again = type(entry).model_validate(decode_json(entry.model_dump_json()))

    # Then nothing is lost or refused (the absent details read as None)
    assert again == entry
    assert again.lines[0].third_party is not None and again.lines[0].third_party.email is None
