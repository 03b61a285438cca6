"""Exact money: amounts are ``Decimal`` with at most two decimals, never a binary float.

The TRA amount field (MONTANT1, columns 131-150) is 20 characters wide with a decimal comma
(``tra-format.md`` §1, Cegid spec p. 41); an amount that cannot fit is rejected, never cut.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
AMOUNT_WIDTH = 20
# 17 digits + comma + 2 decimals = 20 characters.
MAX_AMOUNT = Decimal("99999999999999999.99")


class AmountError(ValueError):
    """An amount that is not an exact, non-negative decimal with at most two decimals."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def parse_amount(value: object) -> Decimal:
    """Parse an amount exactly.

    Accepts a decimal string (``"120.00"``, ``"120"``), an ``int`` or a ``Decimal``. A ``float``
    is refused: JSON numbers must be decoded as ``Decimal`` (``json.loads(parse_float=Decimal)``)
    so that ``0.1`` stays ``0.1``. The result is quantized to cents.

    Raises ``AmountError`` for negatives, more than 2 decimals, non-numbers and amounts wider than
    the 20-character TRA field.
    """
    if isinstance(value, (bool, float)):
        raise AmountError(
            "AMOUNT_NOT_EXACT", "must be given as a decimal string or an exact number, not a float"
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in {"nan", "inf", "-inf", "+inf", "infinity", "snan"}:
            raise AmountError("AMOUNT_INVALID", f"{value!r} is not an amount")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise AmountError("AMOUNT_INVALID", f"{value!r} is not an amount") from None
    else:
        raise AmountError("AMOUNT_INVALID", 'must be an amount such as "120.00"')
    if not amount.is_finite():
        raise AmountError("AMOUNT_INVALID", f"{value!r} is not an amount")
    if amount < 0:
        raise AmountError(
            "AMOUNT_NEGATIVE", "must not be negative (put the amount in the other column instead)"
        )
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(CENT):
        raise AmountError("AMOUNT_TOO_PRECISE", f"{value} has more than 2 decimals")
    if amount > MAX_AMOUNT:
        raise AmountError("AMOUNT_TOO_LARGE", f"{value} does not fit the 20-character TRA amount field")
    if amount == 0:
        return Decimal("0.00")  # "-0" would otherwise render as "-0,00"
    return amount.quantize(CENT)


def format_amount(amount: Decimal) -> str:
    """Render an amount the TRA way: two decimals and a decimal comma (``120,00``), unpadded."""
    return f"{amount:.2f}".replace(".", ",")
