"""The state of one invocation's work on one client file, shared by the worker's steps."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tra_core.domain.references import Account, References
from tra_core.domain.triage import with_subsidiaries
from tra_core.store.records import Connection
from upload.messages import Fates, Report
from upload.ports import AccountCreator, Uploader, UploadPolicy, UploadPorts


class FileRun:
    """One client file's messages, the key used for them and what was read once (the references)."""

    def __init__(
        self,
        ports: UploadPorts,
        owner: str,
        file: tuple[str, str, int],
        fates: Fates,
        time_left: Callable[[], float] | None = None,
    ):
        self.ports = ports
        self.owner = owner
        """Who holds the leases this run takes (one id per invocation)."""
        self.tenant, self.connection_id, self.society_id = file
        self.fates = fates
        self.time_left = time_left
        self.connection: Connection | None = None
        """The connection, with the fingerprint of the key actually used."""
        self.seen_fingerprint: str | None = None
        self.api_key: str | None = None
        self._uploader: Uploader | None = None
        self._accounts: AccountCreator | None = None
        self._references: References | None = None
        self.reference_version: int | None = None
        """The version of the file's references the run checks entries against."""

    @property
    def policy(self) -> UploadPolicy:
        return self.ports.policy

    @property
    def report(self) -> Report:
        return self.fates.report

    def count(self, name: str, how_many: int = 1) -> None:
        """Add to one of the invocation's counts (logged and published as metrics)."""
        self.fates.report.counts[name] += how_many

    def now_ms(self) -> int:
        return int(self.ports.clock().timestamp() * 1000)

    def out_of_time(self, entry_ids: Iterable[str]) -> bool:
        """Whether an upload started now could outlive the invocation; if so its messages come back."""
        if self.time_left is None or self.time_left() >= self.policy.send_reserve_s:
            return False
        self.fates.retry(entry_ids, 1.0)
        self.count("out_of_time")
        return True

    def budget_ready(
        self, entry_ids: Iterable[str], fingerprint: str | None = None, *, reserve: bool = False
    ) -> bool:
        """Whether the key's budget has room within the worker's short wait, asked before each
        archive is formed (what this process knows, else one read) and, with ``reserve``, once
        it is formed, booking the upload's start before the entries are claimed into a batch.

        If not, the entries' messages are postponed until shortly before it has: a firm's spent
        budget sends its messages back rather than holding the worker, which other firms' entries
        may be queued for (docs/architecture.md §8). No attempt is spent, and nothing is frozen.
        ``fingerprint``: the key's, before the run has loaded the key.
        """
        fingerprint = fingerprint or self.seen_fingerprint
        assert fingerprint is not None
        uploaders, short = self.ports.uploaders, self.policy.budget_wait_s
        wait = uploaders.reserve(fingerprint, short) if reserve else uploaders.wait_s(fingerprint)
        if wait <= short:
            return True
        self.fates.postpone(entry_ids, self.policy.budget_delay(wait))
        self.count("budget_busy")
        return False

    def uploader(self) -> Uploader:
        """A MyUnisoft client for the run's key (opened once)."""
        if self._uploader is None:
            assert self.api_key is not None
            self._uploader = self.ports.uploaders.open(self.api_key)
        return self._uploader

    def account_creator(self) -> AccountCreator:
        """MyUnisoft's find-or-create of accounts, for the run's key (opened once)."""
        if self._accounts is None:
            assert self.api_key is not None
            self._accounts = self.ports.accounts.open(self.api_key)
        return self._accounts

    def close(self) -> None:
        if self._uploader is not None:
            self._uploader.close()
            self._uploader = None
        if self._accounts is not None:
            self._accounts.close()
            self._accounts = None

    def references(self) -> References | None:
        """The file's current references (read once), or ``None`` when never fetched."""
        if self._references is None:
            file = self.ports.files.get(self.connection_id, self.society_id)
            if file is not None and file.reference_version is not None:
                snapshot = self.ports.snapshots.load(
                    self.connection_id, self.society_id, file.reference_version
                )
                self._references = None if snapshot is None else snapshot.references
                self.reference_version = file.reference_version
        return self._references

    def add_subsidiaries(self, accounts: Iterable[Account], version: int | None = None) -> None:
        """Accounts the run created: later checks of the run find them (``version``: the file's
        references version that holds them, when it was recorded)."""
        if self._references is not None:
            self._references = with_subsidiaries(self._references, accounts)
        if version is not None:
            self.reference_version = version

    def references_moved(self) -> bool:
        """Whether the file's references changed since the run read them (a refresh meanwhile)."""
        file = self.ports.files.get(self.connection_id, self.society_id)
        return file is not None and file.reference_version != self.reference_version

    def key_replaced(self) -> bool:
        """Whether the connection is active again, with another key than the one this run used."""
        current = self.ports.connections.get(self.tenant, self.connection_id)
        return current is not None and current.is_active and current.key_fingerprint != self.seen_fingerprint
