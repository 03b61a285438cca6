"""In-memory fakes of the entry-upload ports (``tra_core.store.ports``) and of MyUnisoft's upload.

They apply the same conditions as the DynamoDB adapters (version, status and batch expected by each
change; one batch per entry; the lifecycle's transitions), so the use cases' races can be played in
a unit test. Each fake subclasses the port it stands for: a renamed port method breaks mypy here.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tra_core.domain.lifecycle import EntryStatus, Transition, expected_sources
from tra_core.myunisoft.errors import AlreadyImported, MyUnisoftError
from tra_core.myunisoft.models import UploadResult
from tra_core.store.batches import BatchRecord, BatchStatus, Claim
from tra_core.store.entries import (
    KEEP,
    BatchExpectation,
    EntryChange,
    EntryIssue,
    EntryKey,
    EntryRecord,
    Submitted,
    UploadRequest,
    _Keep,
)
from tra_core.store.ports import ArchiveStore, BatchRepository, DocumentStore, EntryRepository, UploadQueue
from upload.ports import Uploader, Uploaders


class InMemoryEntries(EntryRepository):
    def __init__(self) -> None:
        self.items: dict[EntryKey, EntryRecord] = {}

    def submit(self, record: EntryRecord) -> Submitted:
        current = self.items.get(record.key)
        if current is None:
            self.items[record.key] = record
            return Submitted("queued", record)
        if current.version < record.version:
            self.items[record.key] = record
            return Submitted("superseded", record)
        return Submitted("unchanged" if current.version == record.version else "outdated", current)

    def submit_many(self, records: Sequence[EntryRecord]) -> list[Submitted]:
        return [self.submit(r) for r in records]

    def get(self, key: EntryKey) -> EntryRecord | None:
        return self.items.get(key)

    def get_many(self, keys: Iterable[EntryKey]) -> dict[EntryKey, EntryRecord]:
        return {k: self.items[k] for k in keys if k in self.items}

    def matches(
        self,
        record: EntryRecord | None,
        version: int,
        expect_status: Collection[EntryStatus] | None,
        expect_batch: BatchExpectation,
    ) -> bool:
        if record is None or record.version != version:
            return False
        if expect_status is not None and record.status not in expect_status:
            return False
        if isinstance(expect_batch, _Keep):
            return True
        return record.batch_id == expect_batch

    def update(
        self,
        key: EntryKey,
        version: int,
        *,
        now: datetime,
        transition: Transition | None = None,
        expect_status: Collection[EntryStatus] | None = None,
        expect_batch: BatchExpectation = KEEP,
        set_values: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        add_attempts: int = 0,
    ) -> EntryRecord | None:
        if transition is not None:
            expect_status = expected_sources(transition, expect_status)
        record = self.items.get(key)
        if not self.matches(record, version, expect_status, expect_batch):
            return None
        assert record is not None
        values = record.model_dump(mode="json")
        values["updated_at"] = now.isoformat()
        if transition is not None:
            values["status"] = transition.target.value
        for name, value in (set_values or {}).items():
            values[name] = value
        for name in remove:
            values.pop(name, None)
        values["attempts"] = values.get("attempts", 0) + add_attempts
        updated = EntryRecord.model_validate(values)
        self.items[key] = updated
        return updated

    def update_all(self, changes: Sequence[EntryChange], now: datetime) -> None:
        for change in changes:
            self.update(
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

    def list_file(
        self,
        connection_id: str,
        society_id: int,
        *,
        status: EntryStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[EntryRecord], str | None]:
        found = sorted(
            (
                r
                for k, r in self.items.items()
                if (k.connection_id, k.society_id) == (connection_id, society_id)
                and (status is None or r.status is status)
                and (cursor is None or r.entry_id > cursor)
            ),
            key=lambda r: r.entry_id,
        )
        page = found[:limit]
        return page, page[-1].entry_id if len(found) > limit else None

    def list_by_status(self, connection_id: str, status: EntryStatus) -> list[EntryRecord]:
        return [r for k, r in self.items.items() if k.connection_id == connection_id and r.status is status]


class InMemoryBatches(BatchRepository):
    def __init__(self, entries: InMemoryEntries):
        self.entries = entries
        self.items: dict[str, BatchRecord] = {}

    def claim(self, batch: BatchRecord, claims: Sequence[Claim], now: datetime) -> bool:
        if batch.batch_id in self.items:
            return False
        for claim in claims:
            expected = expected_sources(Transition.CLAIM, [claim.expect_status])
            if not self.entries.matches(
                self.entries.get(claim.key), claim.version, expected, claim.expect_batch
            ):
                return False
        self.items[batch.batch_id] = batch
        for claim in claims:
            self.entries.update(
                claim.key,
                claim.version,
                now=now,
                transition=Transition.CLAIM,
                set_values={
                    "batch_id": batch.batch_id,
                    "warnings": [w.model_dump(mode="json") for w in claim.warnings],
                },
                remove=("problems",),
            )
        return True

    def get(self, batch_id: str) -> BatchRecord | None:
        return self.items.get(batch_id)

    def _set(self, batch_id: str, **changes: Any) -> BatchRecord:
        updated = self.items[batch_id].model_copy(update=changes)
        self.items[batch_id] = updated
        return updated

    def take_lease(
        self, batch_id: str, owner: str, *, now_ms: int, until_ms: int, new_round: bool
    ) -> tuple[BatchRecord, int] | None:
        batch = self.items.get(batch_id)
        if batch is None or batch.status is not BatchStatus.OPEN:
            return None
        if batch.lease_owner not in (None, owner) and batch.lease_until_ms >= now_ms:
            return None
        unsettled = batch.posts - batch.settled
        changes: dict[str, Any] = {"lease_owner": owner, "lease_until_ms": until_ms, "settled": batch.posts}
        if new_round:
            changes["round_start"] = batch.posts - batch.free
        return self._set(batch_id, **changes), unsettled

    def record_post(self, batch_id: str, owner: str) -> BatchRecord | None:
        batch = self.items.get(batch_id)
        if batch is None or batch.status is not BatchStatus.OPEN or batch.lease_owner != owner:
            return None
        return self._set(batch_id, posts=batch.posts + 1)

    def settle(
        self,
        batch_id: str,
        owner: str,
        *,
        now: datetime,
        free: bool = False,
        status: BatchStatus | None = None,
        request_id: str | None = None,
        error: EntryIssue | None = None,
    ) -> bool:
        batch = self.items.get(batch_id)
        if batch is None or batch.status is not BatchStatus.OPEN or batch.lease_owner != owner:
            return False
        changes: dict[str, Any] = {
            "lease_until_ms": 0,
            "settled": batch.settled + 1,
            "free": batch.free + (1 if free else 0),
            "updated_at": now,
        }
        if status is not None:
            changes["status"] = status
            if status is BatchStatus.UPLOADED:
                changes["uploaded_at"] = now
        if request_id is not None:
            changes["request_id"] = request_id
        if error is not None:
            changes["error"] = error
        self._set(batch_id, **changes)
        return True

    def release(self, batch_id: str, owner: str) -> None:
        batch = self.items.get(batch_id)
        if batch is not None and batch.lease_owner == owner:
            self._set(batch_id, lease_until_ms=0)

    def abandon(self, batch_id: str, owner: str, *, now: datetime) -> bool:
        batch = self.items.get(batch_id)
        if (
            batch is None
            or batch.status is not BatchStatus.OPEN
            or batch.lease_owner != owner
            or batch.posts != batch.free
        ):
            return False
        self._set(batch_id, status=BatchStatus.ABANDONED, lease_until_ms=0, updated_at=now)
        return True


class InMemoryArchives(ArchiveStore):
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.items.setdefault(key, data)

    def get(self, key: str) -> bytes:
        return self.items[key]


class InMemoryDocuments(DocumentStore):
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def presign_put(self, key: str, content_type: str, expires_s: int) -> str:
        return f"https://uploads.example/{key}?expires={expires_s}"

    def size(self, key: str) -> int | None:
        data = self.items.get(key)
        return None if data is None else len(data)

    def read(self, key: str) -> bytes | None:
        return self.items.get(key)


class InMemoryUploadQueue(UploadQueue):
    def __init__(self) -> None:
        self.sent: list[UploadRequest] = []
        self.delays: dict[str, float] = {}
        self.postponed: list[tuple[UploadRequest, float]] = []
        """Requests queued again with a delay (a worker postponing them), with the delay."""
        self.dead: list[str] = []

    def send(self, requests: Sequence[UploadRequest], delay_s: float = 0.0) -> int:
        if delay_s > 0:
            self.postponed.extend((r, delay_s) for r in requests)
        else:
            self.sent.extend(requests)
        return len(requests)

    def retry_later(self, receipt_handle: str, delay_s: float) -> None:
        self.delays[receipt_handle] = delay_s

    def dead_letter(self, body: str) -> None:
        self.dead.append(body)

    def take(self) -> list[UploadRequest]:
        taken, self.sent = self.sent, []
        return taken


def tra_of(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        name = next(n for n in zf.namelist() if n.lower().endswith(".tra"))
        return zf.read(name)


@dataclass
class Upload:
    """One POST the fake MyUnisoft received."""

    society_id: int
    archive: bytes
    already_attempted: bool
    hascode_verif: bool
    mandatory_docs: bool

    @property
    def tra(self) -> bytes:
        return tra_of(self.archive)

    @property
    def names(self) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(self.archive)) as zf:
            return zf.namelist()


@dataclass
class FakeUploads(Uploaders):
    """MyUnisoft's ``TRA/partial`` as far as the worker can tell: HascodeVerif, scripted failures.

    ``script`` holds what the next calls do, in order: an exception to raise, or a callable
    ``(upload) -> MyUnisoftError | None`` (``None``: import it). Then every call imports.
    """

    script: list[MyUnisoftError | Callable[[Upload], MyUnisoftError | None]] = field(default_factory=list)
    calls: list[Upload] = field(default_factory=list)
    imported: dict[str, Upload] = field(default_factory=dict)
    opened_with: list[str] = field(default_factory=list)
    budget_wait_s: float = 0.0
    """What :meth:`wait_s` answers: how long the key's budget is booked (another firm's backlog)."""
    budget_asked: int = 0
    reserve_wait_s: float | None = None
    """What :meth:`reserve` finds, when not ``budget_wait_s``: the budget taken meanwhile."""
    budget_reserved: int = 0

    def open(self, api_key: str) -> FakeUploader:
        self.opened_with.append(api_key)
        return FakeUploader(self)

    def wait_s(self, key_fingerprint: str) -> float:
        self.budget_asked += 1
        return self.budget_wait_s

    def reserve(self, key_fingerprint: str, max_wait_s: float) -> float:
        self.budget_reserved += 1
        wait = self.budget_wait_s if self.reserve_wait_s is None else self.reserve_wait_s
        return wait if wait > max_wait_s else 0.0

    @property
    def imports(self) -> list[Upload]:
        return list(self.imported.values())


class FakeUploader(Uploader):
    def __init__(self, server: FakeUploads):
        self.server = server

    def close(self) -> None:
        return None

    def upload_tra(
        self,
        society_id: int,
        archive: bytes,
        *,
        hascode_verif: bool = True,
        mandatory_docs: bool = True,
        already_attempted: bool = False,
    ) -> UploadResult:
        upload = Upload(society_id, archive, already_attempted, hascode_verif, mandatory_docs)
        self.server.calls.append(upload)
        if self.server.script:
            step = self.server.script.pop(0)
            error = step(upload) if callable(step) else step
            if error is not None:
                raise error
        md5 = hashlib.md5(upload.tra).hexdigest()
        if hascode_verif and md5 in self.server.imported:
            if already_attempted:
                return UploadResult(status="already_imported", request_id="req-dup", attempts=1, tra_md5=md5)
            raise AlreadyImported(
                "already imported", myunisoft_code="IMPORT25", myunisoft_message="Fichier déjà importé"
            )
        self.server.imported[md5] = upload
        return UploadResult(
            status="imported", request_id=f"req-{len(self.server.calls)}", attempts=1, tra_md5=md5
        )
