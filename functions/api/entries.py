"""Use cases of the entry routes: intake, preview, status, retry, and resuming parked entries.

Intake (docs/architecture.md §3.1, §3.4): the body holds one entry or a list. Every entry is checked
now (``api.entry_checks``) and every problem is answered at once (400); nothing is stored unless all
are valid. Each valid entry is stored ``queued`` and one message per entry is sent to the upload
queue. Posting the same ``entry_id`` and ``version`` again changes nothing; a higher version
supersedes the stored one (a new lifecycle); a lower one is refused (``outdated``): an older version
never overwrites a newer one.

The preview is a dry run over the same checks plus the file's references: the TRA text, the
warnings and every problem, nothing stored or sent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from api.connections import ApiPorts, Connected, replace_key
from api.entry_checks import MAX_PAGE, check_entries, refusal
from api.errors import ConnectionNotActive, EntryConflict, InvalidRequest, NotFound
from api.files import get_file
from tra_core.domain.checks import check_against_references
from tra_core.domain.entry import Entry
from tra_core.domain.errors import EntryProblem, Notice
from tra_core.domain.lifecycle import EntryStatus, Transition
from tra_core.domain.references import References
from tra_core.domain.triage import NewSubsidiary, triage
from tra_core.store.entries import EntryKey, EntryRecord, EntryWarning, Submitted, UploadRequest
from tra_core.store.errors import InvalidCursor
from tra_core.store.ports import (
    ConnectionRepository,
    DocumentStore,
    EntryRepository,
    FileRepository,
    SnapshotStore,
    UploadPacing,
    UploadQueue,
)
from tra_core.store.records import ClientFile, Connection, ConnectionStatus
from tra_core.tra.writer import RenderedTra, TraOptions, render_tra

#: SQS's longest delivery delay: messages of a backlog further ahead come early (and are postponed).
MAX_DELAY_S = 900


@dataclass(frozen=True)
class IntakePorts:
    """Everything the entry and attachment routes touch."""

    connections: ConnectionRepository
    files: FileRepository
    snapshots: SnapshotStore
    entries: EntryRepository
    documents: DocumentStore
    queue: UploadQueue
    clock: Callable[[], datetime]
    upload_url_expires_s: int = 900
    pacing: UploadPacing | None = None
    """Paces a large post's messages by its key's budget (``None``: every message at once)."""


@dataclass(frozen=True)
class Accepted:
    """What intake did with one posted entry, and the warnings of its rendering."""

    submitted: Submitted
    warnings: tuple[EntryWarning, ...] = ()


@dataclass(frozen=True)
class EntryPreview:
    entry: Entry
    problems: tuple[EntryProblem, ...]
    warnings: tuple[Notice, ...]
    attachments: tuple[str, ...]
    would_create: tuple[NewSubsidiary, ...] = ()
    """Third parties the upload would create in MyUnisoft for this entry."""


@dataclass(frozen=True)
class Preview:
    """A dry run: the schema problems, each entry's problems and warnings, and the TRA of the valid ones."""

    problems: tuple[EntryProblem, ...]
    entries: tuple[EntryPreview, ...]
    references_version: int | None
    rendered: RenderedTra | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return (
            not self.problems
            and self.references_version is not None
            and all(not e.problems for e in self.entries)
        )

    @property
    def would_create(self) -> tuple[NewSubsidiary, ...]:
        """Every third party the upload would create, once each, in entry order."""
        found: dict[str, NewSubsidiary] = {}
        for preview in self.entries:
            for account in preview.would_create:
                found.setdefault(account.number, account)
        return tuple(found.values())


# -- shared steps ----------------------------------------------------------------------------------


def warnings_by_entry(rendered: RenderedTra) -> dict[str, list[Notice]]:
    found: dict[str, list[Notice]] = defaultdict(list)
    for notice in rendered.notices:
        found[notice.entry_id or ""].append(notice)
    return found


def references_of(file: ClientFile, ports: IntakePorts) -> References | None:
    if file.reference_version is None:
        return None
    snapshot = ports.snapshots.load(file.connection_id, file.society_id, file.reference_version)
    return None if snapshot is None else snapshot.references


# -- use cases -------------------------------------------------------------------------------------


def send_paced(
    key_fingerprint: str, requests: list[UploadRequest], ports: IntakePorts, now: datetime
) -> None:
    """Queue the requests, delayed when the key already has more queued than its budget uploads in
    a window: a firm's year of entries then never stands in the queue between the workers and
    another firm's entry (``tra_core.store.backlog``, docs/architecture.md §8)."""
    if ports.pacing is None or not requests:
        ports.queue.send(requests)
        return
    ahead = ports.pacing.admit(key_fingerprint, len(requests), now.timestamp()) - now.timestamp()
    by_delay: dict[int, list[UploadRequest]] = defaultdict(list)
    for position, request in enumerate(requests):
        by_delay[min(max(0, math.floor(ahead + position / ports.pacing.entries_per_s)), MAX_DELAY_S)].append(
            request
        )
    for delay, group in sorted(by_delay.items()):
        ports.queue.send(group, float(delay))


def submit_entries(tenant: str, file_id: str, raw: object, ports: IntakePorts) -> list[Accepted]:
    """Store and queue the posted entries (see the module docstring); one result per entry, in order.

    Raises ``EntryConflict`` when every posted entry is outdated (nothing was accepted).
    """
    file = get_file(tenant, file_id, ports)
    connection = ports.connections.get(tenant, file.connection_id)
    if connection is None or connection.status is ConnectionStatus.DISCONNECTED:
        raise ConnectionNotActive(
            "The connection was disconnected: nothing more is sent to MyUnisoft. Connect the firm again "
            "(PUT /connections/{id}/key) before posting entries.",
            details={"connection_id": file.connection_id},
        )
    checked = check_entries(raw, file)
    if checked.problems:
        raise refusal(checked.problems)
    entries = checked.entries
    notices = warnings_by_entry(render_tra(entries, TraOptions()))
    now = ports.clock()
    accepted: list[Accepted] = []
    to_send: list[UploadRequest] = []
    records = [
        EntryRecord.queued(
            entry,
            tenant=tenant,
            connection_id=file.connection_id,
            society_id=file.society_id,
            warnings=[EntryWarning.of_notice(n) for n in notices.get(entry.entry_id, [])],
            now=now,
        )
        for entry in entries
    ]
    for record, submitted in zip(records, ports.entries.submit_many(records), strict=True):
        warnings = record.warnings
        if submitted.outcome in ("queued", "superseded"):
            to_send.append(UploadRequest.of(submitted.record, "intake", now))
        elif submitted.outcome == "unchanged" and submitted.record.status is EntryStatus.QUEUED:
            # A repeated post of an entry still queued (perhaps its message was never sent): send it
            # again; the worker ignores a second message for work already done.
            to_send.append(UploadRequest.of(submitted.record, "unsent", now))
        accepted.append(Accepted(submitted, warnings if submitted.outcome != "outdated" else ()))
    send_paced(connection.key_fingerprint, to_send, ports, now)
    if all(a.submitted.outcome == "outdated" for a in accepted):
        raise EntryConflict(
            "A newer version of every posted entry is already stored: an older version never replaces "
            "a newer one.",
            code="VERSION_OUTDATED",
            details={
                "entries": [
                    {"entry_id": a.submitted.record.entry_id, "stored_version": a.submitted.record.version}
                    for a in accepted
                ]
            },
        )
    return accepted


def preview_entries(tenant: str, file_id: str, raw: object, ports: IntakePorts) -> Preview:
    """A dry run: the checks of ``submit_entries`` (the same refusals, the same problems), checks
    against the file's current references, and the TRA text."""
    file = get_file(tenant, file_id, ports)
    shared = check_entries(raw, file)
    entries, problems = shared.entries, shared.problems
    references = references_of(file, ports)
    connection = ports.connections.get(tenant, file.connection_id)
    creatable = connection is None or connection.create_missing_subsidiaries
    checked = [(entry, *_checked(entry, references, creatable)) for entry in entries]
    valid = [entry for entry, found, _ in checked if not found]
    rendered = render_tra(valid, TraOptions()) if valid else None
    notices = warnings_by_entry(rendered) if rendered is not None else {}
    names = dict(zip((e.entry_id for e in valid), rendered.attachment_names, strict=True)) if rendered else {}
    notes: tuple[str, ...] = ()
    if references is None:
        notes = (
            "The client file's references have not been fetched yet: the entries were not checked "
            "against its accounts, journals and fiscal years.",
        )
    return Preview(
        problems=tuple(problems),
        entries=tuple(
            EntryPreview(
                entry=entry,
                problems=found,
                warnings=tuple(notices.get(entry.entry_id, ())),
                attachments=tuple(names.get(entry.entry_id, ())),
                would_create=created,
            )
            for entry, found, created in checked
        ),
        references_version=file.reference_version if references is not None else None,
        rendered=rendered,
        notes=notes,
    )


def _checked(
    entry: Entry, references: References | None, creatable: bool
) -> tuple[tuple[EntryProblem, ...], tuple[NewSubsidiary, ...]]:
    """The entry's problems against the references, and the third parties its upload would create
    (a missing one is no problem when the connection lets the bridge create it)."""
    if references is None:
        return (), ()
    found = check_against_references(entry, references)
    verdict = triage(entry, references, found, create_missing_subsidiaries=creatable)
    if verdict.ready:
        return (), verdict.to_create
    return tuple(found), ()


def list_entries(
    tenant: str,
    file_id: str,
    ports: IntakePorts,
    *,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[ClientFile, list[EntryRecord], str | None]:
    """One page of a file's entries, optionally in one status."""
    file = get_file(tenant, file_id, ports)
    wanted = None
    if status:
        try:
            wanted = EntryStatus(status)
        except ValueError:
            raise InvalidRequest(
                f"Unknown status {status!r}: use one of {', '.join(s.value for s in EntryStatus)}.",
                code="INVALID_STATUS",
            ) from None
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}.", code="INVALID_LIMIT")
    try:
        records, following = ports.entries.list_file(
            file.connection_id, file.society_id, status=wanted, limit=limit, cursor=cursor
        )
    except InvalidCursor:
        raise InvalidRequest("The cursor is not one this API gave.", code="INVALID_CURSOR") from None
    return file, records, following


def get_entry(tenant: str, file_id: str, entry_id: str, ports: IntakePorts) -> EntryRecord:
    file = get_file(tenant, file_id, ports)
    record = ports.entries.get(EntryKey(file.connection_id, file.society_id, entry_id))
    if record is None:
        raise NotFound(
            "No such entry in this client file.", details={"file_id": file_id, "entry_id": entry_id}
        )
    return record


def retry_entry(tenant: str, file_id: str, entry_id: str, ports: IntakePorts) -> EntryRecord:
    """Queue a ``failed``, ``rejected`` or ``waiting_for_references`` entry again (after the cause
    was fixed).

    A failed entry keeps its frozen archive (MyUnisoft may already hold it: the same bytes are sent
    again); a rejected one is checked and rendered afresh.
    """
    record = get_entry(tenant, file_id, entry_id, ports)
    now = ports.clock()
    if record.status is EntryStatus.FAILED:
        updated = ports.entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.RETRY,
            expect_status=[EntryStatus.FAILED],
        )
    elif record.status is EntryStatus.REJECTED:
        updated = ports.entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.RETRY,
            expect_status=[EntryStatus.REJECTED],
            remove=("batch_id", "problems"),
        )
    elif record.status is EntryStatus.WAITING_FOR_REFERENCES:
        # Checked again now rather than at the next refresh (after the accountant fixed MyUnisoft).
        updated = ports.entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.RESUME,
            expect_status=[EntryStatus.WAITING_FOR_REFERENCES],
            remove=("problems",),
        )
    else:
        updated = None
    if updated is None:
        current = get_entry(tenant, file_id, entry_id, ports)
        raise EntryConflict(
            "Only a failed, rejected or waiting_for_references entry can be retried; this one is "
            f"{current.status.value}.",
            code="ENTRY_NOT_RETRYABLE",
            details={"entry_id": entry_id, "status": current.status.value},
        )
    ports.queue.send([UploadRequest.of(updated, "retry", now)])
    return updated


def resume_parked(connection: Connection, ports: IntakePorts) -> int:
    """Queue again every entry of the connection that waits for a key; returns how many."""
    if not connection.is_active:
        return 0
    now = ports.clock()
    requests: list[UploadRequest] = []
    for record in ports.entries.list_by_status(connection.connection_id, EntryStatus.WAITING_FOR_KEY):
        updated = ports.entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.RESUME,
            expect_status=[EntryStatus.WAITING_FOR_KEY],
        )
        if updated is not None:
            requests.append(UploadRequest.of(updated, "key_replaced", now))
    return ports.queue.send(requests)


def replace_key_and_resume(
    tenant: str, connection_id: str, api_key: str, ports: ApiPorts, intake: Callable[[], IntakePorts]
) -> Connected:
    """``PUT /connections/{id}/key``: put the new key, then re-queue the entries parked for want of one."""
    result = replace_key(tenant, connection_id, api_key, ports)
    resume_parked(result.connection, intake())
    return result
