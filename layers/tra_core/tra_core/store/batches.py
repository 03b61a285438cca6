"""Upload batches: the frozen archive sent for a set of entry versions, and who may send it.

A batch (``BATCH#<id>`` / ``META``) names the entry versions it carries and the exact TRA+PJ
archive (an S3 object written once) that is sent for them, so every retry re-sends the same bytes
and MyUnisoft's ``HascodeVerif`` turns a second copy into ``IMPORT25`` instead of a duplicate
(docs/architecture.md §5).

- Creating a batch and moving its entries into it is one DynamoDB transaction: an entry belongs
  to at most one open batch, however many workers hold its message.
- Only the holder of the batch's lease sends it; a crashed holder's lease expires and another
  worker takes the batch over.
- ``posts`` counts the POSTs that were started (written *before* each POST), ``settled`` the ones
  whose answer was recorded and ``free`` those answered in a way that proves nothing was imported
  (429, concurrency limit, a refused key). ``posts - free > 0`` means MyUnisoft may hold the file:
  then an ``IMPORT25`` is our own earlier copy, and the batch can only ever be finished by re-sending
  it (never dissolved into new batches). ``posts - settled`` after a crash counts the attempts whose
  answer was lost.

This module holds the records (no I/O); ``tra_core.store.dynamodb_batches`` is the DynamoDB adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tra_core.domain.lifecycle import EntryStatus
from tra_core.store.base import Record
from tra_core.store.entries import EntryIssue, EntryKey, EntryWarning


class BatchStatus(StrEnum):
    """``open``: frozen, being sent or to be sent; ``uploaded``: MyUnisoft holds it; ``rejected``:
    MyUnisoft refused it; ``abandoned``: never sent and dissolved (its entries may join new batches)."""

    OPEN = "open"
    UPLOADED = "uploaded"
    REJECTED = "rejected"
    ABANDONED = "abandoned"


class BatchMember(Record):
    """An entry version a batch carries."""

    entry_id: str
    version: int


class BatchRecord(Record):
    """One frozen upload (see the module docstring)."""

    batch_id: str
    tenant: str
    connection_id: str
    society_id: int
    members: tuple[BatchMember, ...]
    archive_key: str
    archive_size: int
    tra_md5: str
    status: BatchStatus = BatchStatus.OPEN
    posts: int = 0
    settled: int = 0
    free: int = 0
    round_start: int = 0
    """The counted attempts when the current round of retries began (a retry or a replay starts one)."""
    lease_owner: str | None = None
    lease_until_ms: int = 0
    """Until when (epoch milliseconds) ``lease_owner`` may send the batch."""
    created_at: datetime
    updated_at: datetime
    uploaded_at: datetime | None = None
    request_id: str | None = None
    error: EntryIssue | None = None

    @property
    def counted(self) -> int:
        """POSTs that may have reached MyUnisoft (every post but those proven harmless)."""
        return self.posts - self.free

    @property
    def may_be_imported(self) -> bool:
        return self.counted > 0

    @property
    def round_attempts(self) -> int:
        return self.counted - self.round_start

    def keys(self) -> list[EntryKey]:
        return [EntryKey(self.connection_id, self.society_id, m.entry_id) for m in self.members]


def archive_key_for(connection_id: str, society_id: int, batch_id: str) -> str:
    """Where a batch's frozen archive is written (in the attachments bucket)."""
    return f"archives/{connection_id}/{society_id}/{batch_id}.zip"


@dataclass(frozen=True, slots=True)
class Claim:
    """An entry version joining a new batch, from the state it was read in."""

    key: EntryKey
    version: int
    expect_status: EntryStatus
    expect_batch: str | None
    warnings: tuple[EntryWarning, ...] = ()
