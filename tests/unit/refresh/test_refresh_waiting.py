"""After each refresh of a client file, its entries waiting for references are queued again."""

from __future__ import annotations

from refresh.use_cases import RefreshPorts, handle
from tests.support.fakes import FakeMyUnisoft
from tests.support.upload_world import PURCHASE
from tests.support.uploads import InMemoryEntries, InMemoryUploadQueue
from tra_core.domain.entry import Entry
from tra_core.domain.lifecycle import EntryStatus
from tra_core.myunisoft.errors import FolderNotFound
from tra_core.store.entries import EntryIssue, EntryKey, EntryRecord
from tra_core.store.records import Connection, RefreshRequest

TENANT = "tenant-a"  # the connection fixture's tenant (conftest.py)
MISSING = EntryIssue(code="FISCAL_YEAR_MISSING", message="no fiscal year covers 2027-01-05")


def _waiting(ports: RefreshPorts, connection: Connection, society_id: int, entry_id: str) -> EntryKey:
    entry = Entry.model_validate({**PURCHASE, "entry_id": entry_id, "date": "2027-01-05"})
    record = EntryRecord.queued(
        entry,
        tenant=TENANT,
        connection_id=connection.connection_id,
        society_id=society_id,
        warnings=(),
        now=ports.clock(),
    ).model_copy(update={"status": EntryStatus.WAITING_FOR_REFERENCES, "problems": (MISSING,)})
    ports.entries.submit(record)
    return record.key


def _refresh(ports: RefreshPorts, connection: Connection, society_id: int) -> str:
    request = RefreshRequest.for_file(TENANT, connection.connection_id, society_id, "manual", ports.clock())
    handled = handle(request, ports)
    return f"{handled.outcome}:{handled.resumed}"


def test_a_refresh_queues_the_files_waiting_entries_again(
    ports: RefreshPorts, connection: Connection
) -> None:
    # Given entries waiting for references in two files
    here = _waiting(ports, connection, 101, "jan-1")
    there = _waiting(ports, connection, 102, "jan-2")

    # When file 101 is refreshed (first version), then refreshed again with nothing changed
    first = _refresh(ports, connection, 101)
    entries: InMemoryEntries = ports.entries  # type: ignore[assignment]
    uploads: InMemoryUploadQueue = ports.uploads  # type: ignore[assignment]
    sent = uploads.take()

    # Then its waiting entry is queued again, without its old problems, and a message names it
    assert first == "updated:1"
    record = entries.get(here)
    assert record is not None and (record.status, record.problems) == (EntryStatus.QUEUED, ())
    assert [(m.entry_id, m.reason) for m in sent] == [("jan-1", "refreshed")]
    # And the other file's entry still waits
    other = entries.get(there)
    assert other is not None and other.status is EntryStatus.WAITING_FOR_REFERENCES
    # And a refresh that changed nothing resumes a waiting entry too (every refresh checks again)
    _waiting(ports, connection, 101, "jan-3")
    assert _refresh(ports, connection, 101) == "unchanged:1"


def test_a_failed_refresh_leaves_waiting_entries_alone(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given a waiting entry, and a file MyUnisoft no longer lets the key read
    key = _waiting(ports, connection, 101, "jan-1")
    myunisoft.failure = FolderNotFound("gone", myunisoft_code="DROIT1")

    # When the file is refreshed
    outcome = _refresh(ports, connection, 101)

    # Then nothing is resumed
    assert outcome == "failed:0"
    record = ports.entries.get(key)
    assert record is not None and record.status is EntryStatus.WAITING_FOR_REFERENCES
