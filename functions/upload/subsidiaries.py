"""Sorting out checked entries before they join a batch, and creating the third parties they name.

Business rule (docs/architecture.md §4, ``tra_core.domain.triage``): an entry wrong in itself is
``rejected``; an entry that is right but names what the client file lacks *yet* waits
(``waiting_for_references``): a date no fiscal year covers, or a subsidiary account the connection
does not let the bridge create. Otherwise the subsidiary accounts it lacks are created with
MyUnisoft's find-or-create (``POST /api/v1/account``, assumption A12) before its archive is built:

- once per account and per file run, however many entries name it (each call draws on the key's
  rate budget); two workers racing for one number get one account, since the route is idempotent;
- each account created is added to the run's references *and* recorded as a new version of the
  file's references (the previous one plus the accounts), so later runs find it without a call and
  ``GET /files/{id}/references`` shows it; the next refresh reads the same account from MyUnisoft;
- every entry naming a created account gets a ``SUBSIDIARY_CREATED`` warning;
- MyUnisoft's refusal of an account (``COMPTE6``, ``COMPTE7``...) rejects the entries naming it with
  its code verbatim; a limit, maintenance, a refused key or a failure that may pass holds them as
  the upload would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from tra_core.domain.checks import check_against_references
from tra_core.domain.entry import Entry, ThirdParty
from tra_core.domain.errors import Notice
from tra_core.domain.references import Account, References
from tra_core.domain.triage import NewSubsidiary, created_notice, triage, with_subsidiaries
from tra_core.myunisoft.models import ThirdPartyDetails
from tra_core.store.entries import EntryIssue, EntryRecord
from tra_core.store.errors import SnapshotExists
from tra_core.store.records import (
    ChangeSet,
    ReferenceChanges,
    ReferenceCounts,
    ReferenceSnapshot,
    references_hash,
)
from upload.answers import ANSWERED, Answer, Outcome, classify, issue_of
from upload.file_run import FileRun
from upload.sending import wait_for
from upload.settling import (
    hold_for_maintenance,
    not_ready,
    park,
    park_for_references,
    reject_checked,
    unpark_moved,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Going:
    """An entry that may join a batch, with the warnings of its checks."""

    record: EntryRecord
    entry: Entry
    notices: tuple[Notice, ...] = ()


@dataclass
class Creation:
    """What the run's account creations gave: accounts by number, refusals by number, and the answer
    that stopped them (a limit, maintenance, a refused key...), if one did."""

    created: dict[str, Account] = field(default_factory=dict)
    refused: dict[str, EntryIssue] = field(default_factory=dict)
    stopped: Answer | None = None


def sort_out(run: FileRun, records: list[EntryRecord], references: References) -> list[Going]:
    """Check each entry against the file's references: reject it, let it wait, or let it go on once
    the accounts it lacks exist (see the module docstring). Settles every entry that does not go on."""
    assert run.connection is not None
    creatable = run.connection.create_missing_subsidiaries
    pending: list[tuple[EntryRecord, Entry, tuple[NewSubsidiary, ...]]] = []
    parked: list[EntryRecord] = []
    for record in records:
        entry = record.entry()
        problems = check_against_references(entry, references)
        verdict = triage(entry, references, problems, create_missing_subsidiaries=creatable)
        issues = [EntryIssue.of_problem(p) for p in problems]
        if verdict.rejecting:
            reject_checked(run, record, issues)
        elif verdict.waiting:
            if park_for_references(run, record, issues):
                parked.append(record)
        else:
            pending.append((record, entry, verdict.to_create))
    unpark_moved(run, parked)
    creation = create_missing(run, [account for _, _, wanted in pending for account in wanted])
    going: list[Going] = []
    held: list[EntryRecord] = []
    for record, entry, wanted in pending:
        refused = [creation.refused[a.number] for a in wanted if a.number in creation.refused]
        if refused:
            reject_checked(run, record, refused)
        elif any(a.number not in creation.created for a in wanted):
            held.append(record)
        else:
            going.append(Going(record, entry, tuple(notices_of(entry, wanted))))
    if held and creation.stopped is not None:
        hold(run, held, creation.stopped)
    return going


def notices_of(entry: Entry, created: tuple[NewSubsidiary, ...]) -> list[Notice]:
    """One ``SUBSIDIARY_CREATED`` warning per account created for ``entry``, on its first line naming it."""
    first_line: dict[str, int] = {}
    for number, line in enumerate(entry.lines, start=1):
        if line.subsidiary_code is not None:
            first_line.setdefault(line.subsidiary_code, number)
    return [created_notice(entry.entry_id, account, first_line.get(account.number)) for account in created]


def create_missing(run: FileRun, wanted: list[NewSubsidiary]) -> Creation:
    """Find-or-create each account of ``wanted`` once (the first naming a third party gives its
    details); stops at the first answer that is not about the account itself."""
    accounts: dict[str, NewSubsidiary] = {}
    for account in wanted:
        if account.number not in accounts or accounts[account.number].third_party is None:
            accounts[account.number] = account
    creation = Creation()
    for number, account in accounts.items():
        try:
            found = run.account_creator().create_account(
                run.society_id, number, account.label, third_party=details_of(account.third_party)
            )
        except ANSWERED as exc:
            answer = classify(exc)
            if answer.outcome in (Outcome.REFUSED, Outcome.FILE_REFUSED):
                creation.refused[number] = issue_of(exc)
                run.count("accounts_refused")
                continue
            creation.stopped = answer
            break
        creation.created[number] = Account(number=number, label=found.label, closed=found.closed)
        run.count("accounts_created")
    if creation.created:
        remember(run, list(creation.created.values()))
    return creation


def details_of(third_party: ThirdParty | None) -> ThirdPartyDetails | None:
    """The line's third party as MyUnisoft's upsert takes it (``complementary_info``)."""
    if third_party is None:
        return None
    return ThirdPartyDetails.model_validate(third_party.model_dump(exclude_none=True))


def remember(run: FileRun, accounts: list[Account]) -> None:
    """Add ``accounts`` to the run's references, and to the file's as a new version (the current one
    plus the accounts), unless a refresh moved the file meanwhile: it read them from MyUnisoft, or
    the next run finds them again with one idempotent call."""
    ports = run.ports
    file = ports.files.get(run.connection_id, run.society_id)
    current = None
    if file is not None and file.reference_version is not None:
        current = ports.snapshots.load(run.connection_id, run.society_id, file.reference_version)
    if file is None or current is None:
        run.add_subsidiaries(accounts)
        return
    merged = with_subsidiaries(current.references, accounts)
    known = {a.number for a in current.references.subsidiaries}
    added = tuple(sorted(a.number for a in accounts if a.number not in known))
    version = current.version + 1
    snapshot = ReferenceSnapshot(
        connection_id=run.connection_id,
        society_id=run.society_id,
        version=version,
        refreshed_at=current.refreshed_at,
        content_hash=references_hash(merged),
        references=merged,
        changes=ReferenceChanges(subsidiaries=ChangeSet(added=added)),
    )
    recorded = False
    if file.last_refresh is not None and added:
        try:
            ports.snapshots.save(snapshot)
            recorded = ports.files.record_snapshot(
                file,
                version=version,
                content_hash=snapshot.content_hash,
                counts=ReferenceCounts.of(merged),
                result=file.last_refresh,
            )
        except SnapshotExists:
            logger.info("a refresh stored the file's next references first", extra={"version": version})
    run.add_subsidiaries(accounts, version if recorded else None)


def hold(run: FileRun, records: list[EntryRecord], stopped: Answer) -> None:
    """Entries whose accounts could not be created now, for a reason outside them."""
    assert stopped.error is not None
    if stopped.outcome is Outcome.NOT_NOW:
        run.fates.postpone((r.entry_id for r in records), wait_for(run, stopped.error))
        run.count("rate_limited")
    elif stopped.outcome is Outcome.MAINTENANCE:
        hold_for_maintenance(run, records, stopped.error)
    elif stopped.outcome is Outcome.KEY_REFUSED:
        assert run.connection is not None
        error = stopped.error
        run.ports.connections.mark_revoked(
            run.connection, code=error.code, message=error.message, now=run.ports.clock()
        )
        park(run, records)
    else:
        for record in records:
            not_ready(run, record, stopped.issue)
