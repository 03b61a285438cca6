"""The entry the hub sends (docs/architecture.md §3.1), validated once at the boundary.

A validated ``Entry`` is always representable in TRA: every rule that would otherwise force the
writer to cut a code or an amount is checked here, and every problem is reported with the entry,
the line and the field (``EntryProblem``), never only the first one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tra_core.domain.errors import EntryProblem
from tra_core.domain.money import AmountError, parse_amount
from tra_core.domain.rules import (
    ACCOUNT_WIDTH,
    JOURNAL_WIDTH,
    SUBSIDIARY_ROOTS,
    account_root,
    is_subsidiary_account,
    subsidiary_code,
)

PIECE_TYPES = frozenset({"FC", "AC", "RC", "FF", "AF", "RF", "OD", "OC", "OF"})
"""TYPE PIECE values of the Cegid spec (``tra-format.md`` §4.1, column 12)."""

_ENTRY_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_ACCOUNT = re.compile(r"[0-9][A-Za-z0-9]*")
_CODE = re.compile(r"[A-Za-z0-9]+")
_SUBSIDIARY = re.compile(r"[A-Za-z0-9._\-/&+]+")
_MIN_DATE = date(1900, 1, 2)  # 01011900 means "no date" in TRA files
_SIREN = re.compile(r"[0-9]{9}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}")
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?")


class EntryKind(StrEnum):
    """What the hub pre-accounted: decides the default TYPE PIECE."""

    PURCHASE = "purchase"
    SALE = "sale"
    EXPENSE_REPORT = "expense_report"
    BANK_TRANSACTION = "bank_transaction"


def _problem(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _amount(value: object) -> Decimal:
    try:
        return parse_amount(value)
    except AmountError as exc:
        raise _problem(exc.code, exc.message) from None


def _iso_date(value: object) -> date:
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise _problem("DATE_INVALID", f"{value} is not a calendar date") from None
    else:
        raise _problem("DATE_INVALID", "must be an ISO date such as 2026-11-20")
    if parsed < _MIN_DATE:
        raise _problem("DATE_INVALID", "must be after 1 January 1900")
    return parsed


def _optional_iso_date(value: object) -> date | None:
    return None if value is None or value == "" else _iso_date(value)


def _entry_id(value: str) -> str:
    if not _ENTRY_ID.fullmatch(value):
        raise _problem("ENTRY_ID_INVALID", "must be 1 to 64 characters among letters, digits and . _ : -")
    return value


def _journal(value: str) -> str:
    value = value.strip()
    if not value:
        raise _problem("JOURNAL_REQUIRED", "the journal code is required")
    if len(value) > JOURNAL_WIDTH:
        raise _problem(
            "JOURNAL_TOO_LONG",
            f"journal code {value!r} has more than {JOURNAL_WIDTH} characters: TRA cannot hold it "
            "(use the MyUnisoft journal code)",
        )
    if not _CODE.fullmatch(value):
        raise _problem("JOURNAL_INVALID", f"journal code {value!r} must hold only letters and digits")
    return value


def _account(value: str) -> str:
    value = value.strip()
    if len(value) > ACCOUNT_WIDTH:
        raise _problem(
            "ACCOUNT_TOO_LONG",
            f"account {value!r} has more than {ACCOUNT_WIDTH} characters: TRA cannot hold it",
        )
    if not _ACCOUNT.fullmatch(value):
        raise _problem(
            "ACCOUNT_INVALID",
            f"account {value!r} must start with a digit and hold only letters and digits",
        )
    return value


def _optional_text(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _payment_mode(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > 3 or not _CODE.fullmatch(value):
        raise _problem(
            "PAYMENT_MODE_INVALID",
            f"payment mode {value!r} must be a code of at most 3 letters (CB, CHQ, VIR...)",
        )
    return value


def _piece_type(value: str | None) -> str | None:
    if value is None:
        return None
    if value not in PIECE_TYPES:
        raise _problem(
            "PIECE_TYPE_INVALID",
            f"piece type {value!r} is not one of {', '.join(sorted(PIECE_TYPES))}",
        )
    return value


def _currency(value: str) -> str:
    if value != "EUR":
        raise _problem("CURRENCY_UNSUPPORTED", f"currency {value!r} is not supported yet: only EUR entries")
    return value


Amount = Annotated[Decimal, BeforeValidator(_amount)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
OptionalIsoDate = Annotated[date | None, BeforeValidator(_optional_iso_date)]


def _compact_upper(value: object) -> object:
    """IBANs and BICs are written with spaces for people; MyUnisoft stores them without."""
    return value.replace(" ", "").upper() if isinstance(value, str) else value


def _matching(pattern: re.Pattern[str], code: str, message: str) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is not None and not pattern.fullmatch(value):
            raise _problem(code, message)
        return value

    return AfterValidator(check)


def _third_party_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= 100:
        raise _problem("THIRD_PARTY_NAME_INVALID", "the third party's name must be 1 to 100 characters")
    return text


class ThirdParty(BaseModel):
    """Who a subsidiary account is, used only when the bridge creates that account in MyUnisoft.

    Business rule (docs/architecture.md §3.1): the name becomes the new account's label; the
    other details are MyUnisoft's optional "complementary information". It is never written to
    the TRA file and is ignored when the account already exists.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, BeforeValidator(_third_party_name)]
    siren: Annotated[OptionalText, _matching(_SIREN, "SIREN_INVALID", "a SIREN is exactly 9 digits")] = None
    # The pattern bounds the address to 254 characters (64 before the @, 189 after).
    email: Annotated[
        OptionalText,
        _matching(_EMAIL, "EMAIL_INVALID", "must be an e-mail address such as compta@example.fr"),
    ] = None
    iban: Annotated[
        str | None,
        BeforeValidator(_compact_upper),
        _matching(_IBAN, "IBAN_INVALID", "must be an IBAN such as FR76 3000 6000 0112 3456 7890 189"),
    ] = None
    bic: Annotated[
        str | None,
        BeforeValidator(_compact_upper),
        _matching(_BIC, "BIC_INVALID", "must be a BIC of 8 or 11 letters and digits"),
    ] = None


class EntryLine(BaseModel):
    """One line of an entry: an account and exactly one non-zero side."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: Annotated[str, AfterValidator(_account)]
    subsidiary: OptionalText = None
    label: OptionalText = None
    debit: Amount = Decimal("0.00")
    credit: Amount = Decimal("0.00")
    # Left out of the stored and queued body when absent, so entries without one keep their shape.
    third_party: Annotated[ThirdParty | None, Field(exclude_if=lambda value: value is None)] = None

    @model_validator(mode="after")
    def _one_side_and_subsidiary(self) -> EntryLine:
        if (self.debit == 0) == (self.credit == 0):
            raise _problem(
                "LINE_SIDES",
                "exactly one of debit and credit must be non-zero on each line",
            )
        if self.subsidiary is not None:
            if account_root(self.account) not in SUBSIDIARY_ROOTS:
                raise _problem(
                    "SUBSIDIARY_NOT_ALLOWED",
                    f"account {self.account} takes no subsidiary: only 401, 411, 421 and 467 "
                    "accounts have subsidiary accounts",
                )
            if not _SUBSIDIARY.fullmatch(self.subsidiary):
                raise _problem(
                    "SUBSIDIARY_INVALID",
                    f"subsidiary {self.subsidiary!r} must hold only letters, digits and . _ - / & +",
                )
        code = self.subsidiary_code
        if code is not None and len(code) > ACCOUNT_WIDTH:
            raise _problem(
                "SUBSIDIARY_TOO_LONG",
                f"subsidiary code {code!r} has more than {ACCOUNT_WIDTH} characters: TRA cannot hold it",
            )
        if self.third_party is not None and code is None:
            raise _problem(
                "THIRD_PARTY_NOT_ALLOWED",
                f"account {self.account} is not a subsidiary account: a third party describes only "
                "a supplier, customer, employee or partner account",
            )
        return self

    @property
    def is_subsidiary(self) -> bool:
        """Whether MyUnisoft treats this line as a subsidiary line (docs/architecture.md §3.2 rule 2)."""
        return is_subsidiary_account(self.account, self.subsidiary)

    @property
    def subsidiary_code(self) -> str | None:
        """The full subsidiary code (``401EDF``), or ``None`` on a general line."""
        if not self.is_subsidiary:
            return None
        return subsidiary_code(self.account, self.subsidiary)

    @property
    def direction(self) -> Literal["D", "C"]:
        """``D`` for a debit line, ``C`` for a credit line."""
        return "D" if self.debit else "C"

    @property
    def amount(self) -> Decimal:
        """The line's non-zero amount (always positive; the side is ``direction``)."""
        return self.debit or self.credit


class Attachment(BaseModel):
    """A supporting document: a local ``path`` (CLI, tests) or an ``s3_key`` (the service)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    filename: Annotated[str, Field(min_length=1, max_length=255)]
    path: OptionalText = None
    s3_key: OptionalText = None
    content_type: OptionalText = None

    @model_validator(mode="after")
    def _one_source(self) -> Attachment:
        if (self.path is None) == (self.s3_key is None):
            raise _problem("ATTACHMENT_SOURCE", "an attachment needs exactly one of path and s3_key")
        return self


class Entry(BaseModel):
    """One balanced accounting entry, ready to be rendered as TRA movement lines."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry_id: Annotated[str, AfterValidator(_entry_id)]
    version: Annotated[int, Field(ge=1, strict=True)] = 1
    kind: EntryKind
    journal: Annotated[str, AfterValidator(_journal)]
    date: IsoDate
    reference: OptionalText = None
    label: OptionalText = None
    due_date: OptionalIsoDate = None
    payment_mode: Annotated[OptionalText, AfterValidator(_payment_mode)] = None
    piece_type: Annotated[OptionalText, AfterValidator(_piece_type)] = None
    currency: Annotated[str, AfterValidator(_currency)] = "EUR"
    lines: Annotated[list[EntryLine], Field(min_length=2)]
    attachments: list[Attachment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _balanced(self) -> Entry:
        debit = sum((line.debit for line in self.lines), Decimal("0.00"))
        credit = sum((line.credit for line in self.lines), Decimal("0.00"))
        if debit != credit:
            raise _problem(
                "UNBALANCED",
                f"total debit {debit} differs from total credit {credit}: the entry must balance",
            )
        return self

    @property
    def effective_piece_type(self) -> str:
        """TYPE PIECE: ``piece_type`` when given, else the default of docs/architecture.md §3.1.

        Business rule: purchase ``FF`` (``AF`` when the first 401 line is a debit), sale
        ``FC`` (``AC`` when the first 411 line is a credit), expense report ``OD``, bank
        transaction ``RF`` with a 401 line, ``RC`` with a 411 line, else ``OD``.
        """
        if self.piece_type:
            return self.piece_type
        kind = self.kind
        if kind is EntryKind.PURCHASE:
            supplier = next((ln for ln in self.lines if ln.account.startswith("401")), None)
            return "AF" if supplier is not None and supplier.debit else "FF"
        if kind is EntryKind.SALE:
            customer = next((ln for ln in self.lines if ln.account.startswith("411")), None)
            return "AC" if customer is not None and customer.credit else "FC"
        if kind is EntryKind.BANK_TRANSACTION:
            roots = {line.account[:3] for line in self.lines}
            if "401" in roots:
                return "RF"
            if "411" in roots:
                return "RC"
        return "OD"

    @property
    def total(self) -> Decimal:
        """The entry's total (debit side = credit side)."""
        return sum((line.debit for line in self.lines), Decimal("0.00"))


# --- parsing at the boundary -------------------------------------------------------------------

_BUILTIN_CODES = {
    "missing": ("FIELD_REQUIRED", "is required"),
    "extra_forbidden": ("FIELD_UNKNOWN", "is not a field of an entry"),
    "too_short": ("TOO_FEW_ITEMS", None),
    "literal_error": ("VALUE_INVALID", None),
    "enum": ("KIND_INVALID", "must be one of purchase, sale, expense_report, bank_transaction"),
    "greater_than_equal": ("VALUE_TOO_SMALL", None),
}


def decode_json(data: bytes | str) -> Any:
    """Decode JSON with every number kept exact (``Decimal``), never through a binary float."""
    return json.loads(data, parse_float=Decimal)


def _problem_from_error(error: Any, entry_id: str | None, entry_index: int | None) -> EntryProblem:
    loc = list(error["loc"])
    line: int | None = None
    field: str | None = None
    if len(loc) >= 2 and loc[0] in {"lines", "attachments"} and isinstance(loc[1], int):
        if loc[0] == "lines":
            line = loc[1] + 1
            field = ".".join(str(p) for p in loc[2:]) or None
        else:
            field = f"attachments[{loc[1] + 1}]" + "".join(f".{p}" for p in loc[2:])
    elif loc:
        field = ".".join(str(p) for p in loc)
    kind = error["type"]
    if kind in _BUILTIN_CODES:
        code, message = _BUILTIN_CODES[kind]
        if kind == "too_short" and field == "lines":
            code, message = "TOO_FEW_LINES", "an entry needs at least 2 lines"
        message = message or error["msg"]
    elif kind.isupper():
        code, message = kind, error["msg"]
    else:
        code, message = "FIELD_INVALID", error["msg"]
    return EntryProblem(
        code=code,
        message=message,
        entry_id=entry_id,
        entry_index=entry_index,
        line=line,
        field=field,
    )


def validate_entry(raw: object, index: int | None = None) -> tuple[Entry | None, list[EntryProblem]]:
    """Validate one raw entry (a dict decoded with ``decode_json``).

    Returns the entry and no problem, or ``None`` and every problem found.
    """
    entry_id = raw.get("entry_id") if isinstance(raw, dict) else None
    shown_id = entry_id if isinstance(entry_id, str) and _ENTRY_ID.fullmatch(entry_id) else None
    if not isinstance(raw, dict):
        return None, [
            EntryProblem(
                code="ENTRY_NOT_OBJECT",
                message="an entry must be a JSON object",
                entry_index=index,
            )
        ]
    try:
        return Entry.model_validate(raw), []
    except ValidationError as exc:
        return None, [_problem_from_error(err, shown_id, index) for err in exc.errors()]


def parse_entries(raw: object) -> tuple[list[Entry], list[EntryProblem]]:
    """Validate one entry or a list of entries (docs/architecture.md §3.1).

    Every entry is checked and every problem is returned, so the hub can fix them all at once.
    Two entries with the same ``entry_id`` and ``version`` in one input are a problem too.
    """
    items: Iterable[object] = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and not raw:
        return [], [EntryProblem(code="NO_ENTRIES", message="the input holds no entry")]
    entries: list[Entry] = []
    problems: list[EntryProblem] = []
    seen: set[tuple[str, int]] = set()
    for index, item in enumerate(items):
        entry, found = validate_entry(item, index if isinstance(raw, list) else None)
        problems.extend(found)
        if entry is None:
            continue
        key = (entry.entry_id, entry.version)
        if key in seen:
            problems.append(
                EntryProblem(
                    code="ENTRY_DUPLICATED",
                    message=f"entry {entry.entry_id} version {entry.version} appears twice",
                    entry_id=entry.entry_id,
                    entry_index=index,
                )
            )
            continue
        seen.add(key)
        entries.append(entry)
    return entries, problems
