"""``GET /api/v1/mad/entries``: MyUnisoft's entries export (the "MAD" API), from what was imported.

Every entry an accepted TRA import kept is booked in a :class:`Ledger` with ids that never change
(``producerId`` of the entry, of each movement, and of each document); a refused import, the
entries a partial commit left out and a ``lose`` fault book nothing. The export answers the
dossier's booked entries in a period of at most 12 months (``startDate``/``endDate``) or a fiscal
year (``idExercice``), optionally only some journals (``journalIds``), shaped as MyUnisoft's MAD
specification v1.0.0 (summarised in ``myunisoft-mad-entries.md`` §1 of the design folder).

Choices MyUnisoft does not document (``docs/myunisoft-assumptions.md`` E14–E15): a subsidiary
(``X``) movement shows the full third-party account (``401EDF``), not the collective; REFINTERNE
appears as ``invoiceNumber`` (setting ``mad_reference_field``); the 12 months are counted with
both ends included; a bad query answers ``GBL10`` with a sentence saying what is wrong.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from emulator.errors import ApiError
from emulator.fixtures import DIARY_TYPES, Dossier
from emulator.tra_import import AcceptedEntry
from tra_core.tra.reader import TraLine

SUPPORTED_VERSIONS = frozenset({"1.0.0"})
MAX_MONTHS = 12
_DOCUMENT_PATH = "/api/ged/ged/document/{id}/download"


@dataclass
class BookedMovement:
    producer_id: str
    line: TraLine


@dataclass
class BookedEntry:
    """One entry MyUnisoft holds: what the export shows, with its ids."""

    producer_id: str
    society_id: int
    journal: str
    day: date
    movements: list[BookedMovement]
    documents: dict[str, str]  # file name -> document id
    md5: str


@dataclass
class Ledger:
    """The booked entries of every dossier. Ids are numeric strings, unique in the emulator."""

    entries: dict[int, list[BookedEntry]] = field(default_factory=dict)
    _entry_ids: Iterator[int] = field(default_factory=lambda: itertools.count(13_524_001))
    _movement_ids: Iterator[int] = field(default_factory=lambda: itertools.count(43_221_001))
    _document_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def book(self, society_id: int, accepted: list[AcceptedEntry], md5: str) -> list[BookedEntry]:
        """Book the entries of one accepted import; returns them with their new ids."""
        booked = []
        for entry in accepted:
            movements = entry.movements
            first = movements[0]
            booked.append(
                BookedEntry(
                    producer_id=str(next(self._entry_ids)),
                    society_id=society_id,
                    journal=first.journal,
                    day=first.accounting_date or date.min,
                    movements=[BookedMovement(str(next(self._movement_ids)), line) for line in movements],
                    documents={name: f"emu-{next(self._document_ids)}" for name in entry.attachments},
                    md5=md5,
                )
            )
        self.entries.setdefault(society_id, []).extend(booked)
        return booked

    def of_dossier(self, society_id: int) -> list[BookedEntry]:
        return list(self.entries.get(society_id, []))


@dataclass(frozen=True)
class ExportQuery:
    """A validated export request: the period (both ends included) and the journals kept."""

    start: date
    end: date
    journal_ids: frozenset[int] | None = None

    def keeps(self, entry: BookedEntry, journal_id: int | None) -> bool:
        if not self.start <= entry.day <= self.end:
            return False
        return self.journal_ids is None or journal_id in self.journal_ids


def _refuse(message: str) -> ApiError:
    return ApiError("GBL10", 400, message)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = [v.strip() for v in query.get(name, []) if v.strip()]
    return values[0] if values else None


def _iso_date(text: str, name: str) -> date:
    try:
        if len(text) == 10:  # fromisoformat also reads 20260101, which MyUnisoft does not document
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise _refuse(f"Le paramètre {name} doit être une date au format YYYY-MM-DD")


def _journal_ids(query: dict[str, list[str]]) -> frozenset[int] | None:
    raw = [part.strip() for value in query.get("journalIds", []) for part in value.split(",") if part.strip()]
    if not raw:
        return None
    if not all(part.isdigit() for part in raw):
        raise _refuse("Le paramètre journalIds doit contenir des identifiants de journaux")
    return frozenset(int(part) for part in raw)


def _period(query: dict[str, list[str]], dossier: Dossier) -> tuple[date, date]:
    exercice = _one(query, "idExercice")
    start_text, end_text = _one(query, "startDate"), _one(query, "endDate")
    if exercice is not None:
        if start_text or end_text:
            raise _refuse("Utiliser soit idExercice, soit startDate et endDate, pas les deux")
        year = next((y for y in dossier.fiscal_years if str(y.exercice_id) == exercice), None)
        if year is None:
            raise _refuse(f"L'exercice {exercice} est introuvable dans ce dossier")
        return year.start, year.end
    if not (start_text and end_text):
        raise _refuse("Indiquer idExercice, ou startDate et endDate")
    start, end = _iso_date(start_text, "startDate"), _iso_date(end_text, "endDate")
    if end < start:
        raise _refuse("La date de fin précède la date de début")
    if end >= add_months(start, MAX_MONTHS):
        raise _refuse("L'écart entre la date de début et la date de fin ne peut dépasser 12 mois")
    return start, end


def parse_export_query(query: dict[str, list[str]], dossier: Dossier) -> ExportQuery:
    """Check the query string as MyUnisoft documents it; a refusal is ``GBL10`` with the reason."""
    version = _one(query, "version")
    if version is None:
        raise _refuse("Le paramètre version est obligatoire")
    if version not in SUPPORTED_VERSIONS:
        raise _refuse(f"La version {version} n'est pas supportée")
    start, end = _period(query, dossier)
    return ExportQuery(start, end, _journal_ids(query))


def _number(amount: Decimal) -> int | float:
    """A JSON number for an amount (two decimals at most, so the float prints exactly)."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _movement_account(dossier: Dossier, line: TraLine) -> dict[str, str | None]:
    number = line.auxiliary if line.account_type == "X" and line.auxiliary else line.general
    account = dossier.account(number)
    return {
        "producerId": str(account.account_id) if account else None,
        "number": number,
        "name": account.label if account else None,
    }


def movement_json(dossier: Dossier, movement: BookedMovement, reference_field: str) -> dict[str, object]:
    """One movement (a line of the entry) as the MAD specification shapes it."""
    line = movement.line
    amount = line.amount or Decimal(0)
    credit = amount if line.direction == "C" else Decimal(0)
    debit = amount if line.direction != "C" else Decimal(0)
    due = line.due
    return {
        "producerId": movement.producer_id,
        "description": line.label,
        "attachments": {},
        "value": {"credit": _number(credit), "debit": _number(debit), "amount": _number(credit - debit)},
        "dueDate": due.isoformat() if due else None,
        "lettering": {"state": "none", "value": None},
        "freeNumber": (line.reference or None) if reference_field == "freeNumber" else None,
        "invoiceNumber": (line.reference or None) if reference_field == "invoiceNumber" else None,
        "account": _movement_account(dossier, line),
        "payment": None,
        "analytics": [],
    }


def entry_json(dossier: Dossier, entry: BookedEntry, origin: str, reference_field: str) -> dict[str, object]:
    """One entry as the MAD specification shapes it; documents are download URLs on ``origin``."""
    journal = next((j for j in dossier.journals if j.code == entry.journal), None)
    dues = [m.line.due for m in entry.movements if m.line.due]
    return {
        "producerId": entry.producer_id,
        "attachments": {
            name: {"type": "URL", "value": origin + _DOCUMENT_PATH.format(id=document)}
            for name, document in entry.documents.items()
        },
        "currency": {"code": entry.movements[0].line.currency or "EUR"},
        "date": entry.day.isoformat(),
        "dueDate": dues[0].isoformat() if dues else None,
        "journal": {
            "producerId": str(journal.diary_id) if journal else "",
            "customerReferenceCode": entry.journal,
            "name": journal.name if journal else entry.journal,
            "type": DIARY_TYPES.get(journal.type or "", (0, ""))[1] if journal else "",
        },
        "movements": [movement_json(dossier, m, reference_field) for m in entry.movements],
        "additionalProducerProperties": {"partnerMetadata": None, "comment": None},
    }


def export_entries(
    ledger: Ledger, dossier: Dossier, query: ExportQuery, origin: str, reference_field: str
) -> list[dict[str, object]]:
    """The dossier's booked entries the query keeps, by date then id (a stable order)."""
    journal_ids = {j.code: j.diary_id for j in dossier.journals}
    kept = [e for e in ledger.of_dossier(dossier.society_id) if query.keeps(e, journal_ids.get(e.journal))]
    kept.sort(key=lambda e: (e.day, int(e.producer_id)))
    return [entry_json(dossier, entry, origin, reference_field) for entry in kept]
