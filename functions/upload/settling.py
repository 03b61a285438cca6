"""Settling entries: each status write names its lifecycle transition (``tra_core.domain.lifecycle``).

Entries inside a batch are settled through it (one request for the whole batch, each change
conditional on the entry still being carried by that batch); entries refused or parked before any
batch are settled one by one, conditional on the status they were read in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from tra_core.domain.errors import TraError
from tra_core.domain.lifecycle import OPEN_STATUSES, EntryStatus, Transition
from tra_core.store.batches import BatchRecord
from tra_core.store.entries import EntryChange, EntryIssue, EntryKey, EntryRecord
from upload.answers import issue_of
from upload.file_run import FileRun
from upload.verifying import on_upload

INTERRUPTED = EntryIssue(
    code="UPLOAD_INTERRUPTED",
    message="The upload was interrupted too many times; retry the entry later.",
)
MYUNISOFT_REJECTED = EntryIssue(code="MYUNISOFT_REJECTED", message="MyUnisoft refused the entry.")
CONNECTION_NOT_ACTIVE = EntryIssue(
    code="CONNECTION_NOT_ACTIVE",
    message="The connection's MyUnisoft key was revoked or removed: paste a new firm key "
    "(PUT /connections/{id}/key) and the entry will be sent.",
)
REFERENCES_NOT_READY = EntryIssue(
    code="REFERENCES_NOT_READY",
    message="The client file's references (chart of accounts, journals, fiscal years) have not "
    "been fetched yet, so the entry cannot be checked; it will be tried again.",
)


def update_members(
    run: FileRun,
    batch: BatchRecord,
    *,
    transition: Transition | None,
    attempts: int,
    set_values: dict[str, Any] | None = None,
    remove: Sequence[str] = (),
    expect_status: Collection[EntryStatus] = OPEN_STATUSES,
) -> None:
    """Change every entry still carried by ``batch`` (one request for the whole batch)."""
    changes = [
        EntryChange(
            key=EntryKey(run.connection_id, run.society_id, member.entry_id),
            version=member.version,
            transition=transition,
            expect_status=expect_status,
            expect_batch=batch.batch_id,
            set_values=set_values,
            remove=remove,
            add_attempts=attempts,
        )
        for member in batch.members
    ]
    run.ports.entries.update_all(changes, run.ports.clock())


def _members(batch: BatchRecord) -> list[str]:
    return [m.entry_id for m in batch.members]


def settle_uploaded(run: FileRun, batch: BatchRecord, unsettled: int, *, counted: bool) -> None:
    """MyUnisoft holds the batch: its entries are ``uploaded`` (md5, request id, time), and their
    read-back is queued (``upload.verifying``)."""
    update_members(
        run,
        batch,
        transition=Transition.UPLOAD,
        attempts=unsettled + (1 if counted else 0),
        set_values={
            "tra_md5": batch.tra_md5,
            "request_id": batch.request_id,
            "uploaded_at": (batch.uploaded_at or run.ports.clock()).isoformat(),
            **on_upload(run, batch),
        },
        remove=("last_error", "maintenance_waits"),
    )
    run.count("uploaded", len(batch.members))
    run.fates.done(_members(batch))


def settle_rejected(
    run: FileRun, batch: BatchRecord, issue: EntryIssue | None, unsettled: int, *, counted: bool
) -> None:
    """MyUnisoft refused the batch's only entry (or the client file): its entries are ``rejected``."""
    issue = issue or MYUNISOFT_REJECTED
    update_members(
        run,
        batch,
        transition=Transition.REJECT,
        attempts=unsettled + (1 if counted else 0),
        set_values={"last_error": issue.as_item(), "problems": [issue.as_item()]},
    )
    run.count("rejected", len(batch.members))
    run.fates.done(_members(batch))


def settle_failed(run: FileRun, batch: BatchRecord, issue: EntryIssue, attempts: int) -> None:
    """The attempts are exhausted: the entries are ``failed`` and their messages dead-lettered."""
    update_members(
        run, batch, transition=Transition.FAIL, attempts=attempts, set_values={"last_error": issue.as_item()}
    )
    run.count("failed", len(batch.members))
    run.fates.dead_letter(_members(batch))


def transient(run: FileRun, posted: BatchRecord, exc: TraError, unsettled: int) -> None:
    """A failure that may pass: retry with backoff, or give up after the maximum attempts."""
    issue = issue_of(exc)
    if posted.round_attempts >= run.policy.max_attempts:
        settle_failed(run, posted, issue, 1 + unsettled)
        return
    update_members(
        run, posted, transition=None, attempts=1 + unsettled, set_values={"last_error": issue.as_item()}
    )
    run.fates.retry(_members(posted), run.policy.backoff(posted.round_attempts))
    run.count("transient")


def key_refused(run: FileRun, batch: BatchRecord, exc: TraError, unsettled: int) -> None:
    """The key no longer works: the connection waits for a new key, and so do the entries."""
    assert run.connection is not None
    now = run.ports.clock()
    revoked = run.ports.connections.mark_revoked(run.connection, code=exc.code, message=exc.message, now=now)
    # A batch that can never have reached MyUnisoft is dissolved; one that may have is kept,
    # so that the same bytes are sent once a key is back.
    dissolved = not batch.may_be_imported and run.ports.batches.abandon(
        batch.batch_id, run.owner, now=run.ports.clock()
    )
    update_members(
        run,
        batch,
        transition=Transition.PARK_FOR_KEY,
        attempts=unsettled,
        set_values={"last_error": issue_of(exc).as_item()},
        remove=("batch_id",) if dissolved else (),
    )
    members = _members(batch)
    run.count("waiting_for_key", len(members))
    if revoked is None and run.key_replaced():
        run.fates.retry(members, 1.0)  # a new key arrived meanwhile: try again with it
    else:
        run.fates.done(members)


def park(run: FileRun, records: list[EntryRecord]) -> None:
    """The connection cannot call MyUnisoft now: the entries wait for a new key."""
    now = run.ports.clock()
    for record in records:
        run.ports.entries.update(
            record.key,
            record.version,
            now=now,
            transition=Transition.PARK_FOR_KEY,
            expect_status=OPEN_STATUSES,
            expect_batch=record.batch_id,
            set_values={"last_error": CONNECTION_NOT_ACTIVE.as_item()},
        )
    run.count("waiting_for_key", len(records))
    if run.key_replaced():
        # A key was put between our read and the parking, and its re-queue may have missed
        # these entries: look at them again shortly instead of leaving them parked.
        run.fates.retry((r.entry_id for r in records), 1.0)
    else:
        run.fates.done(r.entry_id for r in records)


def reject_checked(run: FileRun, record: EntryRecord, issues: list[EntryIssue]) -> None:
    """The entry failed the checks against the references or its documents: nothing is sent."""
    run.ports.entries.update(
        record.key,
        record.version,
        now=run.ports.clock(),
        transition=Transition.REJECT,
        expect_status=[record.status],
        expect_batch=record.batch_id,
        set_values={"problems": [i.as_item() for i in issues], "last_error": issues[0].as_item()},
        remove=("batch_id",) if record.batch_id else (),
    )
    run.count("rejected")
    run.fates.done([record.entry_id])


def not_ready(run: FileRun, record: EntryRecord, issue: EntryIssue = REFERENCES_NOT_READY) -> None:
    """The file's references were never fetched (or ``issue``, another failure that may pass, stopped
    the entry before any batch): try again later, as a counted attempt."""
    exhausted = record.attempts + 1 >= run.policy.max_attempts
    run.ports.entries.update(
        record.key,
        record.version,
        now=run.ports.clock(),
        transition=Transition.FAIL if exhausted else None,
        expect_status=[record.status],
        expect_batch=record.batch_id,
        set_values={"last_error": issue.as_item()},
        add_attempts=1,
    )
    if exhausted:
        run.count("failed")
        run.fates.dead_letter([record.entry_id])
    else:
        run.fates.retry([record.entry_id], run.policy.backoff(record.attempts + 1))


def park_for_references(run: FileRun, record: EntryRecord, issues: list[EntryIssue]) -> bool:
    """The entry is right but the client file lacks a fiscal year, or a third party the bridge may
    not create: it waits (``waiting_for_references``) with its problems until a refresh resumes it.

    ``False`` when the entry was not parked: it is in a status that cannot wait for references
    (a stale message of an entry waiting for its key); its message is done either way.
    """
    if not Transition.PARK_FOR_REFERENCES.allows(record.status):
        run.fates.done([record.entry_id])
        return False
    parked = run.ports.entries.update(
        record.key,
        record.version,
        now=run.ports.clock(),
        transition=Transition.PARK_FOR_REFERENCES,
        expect_status=[record.status],
        expect_batch=record.batch_id,
        set_values={"problems": [i.as_item() for i in issues], "last_error": issues[0].as_item()},
        remove=("batch_id",) if record.batch_id else (),
    )
    if parked is not None:
        run.count("waiting_for_references")
    return parked is not None


def unpark_moved(run: FileRun, parked: list[EntryRecord]) -> None:
    """Decide the messages of the entries just parked: done, unless a refresh moved the file's
    references meanwhile (its resume may have missed them): then they are queued again at once."""
    entry_ids = [r.entry_id for r in parked]
    if parked and run.references_moved():
        for record in parked:
            run.ports.entries.update(
                record.key,
                record.version,
                now=run.ports.clock(),
                transition=Transition.RESUME,
                expect_status=[EntryStatus.WAITING_FOR_REFERENCES],
            )
        run.fates.retry(entry_ids, 1.0)
        return
    run.fates.done(entry_ids)


def maintenance_delay(run: FileRun, waits: int) -> float:
    """The wait after the ``waits``-th maintenance answer: the upload backoff, never an attempt."""
    run.count("maintenance")
    return run.policy.backoff(waits)


def wait_out_maintenance(run: FileRun, batch: BatchRecord, exc: TraError) -> None:
    """MyUnisoft is under maintenance: nothing was imported (assumption A7). No attempt is spent;
    the entries wait, ``queued`` again when the batch can be dissolved (no earlier post of it may
    have reached MyUnisoft), and come back after a growing delay."""
    current = run.ports.entries.get_many(batch.keys())
    waits = 1 + max(
        (r.maintenance_waits for r in current.values() if r.batch_id == batch.batch_id), default=0
    )
    dissolved = not batch.may_be_imported and run.ports.batches.abandon(
        batch.batch_id, run.owner, now=run.ports.clock()
    )
    update_members(
        run,
        batch,
        transition=Transition.REQUEUE if dissolved else None,
        attempts=0,
        set_values={"maintenance_waits": waits, "last_error": issue_of(exc).as_item()},
        remove=("batch_id",) if dissolved else (),
        expect_status=[EntryStatus.UPLOADING] if dissolved else OPEN_STATUSES,
    )
    run.fates.retry(_members(batch), maintenance_delay(run, waits))


def hold_for_maintenance(run: FileRun, records: list[EntryRecord], exc: TraError) -> None:
    """MyUnisoft is under maintenance before the entries joined a batch (creating an account): they
    keep their status and come back after a growing delay, no attempt spent."""
    waits = 1 + max((r.maintenance_waits for r in records), default=0)
    now = run.ports.clock()
    for record in records:
        run.ports.entries.update(
            record.key,
            record.version,
            now=now,
            expect_status=[record.status],
            expect_batch=record.batch_id,
            set_values={"maintenance_waits": waits, "last_error": issue_of(exc).as_item()},
        )
    run.fates.retry((r.entry_id for r in records), maintenance_delay(run, waits))
