"""A small world for unit tests of intake and the upload worker: one connected firm, one client file
with its references, in-memory fakes of every port, and helpers to post entries and deliver them."""

from __future__ import annotations

import copy
import hashlib
from datetime import date
from typing import Any

from api.entries import IntakePorts
from tests.support.accounts import FakeAccounts
from tests.support.fakes import Clock, InMemoryConnections, InMemoryFiles, InMemorySnapshots, InMemoryVault
from tests.support.uploads import (
    FakeUploads,
    InMemoryArchives,
    InMemoryBatches,
    InMemoryDocuments,
    InMemoryEntries,
    InMemoryUploadQueue,
)
from tra_core.domain.entry import Entry
from tra_core.domain.references import Account, FiscalYear, Journal, References
from tra_core.store.attachments import attachment_key
from tra_core.store.entries import EntryKey, EntryRecord, UploadRequest
from tra_core.store.records import (
    ClientFile,
    Connection,
    ConnectionStatus,
    ReferenceCounts,
    ReferenceSnapshot,
    RefreshResult,
    connection_id_for,
    key_fingerprint,
    references_hash,
)
from upload.use_cases import Delivery, Report, UploadPolicy, UploadPorts, process

TENANT = "tenant-a"
SOCIETY = 101
PDF = b"%PDF-1.4\n% a supporting document\n%%EOF\n"

REFERENCES = References(
    accounts=(
        Account(number="445660", label="TVA deductible"),
        Account(number="445710", label="TVA collectee"),
        Account(number="512000", label="Banque"),
        Account(number="606100", label="Electricite"),
        Account(number="625100", label="Voyages"),
        Account(number="627000", label="Services bancaires", closed=True),
        Account(number="706000", label="Prestations"),
    ),
    subsidiaries=(
        Account(number="401000", label="Fournisseurs"),
        Account(number="401EDF", label="EDF"),
        Account(number="411000", label="Clients"),
        Account(number="411DURAND", label="Durand"),
        Account(number="421MARTIN", label="Martin"),
    ),
    journals=(
        Journal(code="ACH", name="Achats", type="ACH"),
        Journal(code="VTE", name="Ventes", type="VTE"),
        Journal(code="BQ", name="Banque", type="BQ"),
        Journal(code="OD", name="OD", type="OD"),
        Journal(code="NDF", name="Notes de frais", type="NDF"),
        Journal(code="AN", name="A nouveaux", type="AN"),
        Journal(code="ACA", name="Ancien", type="ACH", blocked=True),
    ),
    fiscal_years=(
        FiscalYear(start=date(2025, 1, 1), end=date(2025, 12, 31), closed=True),
        FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),
    ),
)

PURCHASE: dict[str, Any] = {
    "entry_id": "e-1",
    "version": 1,
    "kind": "purchase",
    "journal": "ACH",
    "date": "2026-11-20",
    "reference": "F2026-0042",
    "label": "EDF electricity November 2026",
    "lines": [
        {"account": "401000", "subsidiary": "EDF", "credit": "120.00"},
        {"account": "606100", "debit": "100.00"},
        {"account": "445660", "debit": "20.00"},
    ],
    "attachments": [],
}


class World:
    """The fakes, and helpers to post entries and deliver their messages to the worker."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.connections = InMemoryConnections()
        self.files = InMemoryFiles()
        self.snapshots = InMemorySnapshots()
        self.vault = InMemoryVault()
        self.entries = InMemoryEntries()
        self.batches = InMemoryBatches(self.entries)
        self.archives = InMemoryArchives()
        self.documents = InMemoryDocuments()
        self.queue = InMemoryUploadQueue()
        self.myunisoft = FakeUploads()
        self.accounts = FakeAccounts()
        self.policy = UploadPolicy(max_attempts=3, retry_base_s=10, retry_max_s=100, lease_s=60)
        self.connection_id = connection_id_for(TENANT, 1)
        now = self.clock()
        self.connections.save(
            Connection(
                connection_id=self.connection_id,
                tenant=TENANT,
                schema_id=1,
                status=ConnectionStatus.ACTIVE,
                key_fingerprint=key_fingerprint("firm-key"),
                secret_ref=self.vault.store(self.connection_id, "firm-key"),
                created_at=now,
                updated_at=now,
            )
        )
        self._messages = 0
        self.add_file(SOCIETY)

    def add_file(self, society_id: int, name: str = "BOULANGERIE") -> None:
        """A client file of the firm, with the usual references."""
        now = self.clock()
        self.files.items[(self.connection_id, society_id)] = ClientFile(
            connection_id=self.connection_id,
            tenant=TENANT,
            society_id=society_id,
            name=name,
            first_seen_at=now,
            last_seen_at=now,
        )
        self.set_references(REFERENCES, society_id=society_id)

    def set_references(self, references: References, *, society_id: int = SOCIETY) -> None:
        file = self.files.items[(self.connection_id, society_id)]
        version = (file.reference_version or 0) + 1
        self.snapshots.save(
            ReferenceSnapshot(
                connection_id=self.connection_id,
                society_id=society_id,
                version=version,
                refreshed_at=self.clock(),
                content_hash=references_hash(references),
                references=references,
            )
        )
        self.files.record_snapshot(
            file,
            version=version,
            content_hash=references_hash(references),
            counts=ReferenceCounts.of(references),
            result=RefreshResult(at=self.clock(), outcome="updated", version=version),
        )

    @property
    def ports(self) -> UploadPorts:
        return UploadPorts(
            connections=self.connections,
            files=self.files,
            snapshots=self.snapshots,
            vault=self.vault,
            entries=self.entries,
            batches=self.batches,
            archives=self.archives,
            documents=self.documents,
            queue=self.queue,
            uploaders=self.myunisoft,
            accounts=self.accounts,
            clock=self.clock,
            policy=self.policy,
        )

    @property
    def intake(self) -> IntakePorts:
        return IntakePorts(
            connections=self.connections,
            files=self.files,
            snapshots=self.snapshots,
            entries=self.entries,
            documents=self.documents,
            queue=self.queue,
            clock=self.clock,
        )

    @property
    def file_id(self) -> str:
        return f"{self.connection_id}.{SOCIETY}"

    def document(self, data: bytes = PDF, name: str = "facture.pdf", *, society_id: int = SOCIETY) -> str:
        key = attachment_key(self.connection_id, society_id, hashlib.sha256(data).hexdigest(), name)
        self.documents.items[key] = data
        return key

    def entry(self, entry_id: str = "e-1", **changes: Any) -> dict[str, Any]:
        raw = copy.deepcopy(PURCHASE)
        raw["entry_id"] = entry_id
        raw.update(changes)
        return raw

    def post(self, *raws: dict[str, Any], society_id: int = SOCIETY) -> list[Delivery]:
        """Store the entries ``queued`` (as intake does) and return one delivery per entry."""
        deliveries = []
        for raw in raws:
            record = EntryRecord.queued(
                Entry.model_validate(raw),
                tenant=TENANT,
                connection_id=self.connection_id,
                society_id=society_id,
                warnings=(),
                now=self.clock(),
            )
            stored = self.entries.submit(record).record
            deliveries.append(self.delivery(UploadRequest.of(stored, "intake", self.clock())))
        return deliveries

    def delivery(self, request: UploadRequest) -> Delivery:
        self._messages += 1
        body = request.model_dump_json()
        return Delivery(f"m{self._messages}", f"r{self._messages}", body, request)

    def run(self, deliveries: list[Delivery]) -> Report:
        return process(deliveries, self.ports)

    def record(self, entry_id: str = "e-1", *, society_id: int = SOCIETY) -> EntryRecord:
        record = self.entries.get(EntryKey(self.connection_id, society_id, entry_id))
        assert record is not None
        return record
