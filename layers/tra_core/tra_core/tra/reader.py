"""The TRA reader: any TRA journal file in, trimmed fields out; never raises on content.

Reading rules (docs/architecture.md §3.3; ``tra-format.md`` §1, §5bis): lines end in CRLF or LF (a missing
final newline is fine); the text is UTF-8 when it decodes as such, else Windows-1252 (a BOM is
dropped); every field is trimmed, because writers disagree on alignment; a line shorter than
its record reads its missing trailing columns as blanks (real files stop G lines after the file
name, headers after SO_READYGUID).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Literal, NamedTuple

from tra_core.tra.layout import HEADER_FIELDS, MAX_LINE_WIDTH, NO_DATE

Encoding = Literal["utf-8", "cp1252"]

_DATES: dict[str, date | None] = {}
_new_line = tuple.__new__
_C1_BYTES = bytes(range(0x80, 0xA0))
_ACCOUNT_TYPE = itemgetter(5)  # TraLine.account_type, read at C speed
# Fields that are blank on most lines are tested in place (no new string) before slicing.
_BLANK17, _BLANK3 = " " * 17, " " * 3
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


class TraLine(NamedTuple):
    """A movement line or a ``G`` (document) line, every field trimmed.

    Raw texts are kept (``date_text``, ``amount_text``...) so the linter can point at bad values;
    ``accounting_date``, ``due`` and ``amount`` are the typed views (``None`` when blank or bad).
    A ``NamedTuple`` rather than a dataclass: the reader builds one per line, and tuples are the
    cheapest records Python can build (see ``docs/benchmarks.md``).
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
    amount_code: str
    document: str

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
        """The JSON view printed by ``tra parse`` (docs/architecture.md §3.3)."""
        accounting_date = self.accounting_date
        due = self.due
        amount = self.amount
        document = self.is_document
        return {
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
    if data.isascii():
        return data.decode("ascii"), "utf-8", had_bom, False
    try:
        as_utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    if as_utf8 is not None and had_bom:
        return as_utf8, "utf-8", had_bom, False
    if len(data.translate(None, _C1_BYTES)) == len(data):
        # Without bytes 0x80-0x9F, cp1252 and latin-1 decode alike, and latin-1 is a plain copy.
        as_cp1252 = data.decode("latin-1")
    else:
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
    line_feeds = text.count("\n")
    lines = text.split("\r\n")
    if len(lines) - 1 != line_feeds or text.count("\r") != line_feeds:
        # Not every line ends in CRLF: the general (slower) way.
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


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


def _movement(number: int, raw: str) -> TraLine:
    # Slices rather than a regex: measurably faster for 16 fields (docs/benchmarks.md).
    return _new_line(
        TraLine,
        (
            number, raw[0:3].strip(), raw[3:11].strip(), raw[11:13].strip(), raw[13:30].strip(),
            raw[30:31].strip(), raw[31:48].strip(), raw[48:83].strip(), raw[83:118].strip(),
            raw[118:121].strip(), raw[121:129].strip(), raw[129:130].strip(), raw[130:150].strip(),
            raw[150:151].strip(), raw[151:159].strip(), raw[159:162].strip(), raw[172:175].strip(), "",
        ),
    )  # fmt: skip


def _document(line: TraLine, raw: str) -> TraLine:
    """A ``G`` line: the document name at column 84 and no amount columns (spec p. 49)."""
    return line._replace(
        label="", payment_mode="", due_text="", direction="", amount_text="", entry_type="",
        piece_number="", currency="", amount_code="", document=raw[83:338].strip(),
    )  # fmt: skip


def parse_line(number: int, raw: str) -> TraLine:
    """Slice one movement or ``G`` line into trimmed fields (missing columns read as blanks)."""
    line = _movement(number, raw)
    return _document(line, raw) if line.account_type == "G" else line


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while building many small acyclic records.

    A TRA file of 100,000 lines makes 1.7 million strings; with the collector running, half the
    reading time goes to collection passes that cannot free anything (docs/benchmarks.md).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_tra(data: bytes) -> TraFile:
    """Read a TRA journal file (docs/architecture.md §3.3). Never raises on content: the linter judges it.

    The first line is the header when it starts with ``***`` and a product or origin code;
    other ``***`` lines are parameter records; blank lines are skipped; everything else is a
    movement or ``G`` line. Lines longer than 1407 characters are read up to column 1407.
    """
    with _no_gc_pauses():
        text, encoding, had_bom, undecodable = decode_tra(data)
        raw_lines = split_lines(text)
        result = TraFile(encoding=encoding, raw_lines=raw_lines, had_bom=had_bom, undecodable=undecodable)
        first = 0
        if raw_lines and raw_lines[0].startswith("***"):
            head = raw_lines[0]
            if head[3:5] in HEADER_PRODUCTS or head[5:8] in {"CLI", "EXP"}:
                result.header = _header(1, head)
            else:
                result.records.append(TraRecord(1, head[3:6].strip(), head))
            first = 1
        longest = max(map(len, raw_lines), default=0)
        if text.find("***", len(raw_lines[0]) if raw_lines else 0) >= 0 or longest > MAX_LINE_WIDTH:
            lines = _read_mixed(result, raw_lines, first)
        else:
            lines = _read_plain(raw_lines, first)
        account_types = list(map(_ACCOUNT_TYPE, lines))
        if "G" in account_types:
            for index in [i for i, kind in enumerate(account_types) if kind == "G"]:
                line = lines[index]
                lines[index] = _document(line, raw_lines[line.number - 1])
        result.lines = lines
    return result


def _read_plain(raw_lines: list[str], first: int) -> list[TraLine]:
    """The common case: movement lines only after the header. One expression per line, inlined,
    because this loop is the reader's whole cost (docs/benchmarks.md)."""
    new, cls = _new_line, TraLine
    return [
        new(cls, (
            number, raw[0:3].strip(), raw[3:11].strip(), raw[11:13].strip(), raw[13:30].strip(),
            raw[30:31].strip(),
            "" if raw.startswith(_BLANK17, 31) else raw[31:48].strip(),
            raw[48:83].strip(), raw[83:118].strip(),
            "" if raw.startswith(_BLANK3, 118) else raw[118:121].strip(),
            raw[121:129].strip(), raw[129:130].strip(), raw[130:150].strip(),
            raw[150:151].strip(), raw[151:159].strip(),
            "" if raw.startswith(_BLANK3, 159) else raw[159:162].strip(),
            raw[172:175].strip(), "",
        ))
        for number, raw in zip(range(first + 1, len(raw_lines) + 1), raw_lines[first:], strict=True)
        if raw and (raw[0] != " " or raw.strip())
    ]  # fmt: skip


def _read_mixed(result: TraFile, raw_lines: list[str], first: int) -> list[TraLine]:
    """The general case: parameter records between or among the movement lines."""
    lines: list[TraLine] = []
    for number, raw in enumerate(raw_lines[first:], start=first + 1):
        if raw.startswith("***"):
            result.records.append(TraRecord(number, raw[3:6].strip(), raw))
        elif raw.strip():
            lines.append(_movement(number, raw[:MAX_LINE_WIDTH]))
    return lines
