"""Forming batches, without I/O: checked entries in, one frozen archive, its batch and the claims out.

Entries of one client file go into as few archives as the limits allow (entries per archive,
bytes per archive), in date order. An archive holds the rendered ``.tra`` and the entries'
documents; its bytes depend only on the entries and the batch's id (no clock inside), so re-sending
a batch sends the same bytes and MyUnisoft's ``HascodeVerif`` recognises a second copy. The batch id
is written in the header's UTILISATEUR field (docs/myunisoft-assumptions.md T16), so two batches of
identical entries (two bank fees of 5.00 on one day) never share an MD5: both are imported.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from tra_core.domain.entry import Entry
from tra_core.domain.errors import Notice
from tra_core.store.batches import BatchMember, BatchRecord, Claim, archive_key_for
from tra_core.store.entries import EntryRecord, EntryWarning
from tra_core.tra.archive import build_archive
from tra_core.tra.writer import TraOptions, render_tra

#: A rough size of one entry line inside the archive, to keep archives under the byte limit.
LINE_BYTES = 300


@dataclass
class Ready:
    """An entry that passed every check, with its documents, ready to join a batch."""

    record: EntryRecord
    entry: Entry
    documents: list[bytes]
    notices: tuple[Notice, ...] = ()
    """Warnings of the checks to keep on the entry (``SUBSIDIARY_CREATED``)."""

    @property
    def size(self) -> int:
        return sum(len(d) for d in self.documents) + LINE_BYTES * len(self.entry.lines)


@dataclass(frozen=True)
class BatchPlan:
    """Who forms a batch, for which file, and when: the parts of a batch not drawn from its entries."""

    batch_id: str
    tenant: str
    connection_id: str
    society_id: int
    owner: str
    now: datetime
    lease_until_ms: int


@dataclass(frozen=True)
class FormedBatch:
    """A new batch: the archive to freeze, its record, and the entry versions it claims."""

    archive: bytes
    batch: BatchRecord
    claims: list[Claim]


def chunks(ready: list[Ready], max_entries: int, max_bytes: int) -> list[list[Ready]]:
    """``ready`` cut, in order, into groups of at most ``max_entries`` and about ``max_bytes``."""
    groups: list[list[Ready]] = []
    size = 0
    for item in ready:
        if not groups or len(groups[-1]) >= max_entries or size + item.size > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += item.size
    return groups


def form_batch(chunk: list[Ready], plan: BatchPlan, *, max_document_bytes: int) -> FormedBatch:
    """The archive, batch record and claims for ``chunk`` (the rendering's warnings go on the claims)."""
    rendered = render_tra([item.entry for item in chunk], TraOptions(batch_tag=plan.batch_id))
    documents = [
        (name, data)
        for item, names in zip(chunk, rendered.attachment_names, strict=True)
        for name, data in zip(names, item.documents, strict=True)
    ]
    archive = build_archive(rendered.data, documents, max_document_bytes=max_document_bytes)
    warnings: dict[str, list[EntryWarning]] = defaultdict(list)
    for notice in (*(n for item in chunk for n in item.notices), *rendered.notices):
        warnings[notice.entry_id or ""].append(EntryWarning.of_notice(notice))
    batch = BatchRecord(
        batch_id=plan.batch_id,
        tenant=plan.tenant,
        connection_id=plan.connection_id,
        society_id=plan.society_id,
        members=tuple(BatchMember(entry_id=i.record.entry_id, version=i.record.version) for i in chunk),
        archive_key=archive_key_for(plan.connection_id, plan.society_id, plan.batch_id),
        archive_size=len(archive),
        tra_md5=hashlib.md5(rendered.data).hexdigest(),
        lease_owner=plan.owner,
        lease_until_ms=plan.lease_until_ms,
        created_at=plan.now,
        updated_at=plan.now,
    )
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
    return FormedBatch(archive, batch, claims)
