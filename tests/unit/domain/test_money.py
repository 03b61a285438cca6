"""Exact money: Decimal in, Decimal out, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tra_core.domain.money import AmountError, format_amount, parse_amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", "120.00"),
        ("120.5", "120.50"),
        (" 0.10 ", "0.10"),
        (7, "7.00"),
        (Decimal("1.20"), "1.20"),
        ("-0", "0.00"),
        ("1.2300", "1.23"),
        ("99999999999999999.99", "99999999999999999.99"),
    ],
)
def test_amounts_are_parsed_exactly_to_cents(value, expected):
    assert parse_amount(value) == Decimal(expected)
    assert str(parse_amount(value)) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (1.5, "AMOUNT_NOT_EXACT"),
        (True, "AMOUNT_NOT_EXACT"),
        ("NaN", "AMOUNT_INVALID"),
        ("1e400", "AMOUNT_TOO_LARGE"),
        ("", "AMOUNT_INVALID"),
        ("-1", "AMOUNT_NEGATIVE"),
        ("0.001", "AMOUNT_TOO_PRECISE"),
        (None, "AMOUNT_INVALID"),
        ("100000000000000000.00", "AMOUNT_TOO_LARGE"),
        ("Infinity", "AMOUNT_INVALID"),
    ],
)
def test_bad_amounts_are_refused_with_a_code(value, code):
    with pytest.raises(AmountError) as caught:
        parse_amount(value)
    assert caught.value.code == code


def test_amounts_are_formatted_with_a_decimal_comma():
    assert format_amount(Decimal("120.00")) == "120,00"
    assert format_amount(Decimal("0.5")) == "0,50"
