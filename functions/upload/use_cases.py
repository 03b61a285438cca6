"""Entry upload (ARCHITECTURE §1.3, §5-§6, §8; CONTRACTS §1-§3): one SQS batch of entry versions in,
every entry settled, parked or scheduled for a retry out.

For each client file named by the messages:

1. Entries whose version is superseded, or already ``uploaded``/``rejected``, are done (a
   duplicated delivery changes nothing).
2. A connection that cannot call MyUnisoft (revoked key, disconnected) parks its entries as
   ``waiting_for_key``: ``PUT /connections/{id}/key`` re-queues them.
3. Entries already inside a batch (a retry, a crashed worker's work) are finished *through that
   batch*: the frozen archive is re-sent as is, so MyUnisoft sees the same ``.tra`` bytes.
4. Other entries are checked against the file's current references and their documents (every
   reason is kept: ``rejected``, nothing sent), rendered to TRA, zipped with their documents into
   one archive per file (several entries per archive under backlog), frozen in S3, and moved into
   a new batch by one transaction.
5. The batch is uploaded with ``HascodeVerif=true`` and ``mandatory_docs=1`` by the holder of its
   lease. Success → ``uploaded`` (md5, request id, time). A business refusal → ``rejected`` with
   MyUnisoft's code and message verbatim; an archive of several entries is bisected to find the
   bad one. 429 and the concurrency limit → retried when the window resets, without spending an
   attempt. A refused key → ``waiting_for_key`` and the connection is marked revoked. A transient
   failure → retried with backoff (the message's visibility), then ``failed`` and dead-lettered
   after the maximum attempts. ``IMPORT25`` for a batch that may have reached MyUnisoft before
   means it is there: ``uploaded``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from tra_core.domain.checks import check_against_references
from tra_core.domain.entry import Entry
from tra_core.domain.errors import TraError
from tra_core.domain.references import References
from tra_core.myunisoft.errors import (
    AccessForbidden,
    AlreadyImported,
    BusinessRejection,
    ConcurrencyLimited,
    FolderNotFound,
    ForbiddenRoute,
    KeyRevoked,
    MyUnisoftError,
    RateLimited,
    ThirdPartyDisconnected,
)
from tra_core.myunisoft.models import UploadResult
from tra_core.store.attachments import parse_attachment_key, sha256_hex
from tra_core.store.batches import BatchMember, BatchRecord, BatchStatus, Claim, archive_key_for
from tra_core.store.entries import (
    FINAL_STATUSES,
    EntryChange,
    EntryIssue,
    EntryKey,
    EntryRecord,
    EntryStatus,
    EntryWarning,
    UploadRequest,
)
from tra_core.store.ports import ConnectionRepository, FileRepository, KeyVault, SnapshotStore
from tra_core.store.ratebudget import RateBudgetBusy
from tra_core.store.records import Connection, key_fingerprint
from tra_core.store.secrets import KeyNotFound
from tra_core.store.upload_ports import (
    ArchiveStore,
    BatchRepository,
    DocumentStore,
    EntryRepository,
    UploadQueue,
)
from tra_core.tra.archive import MAX_DOCUMENT_BYTES, ArchiveError, build_archive, check_document, safe_name
from tra_core.tra.writer import TraOptions, render_tra

logger = logging.getLogger(__name__)

#: Errors that mean the firm's key can no longer be used: the entries wait for a new key.
KEY_REFUSED = (KeyRevoked, ThirdPartyDisconnected, AccessForbidden, ForbiddenRoute)
#: Answers proving the upload was not processed and that only time is needed: no attempt is spent.
NOT_NOW = (RateLimited, ConcurrencyLimited, RateBudgetBusy)
#: MyUnisoft refused the file's content: the entries are wrong (an archive of several is bisected).
REFUSED = (BusinessRejection, AlreadyImported)
#: Longest wait before a message whose batch another worker is sending is looked at again.
BUSY_RECHECK_S = 5.0
#: Still-open statuses an entry can be moved from by the worker.
OPEN_STATUSES = frozenset(set(EntryStatus) - FINAL_STATUSES)


class Uploader(Protocol):
    """The MyUnisoft call the worker makes (``tra_core.myunisoft.client.MyUnisoftClient``)."""

    def upload_tra(
        self,
        society_id: int,
        archive: bytes,
        *,
        hascode_verif: bool = True,
        mandatory_docs: bool = True,
        already_attempted: bool = False,
    ) -> UploadResult: ...

    def close(self) -> None: ...


class Uploaders(Protocol):
    def open(self, api_key: str) -> Uploader: ...


@dataclass(frozen=True)
class UploadPolicy:
    """How the worker batches, retries and leases (from the function's settings).

    ``send_reserve_s`` is the time one upload may take at worst (waiting for the key's budget, then
    the upload itself): no upload starts with less than that left before the Lambda's timeout.
    """

    max_attempts: int = 5
    retry_base_s: float = 30.0
    retry_max_s: float = 900.0
    lease_s: float = 300.0
    batch_max_entries: int = 50
    batch_max_bytes: int = 40 * 1024 * 1024
    document_max_bytes: int = MAX_DOCUMENT_BYTES
    send_reserve_s: float = 190.0

    def backoff(self, attempt: int) -> float:
        """Seconds before the next try after the ``attempt``-th counted failure."""
        return float(min(self.retry_max_s, self.retry_base_s * 2.0 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class UploadPorts:
    connections: ConnectionRepository
    files: FileRepository
    snapshots: SnapshotStore
    vault: KeyVault
    entries: EntryRepository
    batches: BatchRepository
    archives: ArchiveStore
    documents: DocumentStore
    queue: UploadQueue
    uploaders: Uploaders
    clock: Callable[[], datetime]
    policy: UploadPolicy = UploadPolicy()


@dataclass(frozen=True)
class Delivery:
    """One received message: its SQS identity and its request (``None`` when unreadable)."""

    message_id: str
    receipt_handle: str
    body: str
    request: UploadRequest | None


@dataclass
class Report:
    """What one invocation did: the messages to hand back (batch item failures) and counts."""

    failed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


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
    for (tenant, connection_id, society_id), group in groups.items():
        run = _FileRun(ports, owner, tenant, connection_id, society_id, group, report, time_left)
        delay = 1.0
        try:
            run.run()
        except Exception:
            logger.exception("upload of a client file's entries failed", extra={"society_id": society_id})
            report.counts["errors"] += 1
            delay = ports.policy.retry_base_s
        finally:
            run.close()
        # A message left undecided comes back soon, never after the queue's long visibility timeout.
        run.retry_undecided(delay)
        report.failed.extend(run.unfinished())
    return report


def issue_of(exc: TraError) -> EntryIssue:
    """An error as kept on an entry: our code and sentence, MyUnisoft's code and message verbatim."""
    if isinstance(exc, MyUnisoftError):
        return EntryIssue(
            code=exc.code,
            message=exc.message,
            myunisoft_code=exc.myunisoft_code,
            myunisoft_message=exc.myunisoft_message,
            request_id=exc.request_id,
        )
    return EntryIssue(code=exc.code, message=exc.message)


@dataclass
class _Ready:
    """An entry that passed every check, with its documents, ready to join a batch."""

    record: EntryRecord
    entry: Entry
    documents: list[bytes]

    @property
    def size(self) -> int:
        return sum(len(d) for d in self.documents) + 300 * len(self.entry.lines)


class _FileRun:
    """The work of one invocation on one client file."""

    def __init__(
        self,
        ports: UploadPorts,
        owner: str,
        tenant: str,
        connection_id: str,
        society_id: int,
        deliveries: list[Delivery],
        report: Report,
        time_left: Callable[[], float] | None = None,
    ):
        self.ports = ports
        self.time_left = time_left
        self.policy = ports.policy
        self.owner = owner
        self.tenant = tenant
        self.connection_id = connection_id
        self.society_id = society_id
        self.report = report
        self.deliveries: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            assert delivery.request is not None
            self.deliveries[delivery.request.entry_id].append(delivery)
        self.verdicts: dict[str, float | None] = {}
        """message id → ``None`` (done: delete it) or the delay before it comes back."""
        self.connection: Connection | None = None
        self.seen_fingerprint: str | None = None
        self.api_key: str | None = None
        self._uploader: Uploader | None = None
        self._references: References | None = None

    # -- verdicts ----------------------------------------------------------------------------

    def _ours(self, entry_ids: Iterable[str]) -> list[Delivery]:
        return [d for entry_id in entry_ids for d in self.deliveries.get(entry_id, [])]

    def done(self, entry_ids: Iterable[str]) -> None:
        for delivery in self._ours(entry_ids):
            self.verdicts[delivery.message_id] = None

    def retry(self, entry_ids: Iterable[str], delay_s: float) -> None:
        for delivery in self._ours(entry_ids):
            if delivery.message_id not in self.verdicts:
                self.ports.queue.retry_later(delivery.receipt_handle, delay_s)
                self.verdicts[delivery.message_id] = delay_s
                self.report.counts["retried"] += 1

    def dead_letter(self, entry_ids: Iterable[str]) -> None:
        for delivery in self._ours(entry_ids):
            self.ports.queue.dead_letter(delivery.body)
            self.verdicts[delivery.message_id] = None
            self.report.counts["dead_lettered"] += 1

    def retry_undecided(self, delay_s: float) -> None:
        """Bring back after ``delay_s`` the messages the run left undecided (after an unexpected
        error, or an entry that changed under the run), so the next delivery looks at them again."""
        for deliveries in self.deliveries.values():
            for delivery in deliveries:
                if delivery.message_id not in self.verdicts:
                    self.report.counts["undecided"] += 1
                    try:
                        self.ports.queue.retry_later(delivery.receipt_handle, delay_s)
                    except Exception:  # the queue itself may be the trouble; SQS brings it back anyway
                        logger.warning("could not schedule a retry", exc_info=True)
                        return
                    self.verdicts[delivery.message_id] = delay_s

    def unfinished(self) -> list[str]:
        """Messages to report as failures: those scheduled for a retry, and any left undecided
        (when even scheduling failed: they come back after the queue's visibility timeout)."""
        return [
            d.message_id
            for deliveries in self.deliveries.values()
            for d in deliveries
            if self.verdicts.get(d.message_id, -1.0) is not None
        ]

    def out_of_time(self, entry_ids: Iterable[str]) -> bool:
        """Whether an upload started now could outlive the invocation; if so its messages come back."""
        if self.time_left is None or self.time_left() >= self.policy.send_reserve_s:
            return False
        self.retry(entry_ids, 1.0)
        self.report.counts["out_of_time"] += 1
        return True

    def now_ms(self) -> int:
        return int(self.ports.clock().timestamp() * 1000)

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> None:
        keys = [EntryKey(self.connection_id, self.society_id, entry_id) for entry_id in self.deliveries]
        records = self.ports.entries.get_many(keys)
        todo: list[EntryRecord] = []
        for key in keys:
            record = records.get(key)
            current = [
                d
                for d in self.deliveries[key.entry_id]
                if record is not None
                and d.request is not None
                and d.request.version == record.version
                and record.tenant == self.tenant
                and record.status not in FINAL_STATUSES
            ]
            stale = [d for d in self.deliveries[key.entry_id] if d not in current]
            for delivery in stale:
                self.verdicts[delivery.message_id] = None
                self.report.counts["already_settled"] += 1
            if current and record is not None:
                todo.append(record)
        if not todo:
            return
        connection = self.ports.connections.get(self.tenant, self.connection_id)
        if connection is None:  # no such connection for this tenant: leave the entries alone
            logger.warning("upload messages name an unknown connection", extra={"count": len(todo)})
            self.done(r.entry_id for r in todo)
            return
        self.seen_fingerprint = connection.key_fingerprint
        if not connection.is_active or connection.secret_ref is None:
            self.park(todo, None)
            return
        try:
            self.api_key = self.ports.vault.load(connection.secret_ref, connection.key_fingerprint)
        except KeyNotFound:
            self.park(todo, None)
            return
        # The key actually used: a revocation is only recorded if it is still the connection's key.
        self.connection = connection.model_copy(update={"key_fingerprint": key_fingerprint(self.api_key)})
        self.seen_fingerprint = self.connection.key_fingerprint
        bound: dict[str, list[EntryRecord]] = defaultdict(list)
        fresh: list[EntryRecord] = []
        for record in todo:
            if record.batch_id is None:
                fresh.append(record)
            else:
                bound[record.batch_id].append(record)
        for batch_id, members in bound.items():
            fresh.extend(self.resume(batch_id, members))
        if fresh:
            self.form(fresh, self.policy.batch_max_entries)

    def close(self) -> None:
        if self._uploader is not None:
            self._uploader.close()
            self._uploader = None

    def uploader(self) -> Uploader:
        if self._uploader is None:
            assert self.api_key is not None
            self._uploader = self.ports.uploaders.open(self.api_key)
        return self._uploader

    def references(self) -> References | None:
        if self._references is None:
            file = self.ports.files.get(self.connection_id, self.society_id)
            if file is not None and file.reference_version is not None:
                snapshot = self.ports.snapshots.load(
                    self.connection_id, self.society_id, file.reference_version
                )
                self._references = None if snapshot is None else snapshot.references
        return self._references

    # -- entries inside a batch ----------------------------------------------------------------

    def resume(self, batch_id: str, records: list[EntryRecord]) -> list[EntryRecord]:
        """Finish entries through the batch that carries them; returns those free to join a new one."""
        batch = self.ports.batches.get(batch_id)
        if batch is None or batch.status is BatchStatus.ABANDONED:
            return records
        if batch.status is BatchStatus.UPLOADED:
            self.settle_uploaded(batch, unsettled=0, counted=False)
            return []
        if batch.status is BatchStatus.REJECTED:
            if len(batch.members) > 1:
                return records  # bisect: the members go into smaller batches
            self.settle_rejected(batch, batch.error, unsettled=0, counted=False)
            return []
        if self.out_of_time(r.entry_id for r in records):
            return []
        restarting = [r for r in records if r.status is not EntryStatus.UPLOADING]
        now_ms = self.now_ms()
        taken = self.ports.batches.take_lease(
            batch_id,
            self.owner,
            now_ms=now_ms,
            until_ms=now_ms + int(self.policy.lease_s * 1000),
            new_round=bool(restarting),
        )
        if taken is None:
            latest = self.ports.batches.get(batch_id)
            wait_ms = 1000 if latest is None else max(latest.lease_until_ms - now_ms, 1000)
            wait_ms = min(wait_ms, int(BUSY_RECHECK_S * 1000))
            self.retry((r.entry_id for r in records), wait_ms / 1000)
            self.report.counts["busy_elsewhere"] += 1
            return []
        leased, unsettled = taken
        for record in restarting:
            self.ports.entries.update(
                record.key,
                record.version,
                now=self.ports.clock(),
                status=EntryStatus.UPLOADING,
                expect_status=[record.status],
                expect_batch=batch_id,
            )
        self.send(leased, None, unsettled)
        return []

    # -- new batches ---------------------------------------------------------------------------

    def form(self, records: list[EntryRecord], max_entries: int) -> None:
        """Check entries, then upload the good ones in archives of at most ``max_entries``."""
        references = self.references()
        if references is None:
            for record in records:
                self.not_ready(record)
            return
        ready: list[_Ready] = []
        for record in records:
            entry = record.entry()
            issues = [EntryIssue.of_problem(p) for p in check_against_references(entry, references)]
            documents, document_issues = self.read_documents(entry)
            issues.extend(document_issues)
            if issues:
                self.reject_checked(record, issues)
                continue
            ready.append(_Ready(record, entry, documents))
        ready.sort(key=lambda r: (r.entry.date, r.entry.entry_id))
        for chunk in self.chunks(ready, max_entries):
            self.new_batch(chunk, retry_race=True)

    def chunks(self, ready: list[_Ready], max_entries: int) -> list[list[_Ready]]:
        chunks: list[list[_Ready]] = []
        size = 0
        for item in ready:
            if not chunks or len(chunks[-1]) >= max_entries or size + item.size > self.policy.batch_max_bytes:
                chunks.append([])
                size = 0
            chunks[-1].append(item)
            size += item.size
        return chunks

    def read_documents(self, entry: Entry) -> tuple[list[bytes], list[EntryIssue]]:
        """The entry's documents from S3, each checked (its file, type, size and declared hash)."""
        documents: list[bytes] = []
        issues: list[EntryIssue] = []
        for index, attachment in enumerate(entry.attachments, start=1):
            where = f"attachments[{index}]"

            def refuse(code: str, message: str, where: str = where) -> None:
                issues.append(EntryIssue(code=code, message=message, field=where))

            key = attachment.s3_key
            ref = None if key is None else parse_attachment_key(key)
            if key is None or ref is None:
                refuse(
                    "ATTACHMENT_SOURCE",
                    f"document {attachment.filename!r} must be named by the s3_key the bridge gave "
                    "for it (POST /files/{file_id}/attachments)",
                )
                continue
            if (ref.connection_id, ref.society_id) != (self.connection_id, self.society_id):
                refuse(
                    "ATTACHMENT_FOREIGN",
                    f"document {attachment.filename!r} was uploaded for another client file",
                )
                continue
            size = self.ports.documents.size(key)
            if size is None:
                refuse(
                    "ATTACHMENT_MISSING",
                    f"document {attachment.filename!r} was never uploaded (or has expired): upload it "
                    "to the URL the bridge gave, then retry the entry",
                )
                continue
            try:
                check_document(safe_name(attachment.filename), size, max_bytes=self.policy.document_max_bytes)
            except ArchiveError as exc:
                refuse(exc.code, exc.message)
                continue
            data = self.ports.documents.read(key)
            if data is None:
                refuse("ATTACHMENT_MISSING", f"document {attachment.filename!r} could not be read")
                continue
            if sha256_hex(data) != ref.sha256:
                refuse(
                    "ATTACHMENT_CHECKSUM",
                    f"document {attachment.filename!r} differs from the one declared (its SHA-256 does not "
                    "match): upload it again",
                )
                continue
            documents.append(data)
        return documents, issues

    def new_batch(self, chunk: list[_Ready], *, retry_race: bool) -> None:
        """Freeze one archive for ``chunk``, move its entries into a new batch, and send it."""
        if self.out_of_time(item.record.entry_id for item in chunk):
            return
        rendered = render_tra([item.entry for item in chunk], TraOptions())
        documents = [
            (name, data)
            for item, names in zip(chunk, rendered.attachment_names, strict=True)
            for name, data in zip(names, item.documents, strict=True)
        ]
        archive = build_archive(rendered.data, documents, max_document_bytes=self.policy.document_max_bytes)
        now = self.ports.clock()
        batch_id = uuid.uuid4().hex
        warnings: dict[str, list[EntryWarning]] = defaultdict(list)
        for notice in rendered.notices:
            warnings[notice.entry_id or ""].append(EntryWarning.of_notice(notice))
        batch = BatchRecord(
            batch_id=batch_id,
            tenant=self.tenant,
            connection_id=self.connection_id,
            society_id=self.society_id,
            members=tuple(BatchMember(entry_id=i.record.entry_id, version=i.record.version) for i in chunk),
            archive_key=archive_key_for(self.connection_id, self.society_id, batch_id),
            archive_size=len(archive),
            tra_md5=hashlib.md5(rendered.data).hexdigest(),
            lease_owner=self.owner,
            lease_until_ms=self.now_ms() + int(self.policy.lease_s * 1000),
            created_at=now,
            updated_at=now,
        )
        self.ports.archives.put(batch.archive_key, archive)
        claims = [
            Claim(
                key=item.record.key,
                version=item.record.version,
                expect_status=item.record.status,
                expect_batch=item.record.batch_id,
                warnings=tuple(warnings.get(item.record.entry_id, ())),
            )
            for item in chunk
        ]
        if self.ports.batches.claim(batch, claims, now):
            self.report.counts["batches"] += 1
            self.report.counts["batched_entries"] += len(chunk)
            self.send(batch, archive, unsettled=0)
            return
        # Someone changed some of these entries since they were read (a duplicated delivery).
        current = self.ports.entries.get_many(item.record.key for item in chunk)

        def unchanged(item: _Ready) -> bool:
            now_record = current.get(item.record.key)
            return now_record is not None and (
                now_record.version,
                now_record.status,
                now_record.batch_id,
            ) == (
                item.record.version,
                item.record.status,
                item.record.batch_id,
            )

        still = [item for item in chunk if unchanged(item)]
        moved = [item.record.entry_id for item in chunk if not unchanged(item)]
        self.retry(moved, 1.0)
        if still and retry_race:
            self.new_batch(still, retry_race=False)
        else:
            self.retry((item.record.entry_id for item in still), 1.0)

    # -- sending -------------------------------------------------------------------------------

    def send(self, batch: BatchRecord, archive: bytes | None, unsettled: int) -> None:
        """Upload a batch whose lease we hold, and settle its entries from the answer."""
        members = [m.entry_id for m in batch.members]
        if batch.round_attempts >= self.policy.max_attempts:
            # Earlier senders crashed mid-upload too often: stop here rather than loop.
            issue = EntryIssue(
                code="UPLOAD_INTERRUPTED",
                message="The upload was interrupted too many times; retry the entry later.",
            )
            self.ports.batches.release(batch.batch_id, self.owner)
            self.settle_failed(batch, issue, unsettled)
            return
        if archive is None:
            archive = self.ports.archives.get(batch.archive_key)
        posted = self.ports.batches.record_post(batch.batch_id, self.owner)
        if posted is None:
            self.retry(members, 1.0)
            return
        self.report.counts["posts"] += 1
        try:
            result = self.uploader().upload_tra(
                self.society_id,
                archive,
                hascode_verif=True,
                mandatory_docs=True,
                already_attempted=batch.may_be_imported,
            )
        except NOT_NOW as exc:
            self.ports.batches.settle(batch.batch_id, self.owner, now=self.ports.clock(), free=True)
            self.retry(members, self.wait_for(exc))
            self.report.counts["rate_limited"] += 1
        except KEY_REFUSED as exc:
            self.ports.batches.settle(batch.batch_id, self.owner, now=self.ports.clock(), free=True)
            self.key_refused(batch, exc, unsettled)
        except REFUSED as exc:
            self.ports.batches.settle(
                batch.batch_id,
                self.owner,
                now=self.ports.clock(),
                status=BatchStatus.REJECTED,
                error=issue_of(exc),
            )
            if len(batch.members) > 1:
                self.bisect(batch, unsettled)
            else:
                self.settle_rejected(batch, issue_of(exc), unsettled, counted=True)
        except FolderNotFound as exc:
            # About the client file, not one entry: every member is refused, nothing to bisect.
            self.ports.batches.settle(
                batch.batch_id,
                self.owner,
                now=self.ports.clock(),
                status=BatchStatus.REJECTED,
                error=issue_of(exc),
            )
            self.settle_rejected(batch, issue_of(exc), unsettled, counted=True)
        except MyUnisoftError as exc:  # transient (5xx, timeouts, maintenance...) or unclassified
            self.ports.batches.settle(batch.batch_id, self.owner, now=self.ports.clock())
            self.transient(posted, exc, unsettled)
        else:
            self.ports.batches.settle(
                batch.batch_id,
                self.owner,
                now=self.ports.clock(),
                status=BatchStatus.UPLOADED,
                request_id=result.request_id,
            )
            self.report.counts["already_imported" if result.already_imported else "imported"] += 1
            self.settle_uploaded(
                batch.model_copy(update={"request_id": result.request_id}), unsettled, counted=True
            )

    def wait_for(self, exc: TraError) -> float:
        """How long to wait before a 429 or a busy budget clears (never less than a second)."""
        if isinstance(exc, RateLimited):
            return max(exc.reset_at - self.ports.clock().timestamp(), 1.0)
        wait = exc.details.get("wait_s") if isinstance(exc, RateBudgetBusy) else None
        return max(float(wait), 1.0) if isinstance(wait, int | float) else 2.0

    def bisect(self, batch: BatchRecord, unsettled: int) -> None:
        """MyUnisoft refused an archive of several entries: upload each half separately."""
        self.report.counts["bisected"] += 1
        current = self.ports.entries.get_many(batch.keys())
        members = {(m.entry_id, m.version) for m in batch.members}
        records = [
            r
            for r in current.values()
            if (r.entry_id, r.version) in members
            and r.batch_id == batch.batch_id
            and r.status not in FINAL_STATUSES
        ]
        now = self.ports.clock()
        for record in records:  # the refused attempt counts for each of them
            self.ports.entries.update(
                record.key,
                record.version,
                now=now,
                expect_batch=batch.batch_id,
                add_attempts=1 + unsettled,
            )
        refreshed = [r.model_copy(update={"attempts": r.attempts + 1 + unsettled}) for r in records]
        self.form(refreshed, math.ceil(len(batch.members) / 2))

    # -- settling entries ------------------------------------------------------------------------

    def _update_members(
        self,
        batch: BatchRecord,
        *,
        status: EntryStatus | None,
        attempts: int,
        set_values: dict[str, Any] | None = None,
        remove: Sequence[str] = (),
    ) -> None:
        """Change every entry still carried by ``batch`` (one request for the whole batch)."""
        changes = [
            EntryChange(
                key=EntryKey(self.connection_id, self.society_id, member.entry_id),
                version=member.version,
                status=status,
                expect_status=OPEN_STATUSES,
                expect_batch=batch.batch_id,
                set_values=set_values,
                remove=remove,
                add_attempts=attempts,
            )
            for member in batch.members
        ]
        self.ports.entries.update_all(changes, self.ports.clock())

    def settle_uploaded(self, batch: BatchRecord, unsettled: int, *, counted: bool) -> None:
        now = self.ports.clock()
        self._update_members(
            batch,
            status=EntryStatus.UPLOADED,
            attempts=unsettled + (1 if counted else 0),
            set_values={
                "tra_md5": batch.tra_md5,
                "request_id": batch.request_id,
                "uploaded_at": (batch.uploaded_at or now).isoformat(),
            },
            remove=("last_error",),
        )
        members = [m.entry_id for m in batch.members]
        self.report.counts["uploaded"] += len(members)
        self.done(members)

    def settle_rejected(
        self, batch: BatchRecord, issue: EntryIssue | None, unsettled: int, *, counted: bool
    ) -> None:
        issue = issue or EntryIssue(code="MYUNISOFT_REJECTED", message="MyUnisoft refused the entry.")
        self._update_members(
            batch,
            status=EntryStatus.REJECTED,
            attempts=unsettled + (1 if counted else 0),
            set_values={
                "last_error": issue.model_dump(mode="json", exclude_none=True),
                "problems": [issue.model_dump(mode="json", exclude_none=True)],
            },
        )
        members = [m.entry_id for m in batch.members]
        self.report.counts["rejected"] += len(members)
        self.done(members)

    def settle_failed(self, batch: BatchRecord, issue: EntryIssue, attempts: int) -> None:
        self._update_members(
            batch,
            status=EntryStatus.FAILED,
            attempts=attempts,
            set_values={"last_error": issue.model_dump(mode="json", exclude_none=True)},
        )
        members = [m.entry_id for m in batch.members]
        self.report.counts["failed"] += len(members)
        self.dead_letter(members)

    def transient(self, posted: BatchRecord, exc: MyUnisoftError, unsettled: int) -> None:
        """A failure that may pass: retry with backoff, or give up after the maximum attempts."""
        issue = issue_of(exc)
        if posted.round_attempts >= self.policy.max_attempts:
            self.settle_failed(posted, issue, 1 + unsettled)
            return
        self._update_members(
            posted,
            status=None,
            attempts=1 + unsettled,
            set_values={"last_error": issue.model_dump(mode="json", exclude_none=True)},
        )
        self.retry((m.entry_id for m in posted.members), self.policy.backoff(posted.round_attempts))
        self.report.counts["transient"] += 1

    def key_refused(self, batch: BatchRecord, exc: MyUnisoftError, unsettled: int) -> None:
        """The key no longer works: the connection waits for a new key, and so do the entries."""
        assert self.connection is not None
        revoked = self.ports.connections.mark_revoked(
            self.connection, code=exc.code, message=exc.message, now=self.ports.clock()
        )
        # A batch that can never have reached MyUnisoft is dissolved; one that may have is kept,
        # so that the same bytes are sent once a key is back.
        if not batch.may_be_imported and self.ports.batches.abandon(
            batch.batch_id, self.owner, now=self.ports.clock()
        ):
            self._update_members(
                batch,
                status=EntryStatus.WAITING_FOR_KEY,
                attempts=unsettled,
                set_values={"last_error": issue_of(exc).model_dump(mode="json", exclude_none=True)},
                remove=("batch_id",),
            )
        else:
            self._update_members(
                batch,
                status=EntryStatus.WAITING_FOR_KEY,
                attempts=unsettled,
                set_values={"last_error": issue_of(exc).model_dump(mode="json", exclude_none=True)},
            )
        members = [m.entry_id for m in batch.members]
        self.report.counts["waiting_for_key"] += len(members)
        if revoked is None and self.key_replaced():
            self.retry(members, 1.0)  # a new key arrived meanwhile: try again with it
        else:
            self.done(members)

    def key_replaced(self) -> bool:
        """Whether the connection is active again, with another key than the one this run used."""
        current = self.ports.connections.get(self.tenant, self.connection_id)
        return current is not None and current.is_active and current.key_fingerprint != self.seen_fingerprint

    # -- settling entries before any batch -------------------------------------------------------

    def park(self, records: list[EntryRecord], issue: EntryIssue | None) -> None:
        """The connection cannot call MyUnisoft now: the entries wait for a new key."""
        now = self.ports.clock()
        issue = issue or EntryIssue(
            code="CONNECTION_NOT_ACTIVE",
            message="The connection's MyUnisoft key was revoked or removed: paste a new firm key "
            "(PUT /connections/{id}/key) and the entry will be sent.",
        )
        for record in records:
            self.ports.entries.update(
                record.key,
                record.version,
                now=now,
                status=EntryStatus.WAITING_FOR_KEY,
                expect_status=OPEN_STATUSES,
                expect_batch=record.batch_id,
                set_values={"last_error": issue.model_dump(mode="json", exclude_none=True)},
            )
        self.report.counts["waiting_for_key"] += len(records)
        if self.key_replaced():
            # A key was put between our read and the parking, and its re-queue may have missed
            # these entries: look at them again shortly instead of leaving them parked.
            self.retry((r.entry_id for r in records), 1.0)
        else:
            self.done(r.entry_id for r in records)

    def reject_checked(self, record: EntryRecord, issues: list[EntryIssue]) -> None:
        """The entry failed the checks against the references or its documents: nothing is sent."""
        self.ports.entries.update(
            record.key,
            record.version,
            now=self.ports.clock(),
            status=EntryStatus.REJECTED,
            expect_status=[record.status],
            expect_batch=record.batch_id,
            set_values={
                "problems": [i.model_dump(mode="json", exclude_none=True) for i in issues],
                "last_error": issues[0].model_dump(mode="json", exclude_none=True),
            },
            remove=("batch_id",) if record.batch_id else (),
        )
        self.report.counts["rejected"] += 1
        self.done([record.entry_id])

    def not_ready(self, record: EntryRecord) -> None:
        """The file's references were never fetched: try again later, as a counted attempt."""
        issue = EntryIssue(
            code="REFERENCES_NOT_READY",
            message="The client file's references (chart of accounts, journals, fiscal years) have not "
            "been fetched yet, so the entry cannot be checked; it will be tried again.",
        )
        exhausted = record.attempts + 1 >= self.policy.max_attempts
        self.ports.entries.update(
            record.key,
            record.version,
            now=self.ports.clock(),
            status=EntryStatus.FAILED if exhausted else None,
            expect_status=[record.status],
            expect_batch=record.batch_id,
            set_values={"last_error": issue.model_dump(mode="json", exclude_none=True)},
            add_attempts=1,
        )
        if exhausted:
            self.report.counts["failed"] += 1
            self.dead_letter([record.entry_id])
        else:
            self.retry([record.entry_id], self.policy.backoff(record.attempts + 1))
