"""The TRA reader: any TRA journal file in, trimmed fields out; never raises on content.

Reading rules (CONTRACTS §4; ``tra-format.md`` §1, §5bis): lines end in CRLF or LF (a missing
final newline is fine); the text is UTF-8 when it decodes as such, else Windows-1252 (a BOM is
dropped); every field is trimmed, because writers disagree on alignment; a line shorter than
its record reads its missing trailing columns as blanks (real files stop G lines after the file
name, headers after SO_READYGUID).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from tra_core.tra.layout import HEADER_FIELDS, MAX_LINE_WIDTH, MOVEMENT_WIDTH, NO_DATE

Encoding = Literal["utf-8", "cp1252"]

# One group per movement field (tra-format.md §4.1); applied to a line padded to 222 columns.
_MOVEMENT_RE = re.compile(
    r"(.{3})(.{8})(.{2})(.{17})(.)(.{17})(.{35})(.{35})(.{3})(.{8})(.)(.{20})(.)(.{8})(.{3})(.{10})(.{3})",
    re.DOTALL,
)
_DATES: dict[str, date | None] = {}
HEADER_PRODUCTS = frozenset({"S1", "S3", "S5", "SI", "QU", "WS", "WT"})


def parse_tra_date(text: str) -> date | None:
    """``JJMMAAAA`` → a date; blank, ``01011900`` or an impossible date → ``None``."""
    if text in _DATES:
        return _DATES[text]
    value: date | None = None
    if len(text) == 8 and text.isdigit() and text != NO_DATE:
        try:
            value = date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            value = None
    if len(_DATES) < 100_000:
        _DATES[text] = value
    return value


def parse_tra_amount(text: str) -> Decimal | None:
    """A TRA amount (``120,00``, decimal comma) → ``Decimal``; anything else → ``None``."""
    if not text:
        return None
    candidate = text.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", candidate):
        return None
    try:
        return Decimal(candidate)
    except InvalidOperation:  # pragma: no cover - the pattern above already excludes it
        return None


@dataclass(frozen=True, slots=True)
class TraHeader:
    """The ``***`` header record, fields trimmed (``tra-format.md`` §2)."""

    number: int
    raw: str
    product: str
    origin: str
    file_type: str
    format: str
    version: str
    sub_version: str
    firm_number: str
    created_at: str
    user: str
    company_name: str
    new_analytics: str
    ready_guid: str

    def as_dict(self) -> dict[str, object]:
        """The JSON view printed by ``tra parse``."""
        return {
            "product": self.product,
            "origin": self.origin,
            "file_type": self.file_type,
            "format": self.format,
            "version": self.version,
            "sub_version": self.sub_version,
            "firm_number": self.firm_number,
            "created_at": self.created_at,
            "user": self.user,
            "company_name": self.company_name,
            "new_analytics": self.new_analytics,
            "ready_guid": self.ready_guid,
        }


@dataclass(frozen=True, slots=True)
class TraLine:
    """A movement line or a ``G`` (document) line, every field trimmed.

    Raw texts are kept (``date_text``, ``amount_text``...) so the linter can point at bad values;
    ``accounting_date``, ``due`` and ``amount`` are the typed views (``None`` when blank or bad).
    """

    number: int
    journal: str
    date_text: str
    piece_type: str
    general: str
    account_type: str
    auxiliary: str
    reference: str
    label: str
    payment_mode: str
    due_text: str
    direction: str
    amount_text: str
    entry_type: str
    piece_number: str
    currency: str
    exchange_rate: str
    amount_code: str
    document: str
    width: int

    @property
    def is_document(self) -> bool:
        """Whether this is a ``G`` line (a document attached to the entry above it)."""
        return self.account_type == "G"

    @property
    def accounting_date(self) -> date | None:
        """DATECOMPTABLE as a date."""
        return parse_tra_date(self.date_text)

    @property
    def due(self) -> date | None:
        """ECHEANCE as a date (``None`` for blank or ``01011900``)."""
        return parse_tra_date(self.due_text)

    @property
    def amount(self) -> Decimal | None:
        """MONTANT1 as an exact decimal."""
        return parse_tra_amount(self.amount_text)

    def as_dict(self) -> dict[str, object]:
        """The JSON view printed by ``tra parse`` (CONTRACTS §4)."""
        accounting_date = self.accounting_date
        due = self.due
        amount = self.amount
        document = self.is_document
        return {
            "line": self.number,
            "journal": self.journal,
            "date": accounting_date.isoformat() if accounting_date else self.date_text,
            "piece_type": self.piece_type,
            "general": self.general,
            "account_type": self.account_type,
            "auxiliary": self.auxiliary,
            "reference": self.reference,
            "label": "" if document else self.label,
            "payment_mode": self.payment_mode,
            "due_date": due.isoformat() if due else None,
            "direction": "" if document else self.direction,
            "amount": "" if document else (f"{amount}" if amount is not None else self.amount_text),
            "entry_type": self.entry_type,
            "piece_number": self.piece_number,
            "currency": self.currency,
            "amount_code": self.amount_code,
            "document": self.document,
        }


@dataclass(frozen=True, slots=True)
class TraRecord:
    """A parameter record (``***JAL``, ``***CAE``...), kept as text."""

    number: int
    kind: str
    raw: str


@dataclass(slots=True)
class TraFile:
    """A read TRA file: the header, parameter records and lines, in file order."""

    encoding: Encoding
    header: TraHeader | None = None
    records: list[TraRecord] = field(default_factory=list)
    lines: list[TraLine] = field(default_factory=list)
    raw_lines: list[str] = field(default_factory=list)
    had_bom: bool = False
    undecodable: bool = False

    def as_dict(self) -> dict[str, object]:
        """``{"header": ..., "lines": [...]}`` as printed by ``tra parse``."""
        return {
            "header": self.header.as_dict() if self.header else None,
            "lines": [line.as_dict() for line in self.lines],
        }


def decode_tra(data: bytes) -> tuple[str, Encoding, bool, bool]:
    """Decode TRA bytes: strict UTF-8 first, else Windows-1252 (``tra-format.md`` §5bis).

    Returns ``(text, encoding, had_bom, undecodable)``; bytes that cp1252 leaves undefined are
    replaced (and reported by the linter) rather than raising.
    """
    had_bom = data.startswith(b"\xef\xbb\xbf")
    if had_bom:
        data = data[3:]
    try:
        as_utf8 = data.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    if as_utf8 is not None and (had_bom or as_utf8.isascii()):
        return as_utf8, "utf-8", had_bom, False
    try:
        as_cp1252 = data.decode("cp1252")
    except UnicodeDecodeError:
        if as_utf8 is not None:
            return as_utf8, "utf-8", had_bom, False
        return data.decode("cp1252", errors="replace"), "cp1252", had_bom, True
    if as_utf8 is None:
        return as_cp1252, "cp1252", had_bom, False
    # Some cp1252 text is also valid UTF-8 ("à\xa0¡" = E0 A0 A1): keep the reading that puts
    # the fixed columns where they belong.
    if _column_score(as_cp1252) > _column_score(as_utf8):
        return as_cp1252, "cp1252", had_bom, False
    return as_utf8, "utf-8", had_bom, False


def _column_score(text: str) -> int:
    """How many movement lines have a direction (D/C) at column 130 in this decoding."""
    score = 0
    for line in text.split("\n"):
        if len(line) > 150 and line[30] != "G" and line[129] in "DC" and line[150] in "NSUR":
            score += 1
    return score


def split_lines(text: str) -> list[str]:
    """Split on CRLF or LF; a final newline does not make an extra empty line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _header(number: int, raw: str) -> TraHeader:
    padded = raw.ljust(165)
    values = {name: padded[start : start + width].strip() for name, start, width in HEADER_FIELDS}
    return TraHeader(
        number=number,
        raw=raw,
        product=values["product"],
        origin=values["origin"],
        file_type=values["file_type"],
        format=values["format"],
        version=values["version"],
        sub_version=values["sub_version"],
        firm_number=values["firm_number"],
        created_at=values["created_at"],
        user=values["user"],
        company_name=values["company_name"],
        new_analytics=values["new_analytics"],
        ready_guid=values["ready_guid"],
    )


def parse_line(number: int, raw: str) -> TraLine:
    """Slice one movement or ``G`` line into trimmed fields (missing columns read as blanks)."""
    width = len(raw)
    padded = raw if width >= MOVEMENT_WIDTH else raw.ljust(MOVEMENT_WIDTH)
    match = _MOVEMENT_RE.match(padded)
    if match is None:  # only possible with line separators the regex cannot cross
        padded = padded.replace("\n", " ")
        match = _MOVEMENT_RE.match(padded)
        assert match is not None
    (
        journal,
        day,
        piece_type,
        general,
        account_type,
        auxiliary,
        reference,
        label,
        mode,
        due,
        direction,
        amount,
        entry_type,
        piece,
        currency,
        rate,
        amount_code,
    ) = map(str.strip, match.groups())
    document = ""
    if account_type == "G":
        document = padded[83:338].strip()
        label = mode = due = direction = amount = entry_type = piece = currency = rate = ""
        amount_code = ""
    return TraLine(
        number,
        journal,
        day,
        piece_type,
        general,
        account_type,
        auxiliary,
        reference,
        label,
        mode,
        due,
        direction,
        amount,
        entry_type,
        piece,
        currency,
        rate,
        amount_code,
        document,
        width,
    )


def read_tra(data: bytes) -> TraFile:
    """Read a TRA journal file (CONTRACTS §4). Never raises on content: the linter judges it.

    The first ``***`` line with a product code is the header; other ``***`` lines are parameter
    records; blank lines are skipped; everything else is a movement or ``G`` line. Lines longer
    than 1407 characters are read up to column 1407.
    """
    text, encoding, had_bom, undecodable = decode_tra(data)
    raw_lines = split_lines(text)
    result = TraFile(encoding=encoding, raw_lines=raw_lines, had_bom=had_bom, undecodable=undecodable)
    lines = result.lines
    for number, raw in enumerate(raw_lines, start=1):
        if raw.startswith("***"):
            first = result.header is None and not result.records and not lines
            if first and (raw[3:5] in HEADER_PRODUCTS or raw[5:8] in {"CLI", "EXP"}):
                result.header = _header(number, raw)
            else:
                result.records.append(TraRecord(number, raw[3:6].strip(), raw))
            continue
        if not raw.strip():
            continue
        lines.append(parse_line(number, raw[:MAX_LINE_WIDTH]))
    return result
