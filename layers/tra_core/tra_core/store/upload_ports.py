"""The ports of entry upload (intake, the upload worker); DynamoDB, S3 and SQS implement them.

Like ``tra_core.store.ports``: use cases take these as arguments, unit tests pass in-memory fakes
and integration tests the adapters of ``entries``, ``batches``, ``attachments`` and ``upload_queue``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from tra_core.store.batches import BatchRecord, BatchStatus, Claim
from tra_core.store.entries import (
    KEEP,
    BatchExpectation,
    EntryChange,
    EntryIssue,
    EntryKey,
    EntryRecord,
    EntryStatus,
    Submitted,
    UploadRequest,
)


class EntryRepository(Protocol):
    """Entries of client files (``tra_core.store.entries``)."""

    def submit(self, record: EntryRecord) -> Submitted:
        """Store a posted version unless this version or a newer one is already stored."""

    def submit_many(self, records: Sequence[EntryRecord]) -> list[Submitted]:
        """``submit`` for many entries (fewer requests); one result per record, in order."""

    def get(self, key: EntryKey) -> EntryRecord | None: ...

    def get_many(self, keys: Iterable[EntryKey]) -> dict[EntryKey, EntryRecord]: ...

    def update(
        self,
        key: EntryKey,
        version: int,
        *,
        now: datetime,
        status: EntryStatus | None = None,
        expect_status: Collection[EntryStatus] | None = None,
        expect_batch: BatchExpectation = KEEP,
        set_values: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        add_attempts: int = 0,
    ) -> EntryRecord | None:
        """A conditional change; ``None`` when the entry no longer holds that version, status or batch."""

    def update_all(self, changes: Sequence[EntryChange], now: datetime) -> None:
        """Apply many conditional changes, skipping those whose condition no longer holds."""

    def list_file(
        self,
        connection_id: str,
        society_id: int,
        *,
        status: EntryStatus | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[EntryRecord], str | None]: ...

    def list_by_status(self, connection_id: str, status: EntryStatus) -> list[EntryRecord]: ...


class BatchRepository(Protocol):
    """Frozen upload batches and their leases (``tra_core.store.batches``)."""

    def claim(self, batch: BatchRecord, claims: Sequence[Claim], now: datetime) -> bool: ...

    def get(self, batch_id: str) -> BatchRecord | None: ...

    def take_lease(
        self, batch_id: str, owner: str, *, now_ms: int, until_ms: int, new_round: bool
    ) -> tuple[BatchRecord, int] | None: ...

    def record_post(self, batch_id: str, owner: str) -> BatchRecord | None: ...

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
    ) -> bool: ...

    def release(self, batch_id: str, owner: str) -> None: ...

    def abandon(self, batch_id: str, owner: str, *, now: datetime) -> bool: ...


class ArchiveStore(Protocol):
    """The frozen TRA+PJ archives, each written once."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class DocumentStore(Protocol):
    """Supporting documents uploaded by the hub (``tra_core.store.attachments``)."""

    def presign_put(self, key: str, content_type: str, expires_s: int) -> str: ...

    def size(self, key: str) -> int | None: ...

    def read(self, key: str) -> bytes | None: ...


class UploadQueue(Protocol):
    """The upload queue (``tra_core.store.upload_queue``)."""

    def send(self, requests: Sequence[UploadRequest]) -> int: ...

    def retry_later(self, receipt_handle: str, delay_s: float) -> None: ...

    def dead_letter(self, body: str) -> None: ...
