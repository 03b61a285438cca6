"""Typed, tolerant views of MyUnisoft's entries export (``GET /api/v1/mad/entries``, MAD v1.0.0).

An entry ("écriture") groups movements (its lines); each has MyUnisoft's ``producerId``, which
never changes and is what the bridge records as the entry's MyUnisoft id. The models read the
shape of MyUnisoft's MAD specification (``myunisoft-mad-entries.md`` §1 of the design folder) and
tolerate what a reader should: ids as numbers or strings, ``null`` for any optional part, missing
``amount`` (computed as credit − debit), extra fields (ignored), dates with a time part. Amounts
are exact :class:`~decimal.Decimal` values, never floats.

The export reads at most 12 months per call: :func:`export_periods` cuts a longer range.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: The most one export call may cover, in calendar months (both ends of the period included).
MAX_EXPORT_MONTHS = 12
MAD_VERSION = "1.0.0"


class _Mad(BaseModel):
    """Base of the export's models: ids as text, no documents read as none, text fields never null."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @field_validator("producer_id", check_fields=False, mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return _id_text(value)

    @field_validator("attachments", check_fields=False, mode="before")
    @classmethod
    def _documents(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("code", "name", "type", "description", check_fields=False, mode="before")
    @classmethod
    def _texts(cls, value: Any) -> Any:
        return "" if value is None else value


def _text_or_none(value: Any) -> Any:
    if value is None or value == "":
        return None
    return str(value) if isinstance(value, int | float) else value


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _exact(value: Any) -> Any:
    """A JSON number as an exact decimal (through its shortest text, never its binary value)."""
    if value is None:
        return Decimal(0)
    return str(value) if isinstance(value, float) else value


def _day(value: Any) -> Any:
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text[:10]) if text else None


class MadAttachment(_Mad):
    """A document: ``type`` ``"URL"`` (what the export uses), ``"File"`` or ``"Base64"``, and its value."""

    type: str = "URL"
    value: str = ""


class MadJournalRef(_Mad):
    """The entry's journal: ``code`` is the journal code of the TRA (``customerReferenceCode``)."""

    producer_id: str | None = Field(default=None, alias="producerId")
    code: str = Field(default="", alias="customerReferenceCode")
    name: str = ""
    type: str = ""


class MadAccountRef(_Mad):
    """A movement's account (MyUnisoft does not document whether a third party shows as ``401EDF``)."""

    producer_id: str | None = Field(default=None, alias="producerId")
    number: str | None = None
    name: str | None = None

    @field_validator("number", "name", mode="before")
    @classmethod
    def _optional_texts(cls, value: Any) -> Any:
        return _text_or_none(value)


class MadValue(_Mad):
    """A movement's amounts: ``amount`` is credit − debit (computed when MyUnisoft leaves it out)."""

    credit: Decimal = Decimal(0)
    debit: Decimal = Decimal(0)
    amount: Decimal | None = None

    @field_validator("credit", "debit", mode="before")
    @classmethod
    def _sides(cls, value: Any) -> Any:
        return _exact(value)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        return None if value is None else _exact(value)

    @model_validator(mode="after")
    def _fill_amount(self) -> MadValue:
        if self.amount is None:
            object.__setattr__(self, "amount", self.credit - self.debit)
        return self


class MadLettering(_Mad):
    state: str = "none"
    value: str | None = None


class MadMovement(_Mad):
    """One line of an entry: its label (``description``), account and amounts."""

    producer_id: str = Field(alias="producerId")
    description: str = ""
    value: MadValue = MadValue()
    account: MadAccountRef | None = None
    due_date: date | None = Field(default=None, alias="dueDate")
    free_number: str | None = Field(default=None, alias="freeNumber")
    invoice_number: str | None = Field(default=None, alias="invoiceNumber")
    lettering: MadLettering | None = None
    attachments: dict[str, MadAttachment] = {}

    @field_validator("free_number", "invoice_number", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _text_or_none(value)

    @field_validator("due_date", mode="before")
    @classmethod
    def _due(cls, value: Any) -> Any:
        return _day(value)

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def account_number(self) -> str | None:
        return self.account.number if self.account else None


class MadCurrency(_Mad):
    code: str = "EUR"
    rate: Decimal | None = None

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Any:
        return None if value is None else _exact(value)


class MadEntry(_Mad):
    """One entry of the export, as MyUnisoft holds it."""

    producer_id: str = Field(alias="producerId")
    day: date = Field(alias="date")
    due_date: date | None = Field(default=None, alias="dueDate")
    journal: MadJournalRef | None = None
    currency: MadCurrency | None = None
    movements: tuple[MadMovement, ...] = ()
    attachments: dict[str, MadAttachment] = {}
    additional_producer_properties: dict[str, Any] | None = Field(
        default=None, alias="additionalProducerProperties"
    )

    @field_validator("day", "due_date", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _day(value)

    @field_validator("movements", mode="before")
    @classmethod
    def _lines(cls, value: Any) -> Any:
        return () if value is None else value

    @property
    def journal_code(self) -> str:
        """The journal code (``ACH``...), ``""`` when MyUnisoft did not say."""
        return self.journal.code if self.journal else ""


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, the day clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def export_period_fits(start: date, end: date) -> bool:
    """Whether ``start..end`` (both included) is one export call: at most 12 months, in order."""
    return start <= end < add_months(start, MAX_EXPORT_MONTHS)


def export_periods(start: date, end: date) -> list[tuple[date, date]]:
    """``start..end`` cut into consecutive periods that each fit one export call."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    periods = []
    while start <= end:
        last = min(end, add_months(start, MAX_EXPORT_MONTHS) - timedelta(days=1))
        periods.append((start, last))
        start = last + timedelta(days=1)
    return periods
