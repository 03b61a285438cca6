"""The TRA writer: validated entries in, Windows-1252 (or UTF-8) bytes out.

Layout (docs/architecture.md §3.3; ``tra-format.md`` §2, §4, §5; Cegid spec v011 pp. 9-10, 39-46, 49):

- a journal header ``***S5EXPJRL`` + ``STD`` (or ``ETE``), version ``011``, sous-version ``001``;
- one movement line per entry line, 222 characters (``STD``) or 1023 (``ETE``, through
  ETATLETTRAGE, with every mandatory #1 field filled);
- one ``G`` line per attachment after its entry's lines, naming the file at the zip root;
- CRLF after every line, nothing taken from the wall clock: identical input, identical bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from tra_core.domain.entry import Entry
from tra_core.domain.errors import Notice
from tra_core.domain.rules import (
    DEFAULT_COLLECTIVES,
    REFERENCE_WIDTH,
    collective_account,
    fit_label,
    is_subsidiary_account,
    subsidiary_code,
)
from tra_core.domain.text import fit_encoding
from tra_core.tra.archive import DEFAULT_TRA_NAME, plan_attachment_names
from tra_core.tra.layout import NO_DATE

TraFormat = Literal["STD", "ETE"]
TraEncoding = Literal["cp1252", "utf-8"]

# JOURNAL DATE TYPE GENERAL TC AUX REF LABEL MODE DUE SENS AMOUNT, TYPE ECRITURE N, PIECE, then
# DEVISE and TAUXDEV blank, CODEMONTANT E--, MONTANT2/3, ETABLISSEMENT, AXE, NUMECHE blank.
_MOVEMENT = "%-3s%s%-2s%-17s%s%-17s%-35s%-35s%-3s%s%s%20sN%8s" + " " * 13 + "E--" + " " * 47
_GED = "%-3s%s%-2s%-17sG%-17s%-35s%s"


# Characters Windows-1252 cannot hold: everything outside ASCII and its 123 other characters.
_CP1252_EXTRA = bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")
_NOT_CP1252 = re.compile("[^\x00-\x7f" + re.escape(_CP1252_EXTRA) + "]")


def _encode(text: str, encoding: TraEncoding) -> bytes:
    """Encode the finished file. For cp1252, latin-1 gives the same bytes for every character
    both hold (all but U+0080-U+009F, control characters the writer never emits) and is a
    plain copy, where the cp1252 codec maps each character: try it first."""
    if encoding == "cp1252":
        try:
            return text.encode("latin-1")
        except UnicodeEncodeError:
            pass
    return text.encode(encoding)


@dataclass(frozen=True, slots=True)
class HeaderInfo:
    """Optional header fields. All default to blank, so the output never depends on the clock."""

    origin: Literal["EXP", "CLI"] = "EXP"
    firm_number: str = ""
    created_at: datetime | None = None
    user: str = ""
    company_name: str = ""


BATCH_TAG_WIDTH = 35
"""A batch tag fills the header's UTILISATEUR field (column 54, 35 characters)."""

_BATCH_TAG = re.compile(rf"[A-Za-z0-9._:-]{{1,{BATCH_TAG_WIDTH}}}")


def check_batch_tag(tag: str) -> str:
    """Return ``tag`` when it can be a batch tag, else raise ``ValueError``.

    A tag is 1-35 characters of ``A-Z a-z 0-9 . _ : -``: it is written as is (never cut, never
    transliterated), so two different tags always give two different files.
    """
    if not _BATCH_TAG.fullmatch(tag):
        raise ValueError(f"batch tag {tag!r} must be 1-{BATCH_TAG_WIDTH} characters of A-Z a-z 0-9 . _ : -")
    return tag


@dataclass(frozen=True, slots=True)
class TraOptions:
    """How to render entries.

    ``collectives`` maps a subsidiary root (``401``) to the collective account written in
    GENERAL; a client file may configure its own. ``creation_date`` is the ETE DATECREATION
    (the spec's "system date"); by default each entry's own date, to stay deterministic. The VAT
    codes fill the ETE #1 fields the spec marks mandatory for invoices (REGIMETVA, TVA, TPF: "same
    codification as CODE (REG)").

    ``batch_tag`` (the upload batch's id) is written in the header's UTILISATEUR field, so two
    batches of identical entries never share an MD5 while a batch re-rendered with its own tag
    gives the same bytes (assumption T16 of docs/myunisoft-assumptions.md). It replaces
    ``header.user``; setting both is an error. ``None`` (the default) leaves the file as before.
    """

    format: TraFormat = "STD"
    encoding: TraEncoding = "cp1252"
    collectives: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_COLLECTIVES))
    header: HeaderInfo = field(default_factory=HeaderInfo)
    creation_date: date | None = None
    vat_on_receipts: bool = False
    vat_regime: str = "FRA"
    vat_code: str = "FRA"
    parafiscal_code: str = "FRA"
    tra_name: str = DEFAULT_TRA_NAME
    batch_tag: str | None = None

    def __post_init__(self) -> None:
        if self.batch_tag is not None:
            check_batch_tag(self.batch_tag)
            if self.header.user:
                raise ValueError("a batch tag takes the header's user field: give one or the other")


@dataclass(frozen=True, slots=True)
class RenderedTra:
    """A rendered TRA file: its text, its encoded bytes, the warnings and the attachment plan.

    ``attachment_names[i][j]`` is the name at the zip root of attachment ``j`` of entry ``i``,
    the name its ``G`` line carries.
    """

    text: str
    data: bytes
    notices: tuple[Notice, ...]
    attachment_names: tuple[tuple[str, ...], ...]
    encoding: TraEncoding


def _ddmmyyyy(day: date) -> str:
    return f"{day.day:02d}{day.month:02d}{day.year:04d}"


def render_header(options: TraOptions) -> str:
    """The ``***`` journal header (``tra-format.md`` §2), 149 characters.

    UTILISATEUR (column 54) holds the batch tag when there is one, else ``header.user``.
    """
    info = options.header
    stamp = info.created_at.strftime("%d%m%Y%H%M") if info.created_at else ""
    user = options.batch_tag or fit_encoding(info.user, options.encoding)[:35]
    company = fit_encoding(info.company_name, options.encoding)[:35]
    return (
        f"***S5{info.origin}JRL{options.format}   {NO_DATE}{NO_DATE}011"
        f"{info.firm_number[:5]:<5}{stamp:<12}{user:<35}{company:<35}"
        f"-   {'':6}{'':3}{NO_DATE}001--"
    )


class _Renderer:
    """Renders entries line by line; holds the per-file state (notices, memo tables).

    The memo tables exist for speed: a file repeats the same dates, accounts and labels on many
    lines, and the writer must keep up with a bare ``%``-format (docs/benchmarks.md).
    """

    def __init__(self, options: TraOptions):
        self.options = options
        self.encoding = options.encoding
        self.collectives = options.collectives
        self.notices: list[Notice] = []
        self.lines: list[str] = []
        self._dates: dict[date, str] = {}
        self._placements: dict[tuple[str, str | None], tuple[str, str, str]] = {}

    def _date(self, day: date) -> str:
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = _ddmmyyyy(day)
        return text

    def _placement(self, account: str, subsidiary: str | None) -> tuple[str, str, str]:
        """(GENERAL, TYPE CPTE, AUXILIAIRE) of a line, after MyUnisoft's rules (docs/architecture.md §3.2)."""
        key = (account, subsidiary)
        placement = self._placements.get(key)
        if placement is None:
            if is_subsidiary_account(account, subsidiary):
                code = subsidiary_code(account, subsidiary)
                placement = (collective_account(account, self.collectives), "X", code)
            else:
                placement = (account, " ", "")
            self._placements[key] = placement
        return placement

    def _text(self, text: str | None, entry_id: str, line: int | None, field_name: str) -> str:
        if not text:
            return ""
        fits = len(text) <= REFERENCE_WIDTH and text.isprintable() and text[0] != " " and text[-1] != " "
        if fits and (text.isascii() or self.encoding == "utf-8" or not _NOT_CP1252.search(text)):
            return text
        result, notices = fit_label(
            text, encoding=self.encoding, entry_id=entry_id, line=line, field=field_name
        )
        self.notices.extend(notices)
        return result

    def _ete_block(self, entry: Entry, lettrable: bool) -> str:
        options = self.options
        created = options.creation_date or entry.date
        return (
            f"{entry.entry_id[:35]:<35}{self._date(entry.date)}{self._date(created)}"
            f"{'':3}{'':17}{NO_DATE}N  "
            + " " * 81
            + ("X" if options.vat_on_receipts else "-")
            + f"{options.vat_regime[:3]:<3}{options.vat_code[:3]:<3}{options.parafiscal_code[:3]:<3}"
            + " " * 625
            + ("AL " if lettrable else "RI ")
        )

    def render_entry(self, entry: Entry, piece: int, names: Sequence[str]) -> None:
        entry_id = entry.entry_id
        journal = entry.journal
        ete = self.options.format == "ETE"
        day = self._date(entry.date)
        piece_type = entry.effective_piece_type
        reference = self._text(entry.reference, entry_id, None, "reference")
        entry_label = self._text(entry.label, entry_id, None, "label")
        due = self._date(entry.due_date) if entry.due_date else NO_DATE
        mode = entry.payment_mode or ""
        piece_text = str(piece)
        first_x: tuple[str, str] | None = None
        append = self.lines.append
        placement = self._placement
        for number, line in enumerate(entry.lines, start=1):
            general, account_type, auxiliary = placement(line.account, line.subsidiary)
            subsidiary_line = account_type == "X"
            if subsidiary_line and first_x is None:
                first_x = (general, auxiliary)
            label = self._text(line.label, entry_id, number, "label") if line.label else entry_label
            debit = line.debit
            text = _MOVEMENT % (
                journal,
                day,
                piece_type,
                general,
                account_type,
                auxiliary,
                reference,
                label,
                mode,
                due if subsidiary_line else NO_DATE,
                "D" if debit else "C",
                str(debit or line.credit).replace(".", ","),
                piece_text,
            )
            append(text + self._ete_block(entry, subsidiary_line) if ete else text)
        if names:
            general, auxiliary = first_x or (entry.lines[0].account, "")
            for name in names:
                append(_GED % (journal, day, piece_type, general, auxiliary, reference, name))


def render_tra(entries: Sequence[Entry], options: TraOptions | None = None) -> RenderedTra:
    """Render validated entries as one TRA journal file (docs/architecture.md §3.3).

    Entries are numbered 1, 2, ... in NUMEROPIECE, in the given order. Returns the text, the
    encoded bytes (no BOM), the warnings (labels cut to 35 characters, transliterated text) and
    the names of the attachments at the archive root. Pure: the same input gives the same bytes.
    """
    options = options or TraOptions()
    names = plan_attachment_names(entries, reserved=(options.tra_name,))
    renderer = _Renderer(options)
    renderer.lines.append(render_header(options))
    for piece, (entry, entry_names) in enumerate(zip(entries, names, strict=True), start=1):
        renderer.render_entry(entry, piece, entry_names)
    text = "\r\n".join(renderer.lines) + "\r\n"
    return RenderedTra(
        text=text,
        data=_encode(text, options.encoding),
        notices=tuple(renderer.notices),
        attachment_names=tuple(tuple(n) for n in names),
        encoding=options.encoding,
    )
