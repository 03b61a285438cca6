"""The state ports the use cases depend on; DynamoDB, S3, Secrets Manager and SQS implement them.

Use cases take these as arguments, so unit tests pass in-memory fakes (typed against these
Protocols) and integration tests the real adapters over local services. This module depends on
records only, never on an adapter (docs/architecture.md §2).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.store.batches import BatchRecord, BatchStatus, Claim
from tra_core.store.entries import (
    KEEP,
    BatchExpectation,
    EntryChange,
    EntryIssue,
    EntryKey,
    EntryRecord,
    MyUnisoftCopy,
    Submitted,
    UploadRequest,
)
from tra_core.store.records import (
    ClientFile,
    Connection,
    DiscoveredFile,
    Discovery,
    ReferenceCounts,
    ReferenceSnapshot,
    RefreshRequest,
    RefreshResult,
)
from tra_core.store.verification import IdClaim, VerifyRequest


class ConnectionRepository(Protocol):
    """Connections, keyed by tenant (``tra_core.store.dynamodb``)."""

    def get(self, tenant: str, connection_id: str) -> Connection | None:
        """The tenant's connection, or ``None`` (also when it belongs to another tenant)."""

    def save(self, connection: Connection) -> None:
        """Create or replace a connection."""

    def mark_revoked(
        self, connection: Connection, *, code: str, message: str, now: datetime
    ) -> Connection | None:
        """Set ``revoked`` if the connection is still active with the same key; the result or ``None``.

        A key replaced meanwhile (another fingerprint) is left alone: the refusal was about the old key.
        """

    def record_discovery(
        self, tenant: str, connection_id: str, *, at: datetime, warnings: Sequence[str]
    ) -> None:
        """Note when the firm's dossiers were last listed, and what the accountant should know."""

    def set_settings(
        self, tenant: str, connection_id: str, *, create_missing_subsidiaries: bool, now: datetime
    ) -> Connection | None:
        """Change the connection's settings; the connection as stored, or ``None`` when it is unknown."""

    def list_active(self) -> list[Connection]:
        """Every active connection, of every tenant (for the nightly fan-out)."""

    def count_entries_by_status(self, connection_id: str) -> dict[str, int]:
        """How many entries of the connection are in each status."""


class FileRepository(Protocol):
    """The client files of a connection (``tra_core.store.dynamodb``)."""

    def get(self, connection_id: str, society_id: int) -> ClientFile | None: ...

    def list(self, connection_id: str) -> list[ClientFile]:
        """The connection's files, by dossier id."""

    def apply_discovery(
        self, connection: Connection, discovered: Sequence[DiscoveredFile], now: datetime
    ) -> Discovery:
        """Create files for new dossiers, refresh names of known ones, flag the unlisted ones."""

    def record_snapshot(
        self,
        file: ClientFile,
        *,
        version: int,
        content_hash: str,
        counts: ReferenceCounts,
        result: RefreshResult,
    ) -> bool:
        """Point the file at a new reference version if it still points at ``file.reference_version``.

        ``False`` when another refresh moved the pointer first (nothing is written then).
        """

    def record_refresh(self, connection_id: str, society_id: int, result: RefreshResult) -> None:
        """Record the outcome of a refresh that made no new version."""


class SnapshotStore(Protocol):
    """Reference snapshots, each version written once (``tra_core.store.snapshots``)."""

    def save(self, snapshot: ReferenceSnapshot) -> str:
        """Store a new snapshot; returns where (the object key).

        Raises ``SnapshotExists`` when that version is already stored: snapshots never change.
        """

    def load(self, connection_id: str, society_id: int, version: int) -> ReferenceSnapshot | None: ...


class KeyVault(Protocol):
    """Keeps the firms' API keys encrypted; a reference names a stored key, never shows it."""

    def store(self, connection_id: str, api_key: str) -> str:
        """Store (or replace) the connection's key; returns the reference to keep on the connection."""

    def load(self, secret_ref: str, fingerprint: str | None = None) -> str:
        """The stored key. With ``fingerprint`` (the connection's), a copy cached by this process may
        be served if it has that fingerprint; without it, the key is always read afresh."""

    def destroy(self, secret_ref: str) -> None:
        """Delete the key for good (no recovery window)."""


class RefreshQueue(Protocol):
    """The refresh queue (``tra_core.store.queues``)."""

    def send(self, requests: Sequence[RefreshRequest], delay_s: float = 0.0) -> int:
        """Queue the requests, each delivered no sooner than ``delay_s`` seconds (at most 900);
        returns how many were sent."""


class EntryRepository(Protocol):
    """Entries of client files (``tra_core.store.dynamodb_entries``)."""

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
        transition: Transition | None = None,
        expect_status: Collection[EntryStatus] | None = None,
        expect_batch: BatchExpectation = KEEP,
        set_values: Mapping[str, Any] | None = None,
        remove: Sequence[str] = (),
        add_attempts: int = 0,
    ) -> EntryRecord | None:
        """A conditional change; ``None`` when the entry no longer holds that version, status or batch.

        ``transition`` names a status write (``TransitionRefused`` when the lifecycle forbids it).
        """

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
    """Frozen upload batches and their leases (``tra_core.store.dynamodb_batches``)."""

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
    """The frozen TRA+PJ archives, each written once (``tra_core.store.s3_objects``)."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class DocumentStore(Protocol):
    """Supporting documents uploaded by the hub (``tra_core.store.s3_objects``)."""

    def presign_put(self, key: str, content_type: str, expires_s: int) -> str: ...

    def size(self, key: str) -> int | None: ...

    def read(self, key: str) -> bytes | None: ...


class UploadQueue(Protocol):
    """The upload queue (``tra_core.store.queues``)."""

    def send(self, requests: Sequence[UploadRequest], delay_s: float = 0.0) -> int:
        """Queue the requests, each delivered no sooner than ``delay_s`` seconds (at most 900)."""

    def retry_later(self, receipt_handle: str, delay_s: float) -> None: ...

    def dead_letter(self, body: str) -> None: ...


class UploadPacing(Protocol):
    """Each key's upload horizon, to pace a large post's messages (``tra_core.store.backlog``)."""

    entries_per_s: float
    """How many entries a key's budget uploads per second (its requests per second, times the
    entries of a full archive)."""

    def admit(self, key_fingerprint: str, count: int, now_s: float) -> float:
        """Admit ``count`` entries of the key; the epoch second the first of them may be uploaded."""


class VerifyQueue(Protocol):
    """The verification queue (``tra_core.store.queues``)."""

    def send(self, requests: Sequence[VerifyRequest], delay_s: float = 0.0) -> int:
        """Queue the requests, each delivered no sooner than ``delay_s`` seconds (at most 900)."""


class MyUnisoftIds(Protocol):
    """The MyUnisoft entry ids claimed by entries of client files (``tra_core.store.dynamodb_claims``)."""

    def claims(self, connection_id: str, society_id: int, producer_ids: Iterable[str]) -> dict[str, IdClaim]:
        """The claims among ``producer_ids`` in the file, by MyUnisoft id."""

    def claim(self, change: EntryChange, producer_id: str, now: datetime) -> bool:
        """Claim ``producer_id`` for the change's entry version and apply ``change`` in one
        transaction; ``False`` (nothing written) when another entry holds the id or the entry no
        longer matches the change's conditions."""

    def record_check(self, record: EntryRecord, copy: MyUnisoftCopy, now: datetime) -> bool:
        """Set the uploaded entry version's ``myunisoft`` to ``copy`` if its verification is still
        pending (``False``, nothing written, otherwise)."""

    def count_by_verification(self, connection_id: str) -> dict[str, int]:
        """How many uploaded entries of the connection are in each verification state."""
