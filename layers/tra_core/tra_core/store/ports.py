"""The state ports the use cases depend on; DynamoDB, S3, Secrets Manager and SQS implement them.

Use cases take these as arguments, so unit tests pass in-memory fakes and integration tests the
real adapters over local services.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

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


class ConnectionRepository(Protocol):
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

    def list_active(self) -> list[Connection]:
        """Every active connection, of every tenant (for the nightly fan-out)."""

    def count_entries_by_status(self, connection_id: str) -> dict[str, int]:
        """How many entries of the connection are in each status."""


class FileRepository(Protocol):
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
    def send(self, requests: Sequence[RefreshRequest]) -> int:
        """Queue the requests; returns how many were sent."""
