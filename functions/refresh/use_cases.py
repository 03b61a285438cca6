"""Use cases of the reference refresh (docs/architecture.md §1).

- ``fan_out``: the nightly schedule queues one message per visible file of every active connection,
  plus one rediscovery per connection, so no Lambda ever walks a whole firm and the shared rate
  budget paces the work.
- ``handle``: one queue message. A file refresh reads the chart of accounts, the journals and the
  fiscal years, classifies subsidiary accounts (docs/architecture.md §3.2), and stores a new snapshot with its
  diff only when something changed; then the file's entries waiting for references are queued
  again (``refresh.waiting``). A rediscovery lists the firm's dossiers again.

A refused key (revoked, integration disabled) marks the connection ``revoked`` and parks its work:
later messages of that connection are skipped until a new key is put. A key whose budget is booked
beyond the worker's short wait, or spent on the way (ours or a 429), has the message postponed:
queued again for when it has room, so one firm's many files never hold the workers other firms'
files wait for (docs/architecture.md §8). Transient failures raise, so the message comes back
(and lands in the dead-letter queue after the last attempt).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from refresh.diff import diff_references
from refresh.waiting import resume_waiting
from tra_core.domain.references import Account, FiscalYear, Journal, References, classify_accounts
from tra_core.myunisoft.errors import (
    AccessForbidden,
    BusinessRejection,
    FolderNotFound,
    ForbiddenRoute,
    KeyRevoked,
    MyUnisoftError,
    RateLimited,
    ThirdPartyDisconnected,
    UnexpectedResponse,
)
from tra_core.myunisoft.models import AccountRecord, Diary, FiscalYearRecord, Society
from tra_core.myunisoft.ratelimit import postpone_delay
from tra_core.store.errors import KeyNotFound, RateBudgetBusy, SnapshotExists, budget_wait_s
from tra_core.store.ports import (
    ConnectionRepository,
    EntryRepository,
    FileRepository,
    KeyVault,
    RefreshQueue,
    SnapshotStore,
    UploadQueue,
)
from tra_core.store.records import (
    ClientFile,
    Connection,
    DiscoveredFile,
    ReferenceCounts,
    ReferenceSnapshot,
    RefreshRequest,
    RefreshResult,
    key_fingerprint,
    references_hash,
)

#: Errors that mean the firm's key can no longer be used: the connection waits for a new key.
KEY_REFUSED = (KeyRevoked, ThirdPartyDisconnected, AccessForbidden)
#: What says the key's budget is spent for now (ours, or MyUnisoft's 429): the message waits for it.
NOT_NOW = (RateBudgetBusy, RateLimited)
#: Errors about this one dossier: recorded on the file, not retried.
FILE_REFUSED = (FolderNotFound, ForbiddenRoute, BusinessRejection, UnexpectedResponse)


class ReferenceClient(Protocol):
    """The MyUnisoft calls the refresh makes (``tra_core.myunisoft.client.MyUnisoftClient``)."""

    def list_societies(self) -> list[Society]: ...

    def list_accounts(self, society_id: int) -> list[AccountRecord]: ...

    def list_diaries(self, society_id: int) -> list[Diary]: ...

    def list_fiscal_years(self, society_id: int) -> list[FiscalYearRecord]: ...

    def close(self) -> None: ...


class ReferenceClients(Protocol):
    def open(self, api_key: str) -> ReferenceClient: ...

    def wait_s(self, key_fingerprint: str) -> float:
        """Seconds before the budget of the key with this fingerprint has room for one more request
        (0: now); books nothing."""


@dataclass(frozen=True)
class RefreshPorts:
    connections: ConnectionRepository
    files: FileRepository
    snapshots: SnapshotStore
    vault: KeyVault
    queue: RefreshQueue
    clients: ReferenceClients
    entries: EntryRepository
    uploads: UploadQueue
    """The upload queue, where entries waiting for references are queued again."""
    clock: Callable[[], datetime]
    budget_wait_s: float = 2.0
    """The longest a worker waits for a key's budget before starting on a message; a key booked
    further ahead has the message postponed (docs/architecture.md §8)."""


HandledAs = Literal[
    "updated", "unchanged", "failed", "waiting_for_key", "skipped", "superseded", "discovered", "postponed"
]


@dataclass(frozen=True)
class Handled:
    """What one message did (for logs and metrics)."""

    outcome: HandledAs
    detail: str = ""
    version: int | None = None
    resumed: int = 0
    """Entries waiting for references queued again after the refresh."""


@dataclass(frozen=True)
class FanOut:
    connections: int
    files: int
    messages: int


def fan_out(ports: RefreshPorts) -> FanOut:
    """Queue tonight's work: one rediscovery per active connection, one refresh per visible file."""
    now = ports.clock()
    requests: list[RefreshRequest] = []
    connections = ports.connections.list_active()
    files = 0
    for connection in connections:
        requests.append(
            RefreshRequest.for_discovery(connection.tenant, connection.connection_id, "nightly", now)
        )
        for file in ports.files.list(connection.connection_id):
            if file.visible:
                files += 1
                requests.append(
                    RefreshRequest.for_file(
                        connection.tenant, connection.connection_id, file.society_id, "nightly", now
                    )
                )
    sent = ports.queue.send(requests)
    return FanOut(connections=len(connections), files=files, messages=sent)


def handle(request: RefreshRequest, ports: RefreshPorts) -> Handled:
    """Carry out one queue message (see the module docstring)."""
    connection = ports.connections.get(request.tenant, request.connection_id)
    if connection is None or not connection.is_active or connection.secret_ref is None:
        return Handled("skipped", "connection not active")
    try:
        api_key = ports.vault.load(connection.secret_ref, connection.key_fingerprint)
    except KeyNotFound:
        return Handled("skipped", "key destroyed")
    used = connection.model_copy(update={"key_fingerprint": key_fingerprint(api_key)})
    wait = ports.clients.wait_s(used.key_fingerprint)
    if wait > ports.budget_wait_s:
        return _postpone(request, wait, ports)
    with closing(ports.clients.open(api_key)) as client:
        try:
            if request.kind == "discover":
                return rediscover(used, client, ports)
            if request.society_id is None:
                return Handled("skipped", "no client file named")
            return refresh_file(used, request.society_id, client, ports)
        except KEY_REFUSED as exc:
            return _park(used, request, exc, ports)
        except NOT_NOW as exc:
            said = budget_wait_s(exc, ports.clock().timestamp())
            return _postpone(request, 2.0 if said is None else said, ports)


def _postpone(request: RefreshRequest, wait_s: float, ports: RefreshPorts) -> Handled:
    """The key's budget is booked by other work: the message is queued again for when it has room
    (the received one is then deleted: no receive is spent) and the worker is free for others."""
    delay = postpone_delay(wait_s, ports.budget_wait_s)
    ports.queue.send([request], delay)
    return Handled("postponed", f"{delay:.0f} s")


def rediscover(connection: Connection, client: ReferenceClient, ports: RefreshPorts) -> Handled:
    """List the firm's dossiers again: new ones get a file (and a refresh), vanished ones a flag."""
    now = ports.clock()
    listed = [DiscoveredFile.of_society(s) for s in client.list_societies()]
    discovery = ports.files.apply_discovery(connection, listed, now)
    ports.connections.record_discovery(
        connection.tenant, connection.connection_id, at=now, warnings=discovery.warnings
    )
    ports.queue.send(
        [
            RefreshRequest.for_file(connection.tenant, connection.connection_id, sid, "discovered", now)
            for sid in discovery.new
        ]
    )
    return Handled("discovered", f"{len(discovery.new)} new, {len(discovery.vanished)} not visible")


def refresh_file(
    connection: Connection, society_id: int, client: ReferenceClient, ports: RefreshPorts
) -> Handled:
    """Fetch one file's references; store a new version only when they changed."""
    file = ports.files.get(connection.connection_id, society_id)
    if file is None or not file.visible:
        return Handled("skipped", "file unknown or not visible")
    now = ports.clock()
    try:
        references = build_references(
            client.list_accounts(society_id),
            client.list_diaries(society_id),
            client.list_fiscal_years(society_id),
        )
    except FILE_REFUSED as exc:
        ports.files.record_refresh(
            connection.connection_id, society_id, _failure(now, "failed", exc, file.reference_version)
        )
        return Handled("failed", exc.code)
    except MyUnisoftError as exc:
        if exc.retryable:
            ports.files.record_refresh(
                connection.connection_id, society_id, _failure(now, "retrying", exc, file.reference_version)
            )
        raise
    handled = _store(file, references, now, ports)
    if handled.outcome == "superseded":
        # Another writer (a concurrent refresh, or the upload worker recording an account it created)
        # moved the file first: store what was just read on top of its version.
        moved = ports.files.get(connection.connection_id, society_id)
        handled = handled if moved is None else _store(moved, references, now, ports)
    if handled.outcome not in ("updated", "unchanged"):
        return handled
    resumed = resume_waiting(
        connection.connection_id, society_id, entries=ports.entries, uploads=ports.uploads, clock=ports.clock
    )
    return replace(handled, resumed=resumed)


def build_references(
    accounts: list[AccountRecord], diaries: list[Diary], years: list[FiscalYearRecord]
) -> References:
    """MyUnisoft's answers as the bridge's reference data, subsidiary accounts set apart.

    Business rule (docs/architecture.md §3.2): every 401*/411* account is a subsidiary account, 401000 too.
    A journal closed or blocked in MyUnisoft is ``blocked`` (nothing can be posted to it).
    """
    general, subsidiaries = classify_accounts(
        Account(number=a.account_number, label=a.label, closed=a.closed) for a in accounts
    )
    journals = sorted(
        (
            Journal(code=d.code, name=d.name, type=d.diary_type_code, blocked=d.blocked or d.closed)
            for d in diaries
        ),
        key=lambda j: j.code,
    )
    fiscal_years = sorted(
        (FiscalYear(start=y.start_date, end=y.end_date, closed=y.closed) for y in years),
        key=lambda y: (y.start, y.end),
    )
    return References(
        accounts=tuple(general),
        subsidiaries=tuple(subsidiaries),
        journals=tuple(journals),
        fiscal_years=tuple(fiscal_years),
    )


def _store(file: ClientFile, references: References, now: datetime, ports: RefreshPorts) -> Handled:
    content_hash = references_hash(references)
    if content_hash == file.reference_hash:
        ports.files.record_refresh(
            file.connection_id,
            file.society_id,
            RefreshResult(at=now, outcome="unchanged", version=file.reference_version),
        )
        return Handled("unchanged", version=file.reference_version)
    previous = None
    if file.reference_version is not None:
        previous = ports.snapshots.load(file.connection_id, file.society_id, file.reference_version)
    changes = diff_references(None if previous is None else previous.references, references)
    version = (file.reference_version or 0) + 1
    snapshot = ReferenceSnapshot(
        connection_id=file.connection_id,
        society_id=file.society_id,
        version=version,
        refreshed_at=now,
        content_hash=content_hash,
        references=references,
        changes=changes,
    )
    try:
        ports.snapshots.save(snapshot)
    except SnapshotExists:
        stored = ports.snapshots.load(file.connection_id, file.society_id, version)
        if stored is None or stored.content_hash != content_hash:
            return Handled("superseded", "a concurrent refresh stored this version first")
    result = RefreshResult(at=now, outcome="updated", version=version, changes=changes.counts())
    if not ports.files.record_snapshot(
        file,
        version=version,
        content_hash=content_hash,
        counts=ReferenceCounts.of(references),
        result=result,
    ):
        return Handled("superseded", "a concurrent refresh moved the file first")
    return Handled("updated", version=version)


def _park(
    connection: Connection, request: RefreshRequest, exc: MyUnisoftError, ports: RefreshPorts
) -> Handled:
    """The key was refused: the connection waits for a new key (if the refused key is still its key)."""
    now = ports.clock()
    ports.connections.mark_revoked(connection, code=exc.code, message=exc.message, now=now)
    if request.kind == "refresh" and request.society_id is not None:
        ports.files.record_refresh(
            connection.connection_id, request.society_id, _failure(now, "waiting_for_key", exc, None)
        )
    return Handled("waiting_for_key", exc.code)


def _failure(
    now: datetime,
    outcome: Literal["failed", "retrying", "waiting_for_key"],
    exc: MyUnisoftError,
    version: int | None,
) -> RefreshResult:
    return RefreshResult(
        at=now,
        outcome=outcome,
        version=version,
        code=exc.code,
        message=exc.message,
        myunisoft_code=exc.myunisoft_code,
    )
