"""Entry upload (docs/architecture.md §1, §4, §8): one SQS batch of entry versions in, every entry
settled, parked or scheduled for a retry out.

For each client file named by the messages:

1. Entries whose version is superseded, or already ``uploaded``/``rejected``, are done (a
   duplicated delivery changes nothing).
2. A connection that cannot call MyUnisoft (revoked key, disconnected) parks its entries as
   ``waiting_for_key``: ``PUT /connections/{id}/key`` re-queues them.
3. Entries already inside a batch (a retry, a crashed worker's work) are finished *through that
   batch*: the frozen archive is re-sent as is, so MyUnisoft sees the same ``.tra`` bytes.
4. Other entries are checked against the file's current references (``upload.subsidiaries``: an
   entry wrong in itself is ``rejected`` with every reason; one that needs a fiscal year, or a
   third party the bridge may not create, waits as ``waiting_for_references``; missing third
   parties are created) and their documents, rendered to TRA with the new batch's id in the
   header, zipped with their documents into one archive per file (several entries per archive
   under backlog), frozen in S3, and moved into a new batch by one transaction
   (``upload.batching``).
5. The batch is uploaded by the holder of its lease (``upload.sending``) and its entries settled
   from MyUnisoft's answer (``upload.answers``, ``upload.settling``); an accepted archive queues its
   read-back (``upload.verifying``); an archive of several entries that MyUnisoft refused is
   bisected to find the bad one, after its entries MyUnisoft kept are settled (``upload.refused``).

The fate of each message (deleted, back later, dead-lettered) is kept by ``upload.messages``.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence

from tra_core.domain.lifecycle import FINAL_STATUSES, EntryStatus, Transition
from tra_core.store.batches import BatchRecord, BatchStatus
from tra_core.store.entries import EntryKey, EntryRecord
from tra_core.store.errors import KeyNotFound
from tra_core.store.records import Connection, key_fingerprint
from upload.batching import BatchPlan, Ready, chunks, form_batch
from upload.documents import read_documents
from upload.file_run import FileRun
from upload.messages import Delivery, Fates, Report
from upload.ports import UploadPolicy, UploadPorts
from upload.refused import settle_kept
from upload.sending import send
from upload.settling import not_ready, park, reject_checked, settle_rejected, settle_uploaded
from upload.subsidiaries import sort_out

__all__ = ["Delivery", "Report", "UploadPolicy", "UploadPorts", "process"]

logger = logging.getLogger(__name__)

#: Longest wait before a message whose batch another worker is sending is looked at again.
BUSY_RECHECK_S = 5.0


def process(
    deliveries: Sequence[Delivery], ports: UploadPorts, time_left: Callable[[], float] | None = None
) -> Report:
    """Handle one SQS batch (see the module docstring); never raises for one file's trouble.

    ``time_left`` gives the seconds left before the invocation's timeout: uploads that could not
    finish in time are not started, and their messages come back at once.
    """
    report = Report()
    owner = uuid.uuid4().hex
    groups: dict[tuple[str, str, int], list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        request = delivery.request
        if request is None:
            # A message no worker can read never succeeds: straight to the dead-letter queue.
            ports.queue.dead_letter(delivery.body)
            report.counts["unreadable"] += 1
            continue
        groups[(request.tenant, request.connection_id, request.society_id)].append(delivery)
    # Smallest first: a firm's lone entry is not kept behind another firm's archive of fifty.
    for file, group in sorted(groups.items(), key=lambda item: len(item[1])):
        fates = Fates(group, ports.queue, report)
        run = FileRun(ports, owner, file, fates, time_left)
        delay = 1.0
        try:
            run_file(run)
        except Exception:
            logger.exception("upload of a client file's entries failed", extra={"society_id": file[2]})
            report.counts["errors"] += 1
            delay = ports.policy.retry_base_s
        finally:
            run.close()
        # A message left undecided comes back soon, never after the queue's long visibility timeout.
        fates.retry_undecided(delay)
        report.failed.extend(fates.unfinished())
    return report


def run_file(run: FileRun) -> None:
    """The work on one client file's messages (steps 1 to 5 of the module docstring)."""
    connection = run.ports.connections.get(run.tenant, run.connection_id)
    if not budget_first(run, connection):
        return
    todo = current_records(run)
    if not todo or not open_key(run, todo, connection):
        return
    bound: dict[str, list[EntryRecord]] = defaultdict(list)
    fresh: list[EntryRecord] = []
    for record in todo:
        if record.batch_id is None:
            fresh.append(record)
        else:
            bound[record.batch_id].append(record)
    for batch_id, members in bound.items():
        fresh.extend(resume(run, batch_id, members))
    if fresh:
        form(run, fresh, run.policy.batch_max_entries)


def budget_first(run: FileRun, connection: Connection | None) -> bool:
    """Whether the file's key has room in its budget, asked before anything else is read: under
    another firm's backlog most messages a worker receives are of a key booked ahead, and they go
    back at the cost of one connection read (docs/architecture.md §8). Messages of an unknown or
    inactive connection go on, to be settled as such."""
    if connection is None or not connection.is_active:
        return True
    return run.budget_ready(run.fates.deliveries, connection.key_fingerprint)


def current_records(run: FileRun) -> list[EntryRecord]:
    """The entries whose messages name their current, unsettled version; other messages are done."""
    deliveries = run.fates.deliveries
    keys = [EntryKey(run.connection_id, run.society_id, entry_id) for entry_id in deliveries]
    records = run.ports.entries.get_many(keys)
    todo: list[EntryRecord] = []
    for key in keys:
        record = records.get(key)
        current = [
            d
            for d in deliveries[key.entry_id]
            if record is not None
            and d.request is not None
            and d.request.version == record.version
            and record.tenant == run.tenant
            and record.status not in FINAL_STATUSES
            # A waiting entry is queued again by the refresh that resumes it, with a new message.
            and record.status is not EntryStatus.WAITING_FOR_REFERENCES
        ]
        for delivery in deliveries[key.entry_id]:
            if delivery not in current:
                run.fates.verdicts[delivery.message_id] = None
                run.count("already_settled")
        if current and record is not None:
            todo.append(record)
    return todo


def open_key(run: FileRun, todo: list[EntryRecord], connection: Connection | None) -> bool:
    """Load the connection's key for the run (the connection as read at its start); ``False`` when
    the entries cannot be sent (parked or left alone)."""
    if connection is None:  # no such connection for this tenant: leave the entries alone
        logger.warning("upload messages name an unknown connection", extra={"count": len(todo)})
        run.fates.done(r.entry_id for r in todo)
        return False
    run.seen_fingerprint = connection.key_fingerprint
    if not connection.is_active or connection.secret_ref is None:
        park(run, todo)
        return False
    try:
        run.api_key = run.ports.vault.load(connection.secret_ref, connection.key_fingerprint)
    except KeyNotFound:
        park(run, todo)
        return False
    # The key actually used: a revocation is only recorded if it is still the connection's key.
    run.connection = connection.model_copy(update={"key_fingerprint": key_fingerprint(run.api_key)})
    run.seen_fingerprint = run.connection.key_fingerprint
    return True


def resume(run: FileRun, batch_id: str, records: list[EntryRecord]) -> list[EntryRecord]:
    """Finish entries through the batch that carries them; returns those free to join a new one."""
    batch = run.ports.batches.get(batch_id)
    if batch is None or batch.status is BatchStatus.ABANDONED:
        return records
    # A batch settled by its sender whose entries are not (the sender is between its two writes, or
    # died there): the entries' count of the POST that settled it is ours to add, since the sender's
    # own member update expects them unsettled and now finds them settled.
    if batch.status is BatchStatus.UPLOADED:
        settle_uploaded(run, batch, unsettled=0, counted=True)
        return []
    if batch.status is BatchStatus.REJECTED:
        if len(batch.members) > 1:
            # bisect: the members MyUnisoft did not keep go into smaller batches
            return settle_kept(run, batch, records, unsettled=0) or []
        settle_rejected(run, batch, batch.error, unsettled=0, counted=True)
        return []
    if run.out_of_time(r.entry_id for r in records) or not run.budget_ready(r.entry_id for r in records):
        return []
    restarting = [r for r in records if r.status is not EntryStatus.UPLOADING]
    now_ms = run.now_ms()
    taken = run.ports.batches.take_lease(
        batch_id,
        run.owner,
        now_ms=now_ms,
        until_ms=now_ms + int(run.policy.lease_s * 1000),
        new_round=bool(restarting),
    )
    if taken is None:
        latest = run.ports.batches.get(batch_id)
        wait_ms = 1000 if latest is None else max(latest.lease_until_ms - now_ms, 1000)
        run.fates.retry((r.entry_id for r in records), min(wait_ms, int(BUSY_RECHECK_S * 1000)) / 1000)
        run.count("busy_elsewhere")
        return []
    leased, unsettled = taken
    for record in restarting:
        run.ports.entries.update(
            record.key,
            record.version,
            now=run.ports.clock(),
            transition=Transition.RESEND,
            expect_status=[record.status],
            expect_batch=batch_id,
        )
    send_and_bisect(run, leased, None, unsettled)
    return []


def form(run: FileRun, records: list[EntryRecord], max_entries: int) -> None:
    """Check entries, then upload the good ones in archives of at most ``max_entries``."""
    references = run.references()
    if references is None:
        for record in records:
            not_ready(run, record)
        return
    ready: list[Ready] = []
    for going in sort_out(run, records, references):
        documents, issues = read_documents(
            going.entry,
            (run.connection_id, run.society_id),
            run.ports.documents,
            max_bytes=run.policy.document_max_bytes,
        )
        if issues:
            reject_checked(run, going.record, issues)
            continue
        ready.append(Ready(going.record, going.entry, documents, going.notices))
    ready.sort(key=lambda r: (r.entry.date, r.entry.entry_id))
    for chunk in chunks(ready, max_entries, run.policy.batch_max_bytes):
        new_batch(run, chunk, retry_race=True)


def new_batch(run: FileRun, chunk: list[Ready], *, retry_race: bool) -> None:
    """Freeze one archive for ``chunk``, move its entries into a new batch, and send it.

    When some entries changed since they were read (a duplicated delivery), the others are tried
    once more in a batch of their own, and the changed ones come back later.
    """
    entry_ids = [item.record.entry_id for item in chunk]
    if run.out_of_time(entry_ids) or not run.budget_ready(entry_ids):
        return
    plan = BatchPlan(
        batch_id=uuid.uuid4().hex,
        tenant=run.tenant,
        connection_id=run.connection_id,
        society_id=run.society_id,
        owner=run.owner,
        now=run.ports.clock(),
        lease_until_ms=run.now_ms() + int(run.policy.lease_s * 1000),
    )
    formed = form_batch(chunk, plan, max_document_bytes=run.policy.document_max_bytes)
    # The upload's start is booked before the entries are frozen into the batch: a budget taken by
    # other workers since the question above sends the messages back as they came, to be formed
    # into full archives again, rather than a frozen batch whose messages return scattered.
    if not run.budget_ready(entry_ids, reserve=True):
        return
    run.ports.archives.put(formed.batch.archive_key, formed.archive)
    # The claim counts the batch's first POST, sent right after: one write fewer per archive. A
    # crash in between leaves a POST counted that never went out, as a crash just after counting
    # it always did: the next sender treats it as possibly imported (HascodeVerif settles that).
    posted = formed.batch.model_copy(update={"posts": 1})
    if run.ports.batches.claim(posted, formed.claims, plan.now):
        run.count("batches")
        run.count("batched_entries", len(chunk))
        send_and_bisect(run, formed.batch, formed.archive, unsettled=0, posted=posted)
        return
    current = run.ports.entries.get_many(item.record.key for item in chunk)

    def unchanged(item: Ready) -> bool:
        now_record = current.get(item.record.key)
        return now_record is not None and (now_record.version, now_record.status, now_record.batch_id) == (
            item.record.version,
            item.record.status,
            item.record.batch_id,
        )

    still = [item for item in chunk if unchanged(item)]
    run.fates.retry([item.record.entry_id for item in chunk if not unchanged(item)], 1.0)
    if still and retry_race:
        new_batch(run, still, retry_race=False)
    else:
        run.fates.retry((item.record.entry_id for item in still), 1.0)


def send_and_bisect(
    run: FileRun, batch: BatchRecord, archive: bytes | None, unsettled: int, posted: BatchRecord | None = None
) -> None:
    """Send the batch; if MyUnisoft refused an archive of several entries, upload each half apart."""
    if send(run, batch, archive, unsettled, posted):
        bisect(run, batch, unsettled)


def bisect(run: FileRun, batch: BatchRecord, unsettled: int) -> None:
    """MyUnisoft refused an archive of several entries: form batches of half its size again."""
    run.count("bisected")
    current = run.ports.entries.get_many(batch.keys())
    members = {(m.entry_id, m.version) for m in batch.members}
    records = [
        r
        for r in current.values()
        if (r.entry_id, r.version) in members
        and r.batch_id == batch.batch_id
        and r.status not in FINAL_STATUSES
    ]
    left = settle_kept(run, batch, records, unsettled)  # never re-send what MyUnisoft kept
    if not left:
        return
    records = left
    now = run.ports.clock()
    for record in records:  # the refused attempt counts for each of them
        run.ports.entries.update(
            record.key, record.version, now=now, expect_batch=batch.batch_id, add_attempts=1 + unsettled
        )
    refreshed = [r.model_copy(update={"attempts": r.attempts + 1 + unsettled}) for r in records]
    form(run, refreshed, math.ceil(len(batch.members) / 2))
