"""Reading a client file's entries back from MyUnisoft and finding the ones the bridge sent.

Shared by the verification worker (after an accepted archive) and the upload worker (before a
refused archive of several entries is split: docs/architecture.md §4). The rule that decides
whether an exported entry is one we sent is ``tra_core.domain.verification.match_entries``; this
module builds its two sides:

- what we sent, as the TRA carried it: each entry is rendered again by the same writer (labels cut
  to 35 characters and transliterated exactly as in the archive: the rendering is deterministic
  and per entry) and read back by the TRA reader;
- what MyUnisoft holds, from the export (``GET /api/v1/mad/entries``), one call per period of at
  most 12 months covering the entries' dates. The export is asked for every journal and filtered
  here: its ``journalIds`` filter wants MyUnisoft's journal ids, which the references do not keep
  (the same number of calls either way).

MyUnisoft ids already claimed by other entries of the file (``tra_core.store.verification``) are
never given again, so twins get different ids.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.domain.verification import MatchEntry, MatchLine, Verification, match_entries
from tra_core.myunisoft.mad import MadEntry, export_periods
from tra_core.store.entries import KEEP, BatchExpectation, EntryChange, EntryRecord, MyUnisoftCopy
from tra_core.store.ports import MyUnisoftIds
from tra_core.tra.reader import read_tra
from tra_core.tra.writer import render_tra


class ExportReader(Protocol):
    """The MyUnisoft call a read-back makes (``tra_core.myunisoft.client.MyUnisoftClient``)."""

    def mad_entries(
        self,
        society_id: int,
        *,
        start: date | None = None,
        end: date | None = None,
        fiscal_year_id: int | None = None,
        journal_ids: Iterable[int] = (),
    ) -> list[MadEntry]: ...

    def close(self) -> None: ...


class ExportReaders(Protocol):
    """Opens an :class:`ExportReader` for a firm's key."""

    def open(self, api_key: str) -> ExportReader: ...


def sent_entry(record: EntryRecord) -> MatchEntry:
    """The entry as its TRA carried it (``ref`` is our entry id)."""
    entry = record.entry()
    lines = []
    for line in read_tra(render_tra([entry]).data).lines:
        if line.is_document:
            continue
        amount = line.amount
        assert amount is not None  # our own writer always writes an amount
        zero = amount - amount
        debit, credit = (zero, amount) if line.direction == "C" else (amount, zero)
        accounts = frozenset(a for a in (line.general, line.auxiliary) if a)
        lines.append(MatchLine(line.label, debit, credit, accounts))
    return MatchEntry(ref=record.entry_id, journal=entry.journal, day=entry.date, lines=tuple(lines))


def found_entry(exported: MadEntry) -> MatchEntry:
    """An entry of MyUnisoft's export (``ref`` is its ``producerId``)."""
    lines = tuple(
        MatchLine(
            m.description,
            m.value.debit,
            m.value.credit,
            frozenset({m.account_number}) if m.account_number else frozenset(),
        )
        for m in exported.movements
    )
    return MatchEntry(ref=exported.producer_id, journal=exported.journal_code, day=exported.day, lines=lines)


def read_back(reader: ExportReader, society_id: int, sent: Sequence[MatchEntry]) -> list[MatchEntry]:
    """The file's exported entries in the journals and dates of ``sent`` (one call per 12 months).

    Raises what the client raises (``ForbiddenRoute`` when the key's routes lack the export).
    """
    if not sent:
        return []
    journals = {s.journal.strip().upper() for s in sent}
    found: list[MatchEntry] = []
    for start, end in export_periods(min(s.day for s in sent), max(s.day for s in sent)):
        for exported in reader.mad_entries(society_id, start=start, end=end):
            if exported.journal_code.strip().upper() in journals:
                found.append(found_entry(exported))
    return found


@dataclass(frozen=True)
class Found:
    """An entry version found in MyUnisoft, with the MyUnisoft id it is given."""

    record: EntryRecord
    producer_id: str


def find_sent(
    ids: MyUnisoftIds, records: Sequence[EntryRecord], sent: Sequence[MatchEntry], found: Sequence[MatchEntry]
) -> list[Found]:
    """Which of ``records`` (``sent`` their views, in the same order) are among ``found``.

    An id already claimed by one of these entry versions is theirs again (a claim whose entry
    change was lost); ids claimed by any other entry of the file are left out.
    """
    if not records:
        return []
    first = records[0]
    claims = ids.claims(first.connection_id, first.society_id, [f.ref for f in found])
    result: list[Found] = []
    rest: list[tuple[EntryRecord, MatchEntry]] = []
    for record, view in zip(records, sent, strict=True):
        own = next((c for c in claims.values() if c.held_by(record.entry_id, record.version)), None)
        if own is None:
            rest.append((record, view))
        else:
            result.append(Found(record, own.producer_id))
    matched = match_entries([view for _, view in rest], found, claimed=list(claims))
    result.extend(Found(record, matched[record.entry_id]) for record, _ in rest if record.entry_id in matched)
    return result


def verified_change(
    found: Found,
    now: datetime,
    *,
    transition: Transition | None = None,
    expect_status: Collection[EntryStatus] = (EntryStatus.UPLOADED,),
    expect_batch: BatchExpectation = KEEP,
    set_values: dict[str, object] | None = None,
    add_attempts: int = 0,
) -> EntryChange:
    """The entry's change to ``verified`` with its MyUnisoft id (and whatever else the caller sets)."""
    copy = MyUnisoftCopy(verification=Verification.VERIFIED, entry_id=found.producer_id, verified_at=now)
    previous = found.record.myunisoft
    if previous is not None:
        copy = copy.model_copy(update={"checks": previous.checks})
    return EntryChange(
        key=found.record.key,
        version=found.record.version,
        transition=transition,
        expect_status=expect_status,
        expect_batch=expect_batch,
        set_values={**(set_values or {}), "myunisoft": copy.as_item()},
        add_attempts=add_attempts,
    )
