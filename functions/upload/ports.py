"""What the upload worker is given: its ports (state, queue, MyUnisoft) and its policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tra_core.myunisoft.models import AccountRecord, ThirdPartyDetails, UploadResult
from tra_core.myunisoft.ratelimit import postpone_delay
from tra_core.store.ports import (
    ArchiveStore,
    BatchRepository,
    ConnectionRepository,
    DocumentStore,
    EntryRepository,
    FileRepository,
    KeyVault,
    MyUnisoftIds,
    SnapshotStore,
    UploadQueue,
    VerifyQueue,
)
from tra_core.tra.archive import MAX_DOCUMENT_BYTES
from verify.readback import ExportReaders


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
    """Opens an :class:`Uploader` for a firm's key, paced by the key's shared request budget."""

    def open(self, api_key: str) -> Uploader: ...

    def wait_s(self, key_fingerprint: str) -> float:
        """Seconds before the budget of the key with this fingerprint has room for one more request
        (0: now); books nothing."""

    def reserve(self, key_fingerprint: str, max_wait_s: float) -> float:
        """Book the start of this thread's next upload on the key if its budget has room within
        ``max_wait_s`` (0.0: booked; the next upload takes it); else the wait, nothing booked."""


class AccountCreator(Protocol):
    """MyUnisoft's find-or-create of an account (``MyUnisoftClient.create_account``): safe to repeat,
    two callers racing for one number get one account."""

    def create_account(
        self,
        society_id: int,
        account_number: str,
        label: str,
        *,
        third_party: ThirdPartyDetails | None = None,
    ) -> AccountRecord: ...

    def close(self) -> None: ...


class AccountCreators(Protocol):
    """Opens an :class:`AccountCreator` for a firm's key (drawing on the key's rate budget)."""

    def open(self, api_key: str) -> AccountCreator: ...


@dataclass(frozen=True)
class UploadPolicy:
    """How the worker batches, retries and leases (from the function's settings).

    ``send_reserve_s`` is the time one upload may take at worst (waiting for the key's budget, then
    the upload itself): no upload starts with less than that left before the Lambda's timeout.
    ``budget_wait_s`` is the longest the worker waits for a key's budget; beyond it the key's
    messages go back to the queue (:meth:`budget_delay`).
    """

    max_attempts: int = 5
    retry_base_s: float = 30.0
    retry_max_s: float = 900.0
    lease_s: float = 300.0
    batch_max_entries: int = 50
    batch_max_bytes: int = 40 * 1024 * 1024
    document_max_bytes: int = MAX_DOCUMENT_BYTES
    send_reserve_s: float = 132.0
    budget_wait_s: float = 2.0
    verify_delay_s: float = 10.0
    """How long after an accepted archive its entries are first read back (verified delivery)."""

    def budget_delay(self, wait_s: float) -> float:
        """Seconds to hand a message back for when its key's budget frees in ``wait_s``
        (``postpone_delay``, docs/architecture.md §8)."""
        return postpone_delay(wait_s, self.budget_wait_s)

    def backoff(self, attempt: int) -> float:
        """Seconds before the next try after the ``attempt``-th counted failure."""
        return float(min(self.retry_max_s, self.retry_base_s * 2.0 ** max(attempt - 1, 0)))


@dataclass(frozen=True)
class UploadPorts:
    """Everything the worker reads, writes and calls."""

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
    accounts: AccountCreators
    """Creates the subsidiary accounts entries name and the client file lacks."""
    clock: Callable[[], datetime]
    policy: UploadPolicy = UploadPolicy()
    verifications: VerifyQueue | None = None
    """Where accepted archives queue their read-back; ``None``: verified delivery is off."""
    exports: ExportReaders | None = None
    """Reads MyUnisoft's export before a refused archive is split (``upload.refused``)."""
    ids: MyUnisoftIds | None = None
    """The MyUnisoft ids claimed by entries (with ``exports``)."""
