"""What the bridge remembers about connections, client files and their reference snapshots.

Layout (docs/architecture.md §5): a connection is a tenant's link to one MyUnisoft firm (schema); a client
file is one dossier of that firm; a reference snapshot is one version of a file's chart of accounts,
journals and fiscal years, kept in S3 with a pointer, a hash and counts on the file.

Nothing here holds an API key: a connection knows the key's fingerprint and where the encrypted key
is kept (``secret_ref``), never the key itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tra_core.domain.references import References
from tra_core.store.base import Record

if TYPE_CHECKING:
    from tra_core.myunisoft.models import Society


class ConnectionStatus(StrEnum):
    """``active``: the key works; ``revoked``: MyUnisoft refused the key, waiting for a new one;
    ``disconnected``: the tenant disconnected, the key is destroyed."""

    ACTIVE = "active"
    REVOKED = "revoked"
    DISCONNECTED = "disconnected"


class ReferenceStatus(StrEnum):
    """Where a client file's references stand, as the hub shows it."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    WAITING_FOR_KEY = "waiting_for_key"


RefreshReason = Literal["onboarding", "nightly", "manual", "key_replaced", "discovered"]
RefreshOutcome = Literal["updated", "unchanged", "failed", "retrying", "waiting_for_key"]


def key_fingerprint(api_key: str) -> str:
    """A short, stable, non-reversible name for an API key (``sha256:`` + 16 hex digits).

    Shown to the accountant instead of the key, and used to name the key's shared rate budget.
    """
    return "sha256:" + hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def connection_id_for(tenant: str, schema_id: int) -> str:
    """The connection id of a tenant's link to a MyUnisoft firm: the same firm twice is one connection."""
    digest = hashlib.sha256(f"{tenant}\x1f{schema_id}".encode()).hexdigest()[:20]
    return f"c{digest}"


def file_id_for(connection_id: str, society_id: int) -> str:
    """The public id of a client file: its connection and its MyUnisoft dossier id."""
    return f"{connection_id}.{society_id}"


def parse_file_id(file_id: str) -> tuple[str, int] | None:
    """``(connection_id, society_id)`` of a file id, or ``None`` when it is not one."""
    connection_id, dot, society = file_id.rpartition(".")
    if not dot or not connection_id or not society.isdigit() or len(society) > 18:
        return None
    return connection_id, int(society)


class Connection(Record):
    """A tenant's connection to one MyUnisoft firm (schema)."""

    connection_id: str
    tenant: str
    schema_id: int
    status: ConnectionStatus
    key_fingerprint: str
    secret_ref: str | None = None
    created_at: datetime
    updated_at: datetime
    status_code: str | None = None
    status_message: str | None = None
    last_discovery_at: datetime | None = None
    discovery_warnings: tuple[str, ...] = ()
    create_missing_subsidiaries: bool = True
    """Whether the upload worker creates a subsidiary account the client file lacks (with
    MyUnisoft's find-or-create) instead of letting the entry wait (docs/architecture.md §4)."""

    @property
    def is_active(self) -> bool:
        return self.status is ConnectionStatus.ACTIVE


class ReferenceCounts(Record):
    accounts: int = 0
    subsidiaries: int = 0
    journals: int = 0
    fiscal_years: int = 0

    @classmethod
    def of(cls, references: References) -> ReferenceCounts:
        return cls(
            accounts=len(references.accounts),
            subsidiaries=len(references.subsidiaries),
            journals=len(references.journals),
            fiscal_years=len(references.fiscal_years),
        )


class RefreshResult(Record):
    """The outcome of the last refresh attempt of a file.

    ``code`` and ``message`` explain a failure (the bridge's code; MyUnisoft's own code, when there
    is one, in ``myunisoft_code``); ``changes`` counts what the new version changed.
    """

    at: datetime
    outcome: RefreshOutcome
    version: int | None = None
    code: str | None = None
    message: str | None = None
    myunisoft_code: str | None = None
    changes: dict[str, int] = Field(default_factory=dict)


class ClientFile(Record):
    """One client file (a MyUnisoft dossier) of a connection."""

    connection_id: str
    tenant: str
    society_id: int
    name: str = ""
    siret: str | None = None
    folder_reference: str | None = None
    visible: bool = True
    first_seen_at: datetime
    last_seen_at: datetime
    not_visible_since: datetime | None = None
    reference_version: int | None = None
    reference_hash: str | None = None
    refreshed_at: datetime | None = None
    reference_counts: ReferenceCounts | None = None
    last_refresh: RefreshResult | None = None

    @property
    def file_id(self) -> str:
        return file_id_for(self.connection_id, self.society_id)

    @property
    def reference_status(self) -> ReferenceStatus:
        last = self.last_refresh
        if last is not None and last.outcome == "waiting_for_key":
            return ReferenceStatus.WAITING_FOR_KEY
        if self.reference_version is not None:
            return ReferenceStatus.READY
        if last is not None and last.outcome == "failed":
            return ReferenceStatus.FAILED
        return ReferenceStatus.PENDING


class DiscoveredFile(Record):
    """A dossier as the firm's key lists it (``GET /api/v1/society``)."""

    society_id: int
    name: str = ""
    siret: str | None = None
    folder_reference: str | None = None

    @classmethod
    def of_society(cls, society: Society) -> DiscoveredFile:
        """The dossier as MyUnisoft's client lists it."""
        return cls(
            society_id=society.society_id,
            name=society.name,
            siret=society.siret,
            folder_reference=society.folder_reference,
        )


@dataclass(frozen=True, slots=True)
class Discovery:
    """The files of a connection after a discovery, and what changed."""

    files: tuple[ClientFile, ...]
    new: tuple[int, ...] = ()
    vanished: tuple[int, ...] = ()
    returned: tuple[int, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def visible_files(self) -> tuple[ClientFile, ...]:
        return tuple(f for f in self.files if f.visible)


class ChangeSet(Record):
    """Items added, removed, closed and reopened between two versions (by number or code)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()
    reopened: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.closed or self.reopened)

    def counts(self, prefix: str) -> dict[str, int]:
        return {
            f"{prefix}_{name}": len(items)
            for name, items in (
                ("added", self.added),
                ("removed", self.removed),
                ("closed", self.closed),
                ("reopened", self.reopened),
            )
            if items
        }


class ReferenceChanges(Record):
    """The diff of a snapshot against the previous version (``initial`` for the first one)."""

    initial: bool = False
    accounts: ChangeSet = ChangeSet()
    subsidiaries: ChangeSet = ChangeSet()
    journals: ChangeSet = ChangeSet()
    fiscal_years: ChangeSet = ChangeSet()

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in ("accounts", "subsidiaries", "journals", "fiscal_years"):
            changes: ChangeSet = getattr(self, name)
            counts.update(changes.counts(name))
        return counts


class ReferenceSnapshot(Record):
    """One version of a client file's references, as stored in S3."""

    connection_id: str
    society_id: int
    version: int
    refreshed_at: datetime
    content_hash: str
    references: References
    changes: ReferenceChanges = ReferenceChanges()


def references_hash(references: References) -> str:
    """A hash of the references' content: equal charts give equal hashes (no new version)."""
    payload = json.dumps(references.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


class RefreshRequest(Record):
    """One message of the refresh queue.

    ``kind="refresh"`` refreshes one file's references; ``kind="discover"`` lists the firm's
    dossiers again (new files are created and refreshed, vanished ones flagged).
    """

    kind: Literal["refresh", "discover"] = "refresh"
    tenant: str
    connection_id: str
    society_id: int | None = None
    reason: RefreshReason = "manual"
    requested_at: datetime

    @classmethod
    def for_file(
        cls, tenant: str, connection_id: str, society_id: int, reason: RefreshReason, now: datetime
    ) -> RefreshRequest:
        """Refresh one client file's references."""
        return cls(
            kind="refresh",
            tenant=tenant,
            connection_id=connection_id,
            society_id=society_id,
            reason=reason,
            requested_at=now,
        )

    @classmethod
    def for_discovery(
        cls, tenant: str, connection_id: str, reason: RefreshReason, now: datetime
    ) -> RefreshRequest:
        """List the firm's dossiers again."""
        return cls(
            kind="discover", tenant=tenant, connection_id=connection_id, reason=reason, requested_at=now
        )
