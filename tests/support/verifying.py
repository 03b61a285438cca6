"""In-memory fakes for verified delivery: MyUnisoft's entries export, the claims of MyUnisoft ids and
the verification queue, plus a world wiring them to the upload worker's and the verifier's ports.

``FakeExport`` serves, as MAD entries, what ``FakeUploads`` imported (every entry of every archive
it accepted), plus entries a test says MyUnisoft kept from a refused archive (``keep``), minus
archives a test says were lost (``lose``). Producer ids are stable per archive and entry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from tests.support.upload_world import World
from tests.support.uploads import FakeUploads, InMemoryEntries
from tra_core.domain.lifecycle import EntryStatus
from tra_core.domain.verification import Verification
from tra_core.myunisoft.errors import MyUnisoftError
from tra_core.myunisoft.mad import MadEntry
from tra_core.store.entries import EntryChange, EntryRecord, MyUnisoftCopy
from tra_core.store.ports import MyUnisoftIds, VerifyQueue
from tra_core.store.verification import IdClaim, VerifyRequest
from tra_core.tra.reader import TraLine, read_tra
from upload.ports import UploadPorts
from verify.ports import VerifyPolicy, VerifyPorts
from verify.readback import ExportReader, ExportReaders
from verify.use_cases import Message, Report, process


def mad_entries_of(tra: bytes, first_id: int) -> list[dict[str, Any]]:
    """The MAD JSON of each entry of a TRA file (movement ids follow the entry's), in file order."""
    pieces: dict[str, list[TraLine]] = defaultdict(list)
    for line in read_tra(tra).lines:
        if not line.is_document:
            pieces[line.piece_number].append(line)
    entries = []
    for index, lines in enumerate(pieces.values()):
        entry_id = first_id + 100 * index
        movements = []
        for offset, line in enumerate(lines, start=1):
            amount = line.amount or 0
            credit, debit = (amount, 0) if line.direction == "C" else (0, amount)
            number = line.auxiliary if line.account_type == "X" else line.general
            movements.append(
                {
                    "producerId": entry_id + offset,
                    "description": line.label,
                    "value": {"credit": str(credit), "debit": str(debit)},
                    "account": {"number": number},
                }
            )
        day = lines[0].accounting_date
        assert day is not None
        entries.append(
            {
                "producerId": str(entry_id),
                "date": day.isoformat(),
                "journal": {"customerReferenceCode": lines[0].journal},
                "movements": movements,
            }
        )
    return entries


class FakeExport(ExportReaders):
    """MyUnisoft's ``GET /api/v1/mad/entries`` over what ``FakeUploads`` imported (see the module)."""

    def __init__(self, uploads: FakeUploads):
        self.uploads = uploads
        self.kept: list[tuple[bytes, set[int]]] = []
        self.lost: set[bytes] = set()
        self.calls: list[tuple[int, date | None, date | None]] = []
        self.script: list[MyUnisoftError] = []

    def open(self, api_key: str) -> FakeExportReader:
        return FakeExportReader(self)

    def keep(self, tra: bytes, pieces: Iterable[int]) -> None:
        """MyUnisoft kept these entries (1-based, file order) of a refused archive."""
        self.kept.append((tra, set(pieces)))

    def entries(self) -> list[MadEntry]:
        sources: list[tuple[bytes, set[int] | None]] = [
            (u.tra, None) for u in self.uploads.imports if u.tra not in self.lost
        ]
        sources += [(tra, pieces) for tra, pieces in self.kept]
        found = []
        for number, (tra, pieces) in enumerate(sources):
            for index, raw in enumerate(mad_entries_of(tra, 13_000_000 + 10_000 * number), start=1):
                if pieces is None or index in pieces:
                    found.append(MadEntry.model_validate(raw))
        return found


class FakeExportReader(ExportReader):
    def __init__(self, server: FakeExport):
        self.server = server

    def close(self) -> None:
        return None

    def mad_entries(
        self,
        society_id: int,
        *,
        start: date | None = None,
        end: date | None = None,
        fiscal_year_id: int | None = None,
        journal_ids: Iterable[int] = (),
    ) -> list[MadEntry]:
        self.server.calls.append((society_id, start, end))
        if self.server.script:
            raise self.server.script.pop(0)
        assert start is not None and end is not None
        return [e for e in self.server.entries() if start <= e.day <= end]


class InMemoryIds(MyUnisoftIds):
    """Claims of MyUnisoft ids, applied with the entry's change as one step (as the transaction)."""

    def __init__(self, entries: InMemoryEntries):
        self.entries = entries
        self.items: dict[tuple[str, int, str], IdClaim] = {}

    def claims(self, connection_id: str, society_id: int, producer_ids: Iterable[str]) -> dict[str, IdClaim]:
        keys = [(connection_id, society_id, p) for p in producer_ids]
        return {k[2]: self.items[k] for k in keys if k in self.items}

    def claim(self, change: EntryChange, producer_id: str, now: datetime) -> bool:
        key = (change.key.connection_id, change.key.society_id, producer_id)
        held = self.items.get(key)
        if held is not None and not held.held_by(change.key.entry_id, change.version):
            return False
        updated = self.entries.update(
            change.key,
            change.version,
            now=now,
            transition=change.transition,
            expect_status=change.expect_status,
            expect_batch=change.expect_batch,
            set_values=change.set_values,
            remove=change.remove,
            add_attempts=change.add_attempts,
        )
        if updated is None:
            return False
        self.items[key] = IdClaim(
            producer_id=producer_id, entry_id=change.key.entry_id, version=change.version
        )
        return True

    def record_check(self, record: EntryRecord, copy: MyUnisoftCopy, now: datetime) -> bool:
        current = self.entries.get(record.key)
        if (
            current is None
            or current.version != record.version
            or current.status is not EntryStatus.UPLOADED
            or current.myunisoft is None
            or current.myunisoft.verification is not Verification.PENDING
        ):
            return False
        self.entries.items[record.key] = current.model_copy(update={"myunisoft": copy, "updated_at": now})
        return True

    def count_by_verification(self, connection_id: str) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for record in self.entries.items.values():
            if record.connection_id == connection_id and record.myunisoft is not None:
                counts[record.myunisoft.verification.value] += 1
        return dict(counts)


class InMemoryVerifyQueue(VerifyQueue):
    def __init__(self) -> None:
        self.sent: list[tuple[VerifyRequest, float]] = []

    def send(self, requests: Sequence[VerifyRequest], delay_s: float = 0.0) -> int:
        self.sent.extend((r, delay_s) for r in requests)
        return len(requests)

    def take(self) -> list[Message]:
        taken, self.sent = self.sent, []
        return [Message(f"v{i}", request) for i, (request, _) in enumerate(taken)]


class VerifyWorld(World):
    """The upload world with verified delivery on: the export, the claims and the verifier."""

    def __init__(self) -> None:
        super().__init__()
        self.export = FakeExport(self.myunisoft)
        self.ids = InMemoryIds(self.entries)
        self.verify_queue = InMemoryVerifyQueue()
        self.verify_policy = VerifyPolicy(max_checks=3, interval_s=20.0, max_rounds=5)

    @property
    def ports(self) -> UploadPorts:
        return replace(super().ports, verifications=self.verify_queue, exports=self.export, ids=self.ids)

    @property
    def verify_ports(self) -> VerifyPorts:
        return VerifyPorts(
            connections=self.connections,
            vault=self.vault,
            entries=self.entries,
            ids=self.ids,
            queue=self.verify_queue,
            readers=self.export,
            clock=self.clock,
            policy=self.verify_policy,
        )

    def verify(self) -> Report:
        """Deliver every queued verification request to the verifier once."""
        return process(self.verify_queue.take(), self.verify_ports)
