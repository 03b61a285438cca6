"""The TRA linter: what would make MyUnisoft or Cegid refuse (or misread) a journal file.

Checks (docs/architecture.md §3.3; ``tra-format.md`` §1-5bis; Cegid spec v011 pp. 2-3, 9-10, 39-41, 49):
columns (record widths, fields that must be blank or filled), dates (``JJMMAAAA``), amounts
(decimal comma, right-aligned, non-negative), codes (TYPE PIECE, TYPE CPTE, SENS, TYPE ECRITURE,
CODEMONTANT), balance per piece (journal + date + NUMEROPIECE, or REFINTERNE when NUMEROPIECE is
blank), the collective account on ``X`` lines and MyUnisoft's rule that a 401/411 account is
always a subsidiary line, and the file order (header first, parameter records before movements,
``G`` lines right after their entry). Never raises on content.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from tra_core.domain.rules import ALWAYS_SUBSIDIARY_ROOTS
from tra_core.tra.layout import (
    ACCOUNT_TYPES,
    COLUMN,
    DOCUMENT_WIDTH,
    ENTRY_TYPES,
    ETE_WIDTH,
    MAX_LINE_WIDTH,
    MOVEMENT_WIDTH,
    NO_DATE,
    PIECE_TYPES,
)
from tra_core.tra.reader import TraFile, TraLine, parse_tra_date, read_tra

_AMOUNT = re.compile(r" *\d{1,17},\d{2}")
_AMOUNT_CODE = re.compile(r"[EDF-]{3}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BALANCED_TYPES = frozenset({"", "X", "H"})


@dataclass(frozen=True, slots=True, order=True)
class LintProblem:
    """One problem, at a 1-based line and column of the file."""

    line: int
    column: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.code} {self.message}"


class _Lint:
    def __init__(self, tra: TraFile):
        self.tra = tra
        self.problems: list[LintProblem] = []
        self.format = tra.header.format if tra.header else "STD"

    def add(self, line: int, column: int, code: str, message: str) -> None:
        self.problems.append(LintProblem(line, column, code, message))

    def file_level(self) -> None:
        tra = self.tra
        if not tra.raw_lines or not any(raw.strip() for raw in tra.raw_lines):
            self.add(1, 1, "EMPTY_FILE", "the file holds no line")
            return
        if tra.undecodable:
            self.add(1, 1, "ENCODING", "the file is neither UTF-8 nor Windows-1252 text")
        header = tra.header
        if header is None:
            self.add(1, 1, "HEADER_MISSING", "the first line must be the '***' journal header")
        else:
            self.header(header.number)
        if not tra.lines:
            self.add(1, 1, "NO_MOVEMENT", "the file holds no movement line")
        first_movement = tra.lines[0].number if tra.lines else None
        for record in tra.records:
            if first_movement is not None and record.number > first_movement:
                self.add(
                    record.number,
                    1,
                    "ORDER",
                    f"parameter record ***{record.kind} must come before every movement line",
                )
        for number, raw in enumerate(tra.raw_lines, start=1):
            match = _CONTROL.search(raw)
            if match:
                self.add(
                    number,
                    match.start() + 1,
                    "CONTROL_CHARACTER",
                    "a control character (tab, CR...) breaks the fixed columns",
                )

    def header(self, number: int) -> None:
        header = self.tra.header
        assert header is not None
        if header.file_type != "JRL":
            self.add(number, 9, "HEADER_TYPE", f"file type {header.file_type!r} is not JRL (journal)")
        if header.format not in {"STD", "ETE"}:
            self.add(number, 12, "HEADER_FORMAT", f"format {header.format!r} is neither STD nor ETE")
        if not (header.version.isdigit() and len(header.version) == 3):
            self.add(number, 34, "HEADER_VERSION", "the version (column 34) must be 3 digits, e.g. 011")
        if len(header.raw) > 165:
            self.add(number, 166, "LINE_TOO_LONG", "the header is longer than 165 characters")

    def movement(self, line: TraLine) -> None:
        number = line.number
        width = len(self.tra.raw_lines[number - 1])
        if width > MAX_LINE_WIDTH:
            self.add(number, MAX_LINE_WIDTH + 1, "LINE_TOO_LONG", "a line holds at most 1407 characters")
        elif self.format == "STD" and width > MOVEMENT_WIDTH and not line.is_document:
            raw = self.tra.raw_lines[number - 1]
            if raw[MOVEMENT_WIDTH:].strip():
                self.add(
                    number,
                    MOVEMENT_WIDTH + 1,
                    "LINE_TOO_LONG",
                    "an STD movement line ends at column 222 (use the ETE format for more)",
                )
        if not line.journal:
            self.add(number, COLUMN["journal"], "JOURNAL_MISSING", "the journal code is blank")
        if line.accounting_date is None:
            self.add(
                number,
                COLUMN["date"],
                "DATE_INVALID",
                f"accounting date {line.date_text!r} is not a JJMMAAAA date",
            )
        if line.piece_type not in PIECE_TYPES:
            self.add(
                number,
                COLUMN["piece_type"],
                "PIECE_TYPE_INVALID",
                f"piece type {line.piece_type!r} is not one of {', '.join(sorted(PIECE_TYPES))}",
            )
        if not line.general:
            self.add(number, COLUMN["general"], "ACCOUNT_MISSING", "the general account is blank")
        if line.account_type not in ACCOUNT_TYPES:
            self.add(
                number,
                COLUMN["account_type"],
                "ACCOUNT_TYPE_INVALID",
                f"account type {line.account_type!r} is not blank, X, A, H, O, G, V or P",
            )
        if line.is_document:
            self.document(line)
            return
        self.subsidiary(line)
        self.values(line)

    def values(self, line: TraLine) -> None:
        number = line.number
        if line.due_text and line.due_text != NO_DATE and line.due is None:
            self.add(
                number,
                COLUMN["due_date"],
                "DATE_INVALID",
                f"due date {line.due_text!r} is not a JJMMAAAA date",
            )
        if line.direction not in {"D", "C"}:
            self.add(
                number,
                COLUMN["direction"],
                "DIRECTION_INVALID",
                f"direction {line.direction!r} must be D or C",
            )
        raw = self.tra.raw_lines[number - 1]
        amount_field = raw[130:150]
        if not _AMOUNT.fullmatch(amount_field):
            self.add(
                number,
                COLUMN["amount"],
                "AMOUNT_INVALID",
                f"amount {amount_field.strip()!r} must be a right-aligned amount such as 120,00",
            )
        if line.entry_type not in ENTRY_TYPES:
            self.add(
                number,
                COLUMN["entry_type"],
                "ENTRY_TYPE_INVALID",
                f"entry type {line.entry_type!r} must be N, S, U or R",
            )
        if line.piece_number and not line.piece_number.isdigit():
            self.add(
                number,
                COLUMN["piece_number"],
                "PIECE_NUMBER_INVALID",
                f"piece number {line.piece_number!r} must be digits",
            )
        if not _AMOUNT_CODE.fullmatch(line.amount_code):
            self.add(
                number,
                COLUMN["amount_code"],
                "AMOUNT_CODE_INVALID",
                f"amount code {line.amount_code!r} must be 3 of E, D, F, - (E-- for euros)",
            )
        elif line.amount_code[0] == "D" and not line.currency:
            self.add(
                number,
                COLUMN["currency"],
                "CURRENCY_MISSING",
                "a foreign-currency line (amount code D..) needs a currency",
            )
        self.extended_fields(number)

    def extended_fields(self, number: int) -> None:
        """An ETE movement line reaches at least ETATLETTRAGE (column 1023)."""
        width = len(self.tra.raw_lines[number - 1])
        if self.format == "ETE" and width < ETE_WIDTH:
            self.add(
                number,
                width + 1,
                "ETE_FIELDS_MISSING",
                "an ETE line must fill the mandatory #1 fields through column 1023",
            )

    def subsidiary(self, line: TraLine) -> None:
        number = line.number
        if line.account_type == "X":
            if not line.auxiliary:
                self.add(
                    number,
                    COLUMN["auxiliary"],
                    "AUXILIARY_MISSING",
                    "an X line needs its subsidiary account code",
                )
            if not line.general.startswith("4"):
                self.add(
                    number,
                    COLUMN["general"],
                    "COLLECTIVE_INVALID",
                    f"account {line.general!r} on an X line must be a collective account (class 4)",
                )
            elif (
                line.auxiliary
                and line.general[:3] in ALWAYS_SUBSIDIARY_ROOTS
                and not (line.auxiliary.startswith(line.general[:3]))
            ):
                self.add(
                    number,
                    COLUMN["auxiliary"],
                    "SUBSIDIARY_PREFIX",
                    f"subsidiary code {line.auxiliary!r} must start with {line.general[:3]}",
                )
        elif line.account_type == "" and line.general[:3] in ALWAYS_SUBSIDIARY_ROOTS:
            self.add(
                number,
                COLUMN["account_type"],
                "SUBSIDIARY_AS_GENERAL",
                f"MyUnisoft reads every {line.general[:3]} account as a subsidiary account: "
                "the line needs type X and a subsidiary code",
            )

    def document(self, line: TraLine) -> None:
        number = line.number
        if not line.document:
            self.add(
                number, COLUMN["document"], "DOCUMENT_MISSING", "a G line names its document at column 84"
            )
        elif len(self.tra.raw_lines[number - 1]) > 83 + DOCUMENT_WIDTH:
            self.add(number, 84 + DOCUMENT_WIDTH, "LINE_TOO_LONG", "a G line ends at column 338")

    def order_and_balance(self) -> None:
        totals: dict[tuple[str, ...], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        first_line: dict[tuple[str, ...], int] = {}
        unreadable: set[tuple[str, ...]] = set()
        previous: TraLine | None = None
        numbered = {bool(line.piece_number.strip("0")) for line in self.tra.lines if not line.is_document}
        if len(numbered) > 1:
            line = next(ln for ln in self.tra.lines if not ln.is_document and not ln.piece_number.strip("0"))
            self.add(
                line.number,
                COLUMN["piece_number"],
                "PIECE_NUMBER_MIXED",
                "piece numbers are all or nothing: blank here but set on other lines",
            )
        for line in self.tra.lines:
            if line.is_document:
                if previous is None or (previous.journal, previous.date_text, previous.piece_type) != (
                    line.journal,
                    line.date_text,
                    line.piece_type,
                ):
                    self.add(
                        line.number,
                        1,
                        "DOCUMENT_ORPHAN",
                        "a G line must follow a line of its entry (same journal, date and piece type)",
                    )
                continue
            previous = line
            if line.account_type not in _BALANCED_TYPES:
                continue
            piece = line.piece_number.strip("0")
            key = (
                (line.journal, line.date_text, "N", piece)
                if piece
                else (line.journal, line.date_text, "R", line.reference)
            )
            amount = line.amount
            if amount is None or line.direction not in {"D", "C"}:
                unreadable.add(key)  # already reported; a balance would only echo it
                continue
            totals[key][0 if line.direction == "D" else 1] += amount
            first_line.setdefault(key, line.number)
        for piece_key, (debit, credit) in totals.items():
            if debit != credit and piece_key not in unreadable:
                self.add(
                    first_line[piece_key],
                    1,
                    "UNBALANCED",
                    f"piece {piece_key[3] or '(no reference)'} of journal {piece_key[0]} on {piece_key[1]}: "
                    f"debit {debit} differs from credit {credit}",
                )


def lint_tra(data: bytes) -> list[LintProblem]:
    """Every problem found in a TRA journal file, sorted by line and column; ``[]`` when valid."""
    tra = read_tra(data)
    lint = _Lint(tra)
    lint.file_level()
    for line in tra.lines:
        lint.movement(line)
    lint.order_and_balance()
    return sorted(set(lint.problems))


__all__ = ["LintProblem", "lint_tra", "parse_tra_date"]
