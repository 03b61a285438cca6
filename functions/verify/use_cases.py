"""Verified delivery (docs/architecture.md §4): the entries of accepted archives are read back from
MyUnisoft's export and matched, one read-back per client file for all the messages of a delivery.

For each client file named by the messages:

1. Entry versions already verified, superseded or refused are done. Those not settled ``uploaded``
   yet (the upload worker queues the request just before it settles them) come back later.
2. The firm's key reads the export for the entries' dates (``verify.readback``), paid from the
   key's shared budget with a low priority: the read-back only takes a place when the window keeps
   room for uploads (``VERIFY_BUDGET_SHARE``), else the request comes back later, no check spent.
3. Each entry found is ``verified`` with MyUnisoft's id, claimed in the same transaction; each
   entry not found spends one check and comes back after ``interval_s``; after ``max_checks`` it is
   ``not_found`` (never re-sent: an operator looks, docs/operations.md). A key whose routes lack the
   export, or that MyUnisoft refuses, makes the entries ``unavailable``.

Requests put back for a file are merged into one message, so later checks stay coalesced too.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from tra_core.domain.lifecycle import FINAL_STATUSES, EntryStatus
from tra_core.domain.verification import Verification
from tra_core.myunisoft.errors import (
    AccessForbidden,
    FolderNotFound,
    ForbiddenRoute,
    KeyRevoked,
    MyUnisoftError,
    ThirdPartyDisconnected,
)
from tra_core.store.entries import EntryKey, EntryRecord, MyUnisoftCopy
from tra_core.store.errors import KeyNotFound, RateBudgetBusy
from tra_core.store.verification import VerifyMember, VerifyRequest
from verify.ports import VerifyPorts
from verify.readback import find_sent, read_back, sent_entry, verified_change

logger = logging.getLogger(__name__)

#: MyUnisoft's answers that mean the key cannot read the export (the entries are ``unavailable``).
NO_EXPORT = (ForbiddenRoute, KeyRevoked, ThirdPartyDisconnected, AccessForbidden, FolderNotFound)
#: The most entry versions one message carries (far under SQS's 256 KB).
MESSAGE_ENTRIES = 500


@dataclass(frozen=True)
class Message:
    """One received message: its SQS id and its request (``None`` when unreadable)."""

    message_id: str
    request: VerifyRequest | None


@dataclass
class Report:
    """What one invocation did: the messages to hand back (unexpected errors) and counts."""

    failed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass
class FileWork:
    """The entry versions of one client file to verify, from every message naming it."""

    tenant: str
    connection_id: str
    society_id: int
    versions: dict[str, int] = field(default_factory=dict)
    round: int = 0
    message_ids: list[str] = field(default_factory=list)

    def request(self, records: Sequence[EntryRecord], round_: int, now_iso: str) -> list[VerifyRequest]:
        members = [VerifyMember(entry_id=r.entry_id, version=r.version) for r in records]
        return [
            VerifyRequest.model_validate(
                {
                    "tenant": self.tenant,
                    "connection_id": self.connection_id,
                    "society_id": self.society_id,
                    "entries": members[start : start + MESSAGE_ENTRIES],
                    "round": round_,
                    "queued_at": now_iso,
                }
            )
            for start in range(0, len(members), MESSAGE_ENTRIES)
        ]


def process(messages: Sequence[Message], ports: VerifyPorts) -> Report:
    """Verify the entries the messages name (see the module docstring); never raises for one file."""
    report = Report()
    files: dict[tuple[str, str, int], FileWork] = {}
    for message in messages:
        request = message.request
        if request is None:
            report.counts["unreadable"] += 1  # nothing to verify: the message is dropped
            continue
        file = (request.tenant, request.connection_id, request.society_id)
        work = files.setdefault(file, FileWork(*file))
        for member in request.entries:
            work.versions[member.entry_id] = max(member.version, work.versions.get(member.entry_id, 0))
        work.round = max(work.round, request.round)
        work.message_ids.append(message.message_id)
    for work in files.values():
        try:
            verify_file(work, ports, report.counts)
        except Exception:
            logger.exception("verification of a client file failed", extra={"society_id": work.society_id})
            report.counts["errors"] += 1
            report.failed.extend(work.message_ids)
    return report


def verify_file(work: FileWork, ports: VerifyPorts, counts: Counter[str]) -> None:
    """Steps 1 to 3 of the module docstring for one client file."""
    keys = [EntryKey(work.connection_id, work.society_id, e) for e in work.versions]
    pending: list[EntryRecord] = []
    unsettled: list[EntryRecord] = []
    for record in ports.entries.get_many(keys).values():
        if record.version != work.versions[record.entry_id] or record.tenant != work.tenant:
            continue
        if record.status not in FINAL_STATUSES:
            unsettled.append(record)
        elif record.status is EntryStatus.UPLOADED and _is_pending(record):
            pending.append(record)
    put_back(work, ports, unsettled, counts, "unsettled")
    if pending:
        check(work, ports, pending, counts)


def _is_pending(record: EntryRecord) -> bool:
    return record.myunisoft is not None and record.myunisoft.verification is Verification.PENDING


def check(work: FileWork, ports: VerifyPorts, pending: list[EntryRecord], counts: Counter[str]) -> None:
    """Read the file's entries back once and settle what it shows about each pending entry."""
    pending.sort(key=lambda r: (r.entry().date, r.entry_id))
    sent = [sent_entry(r) for r in pending]
    try:
        api_key = _key(work, ports)
    except KeyNotFound:
        record_all(ports, pending, Verification.UNAVAILABLE, counts)
        return
    reader = ports.readers.open(api_key)
    try:
        found = read_back(reader, work.society_id, sent)
    except NO_EXPORT as exc:
        logger.warning("the key cannot read MyUnisoft's export", extra={"code": exc.code})
        record_all(ports, pending, Verification.UNAVAILABLE, counts)
        return
    except (MyUnisoftError, RateBudgetBusy) as exc:
        # Busy budget, 429, maintenance, a failure that may pass: no check spent, come back later.
        logger.info("read-back put off", extra={"code": exc.code})
        put_back(work, ports, pending, counts, "deferred")
        return
    finally:
        reader.close()
    counts["read_backs"] += 1
    now = ports.clock()
    verified: set[str] = set()
    for item in find_sent(ports.ids, pending, sent, found):
        if ports.ids.claim(verified_change(item, now), item.producer_id, now):
            verified.add(item.record.entry_id)
    counts["verified"] += len(verified)
    missing = [r for r in pending if r.entry_id not in verified]
    again = [r for r in missing if not spend_check(ports, r, counts)]
    put_back(work, ports, again, counts, "checks_left", round_=0, delay_s=ports.policy.interval_s)


def _key(work: FileWork, ports: VerifyPorts) -> str:
    """The connection's key; ``KeyNotFound`` when the connection has none any more."""
    connection = ports.connections.get(work.tenant, work.connection_id)
    if connection is None or not connection.is_active or connection.secret_ref is None:
        raise KeyNotFound(work.connection_id)
    return ports.vault.load(connection.secret_ref, connection.key_fingerprint)


def spend_check(ports: VerifyPorts, record: EntryRecord, counts: Counter[str]) -> bool:
    """One more check did not find the entry; ``True`` when that was the last (``not_found``).

    An entry whose claim was lost to a concurrent worker is looked at again like a missing one.
    """
    checks = (record.myunisoft.checks if record.myunisoft else 0) + 1
    last = checks >= ports.policy.max_checks
    state = Verification.NOT_FOUND if last else Verification.PENDING
    ports.ids.record_check(record, MyUnisoftCopy(verification=state, checks=checks), ports.clock())
    if last:
        counts["not_found"] += 1
        logger.warning(
            "an uploaded entry is not in MyUnisoft",
            extra={"entry_id": record.entry_id, "society_id": record.society_id, "checks": checks},
        )
    return last


def record_all(
    ports: VerifyPorts, records: Sequence[EntryRecord], state: Verification, counts: Counter[str]
) -> None:
    for record in records:
        checks = record.myunisoft.checks if record.myunisoft else 0
        ports.ids.record_check(record, MyUnisoftCopy(verification=state, checks=checks), ports.clock())
    counts[state.value] += len(records)


def put_back(
    work: FileWork,
    ports: VerifyPorts,
    records: Sequence[EntryRecord],
    counts: Counter[str],
    reason: str,
    *,
    round_: int | None = None,
    delay_s: float | None = None,
) -> None:
    """Queue one request for ``records`` (the file's, merged), or drop it past ``max_rounds``."""
    if not records:
        return
    next_round = work.round + 1 if round_ is None else round_
    if next_round > ports.policy.max_rounds:
        logger.error(
            "verification given up: the entries stay pending",
            extra={"society_id": work.society_id, "entries": len(records), "reason": reason},
        )
        counts["given_up"] += len(records)
        return
    delay = ports.policy.interval_s if delay_s is None else delay_s
    ports.queue.send(work.request(records, next_round, ports.clock().isoformat()), delay_s=delay)
    counts[reason] += len(records)
