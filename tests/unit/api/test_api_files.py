"""File use cases over fakes: references, on-demand refresh, and tenancy."""

from __future__ import annotations

from datetime import date

import pytest

from api.connections import ApiPorts, connect, disconnect
from api.errors import ConnectionNotActive, FileNotVisible, NotFound, ReferencesNotReady
from api.files import get_file, get_references, request_refresh
from tests.support.fakes import FakeMyUnisoft, InMemoryFiles, InMemoryQueue, InMemorySnapshots
from tra_core.domain.references import Account, FiscalYear, References
from tra_core.store.records import ReferenceCounts, ReferenceSnapshot, RefreshResult, references_hash


def _publish(ports: ApiPorts, file_id: str) -> ReferenceSnapshot:
    """Store version 1 of a file's references, as the refresh worker would."""
    file = get_file("tenant-a", file_id, ports)
    references = References(
        accounts=(Account(number="606100", label="Électricité"),),
        subsidiaries=(Account(number="401000", label="Fournisseurs"),),
        fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),),
    )
    snapshot = ReferenceSnapshot(
        connection_id=file.connection_id,
        society_id=file.society_id,
        version=1,
        refreshed_at=ports.clock(),
        content_hash=references_hash(references),
        references=references,
    )
    snapshots: InMemorySnapshots = ports.snapshots  # type: ignore[assignment]
    files: InMemoryFiles = ports.files  # type: ignore[assignment]
    snapshots.save(snapshot)
    files.record_snapshot(
        file,
        version=1,
        content_hash=snapshot.content_hash,
        counts=ReferenceCounts.of(references),
        result=RefreshResult(at=ports.clock(), outcome="updated", version=1),
    )
    return snapshot


def test_references_are_served_once_fetched(ports: ApiPorts) -> None:
    # Given a connected firm whose first file was refreshed
    file = connect("tenant-a", "firm-key", ports).discovery.files[0]
    with pytest.raises(ReferencesNotReady):
        get_references("tenant-a", file.file_id, ports)
    published = _publish(ports, file.file_id)

    # When the references are read
    snapshot = get_references("tenant-a", file.file_id, ports)

    # Then the current version is served
    assert snapshot == published


def test_another_tenants_file_does_not_exist(ports: ApiPorts) -> None:
    # Given tenant A's file
    file = connect("tenant-a", "firm-key", ports).discovery.files[0]
    _publish(ports, file.file_id)

    # Then tenant B can neither read nor refresh it, and unknown ids are just as unknown
    for attempt in (
        lambda: get_references("tenant-b", file.file_id, ports),
        lambda: request_refresh("tenant-b", file.file_id, ports),
        lambda: get_file("tenant-a", "not-a-file-id", ports),
        lambda: get_file("tenant-a", file.connection_id + ".999", ports),
    ):
        with pytest.raises(NotFound):
            attempt()


def test_a_refresh_on_demand_is_queued(ports: ApiPorts) -> None:
    # Given a connected firm
    file = connect("tenant-a", "firm-key", ports).discovery.files[1]
    queue: InMemoryQueue = ports.queue  # type: ignore[assignment]
    queue.take()

    # When the accountant asks for a refresh of one file
    request_refresh("tenant-a", file.file_id, ports)

    # Then one refresh of that file is queued
    assert [(r.kind, r.society_id, r.reason) for r in queue.sent] == [("refresh", file.society_id, "manual")]


def test_no_refresh_on_a_disconnected_connection_or_a_hidden_file(
    ports: ApiPorts, myunisoft: FakeMyUnisoft
) -> None:
    # Given a file that the key no longer lists
    result = connect("tenant-a", "firm-key", ports)
    myunisoft.dossiers.pop(103)
    connect("tenant-a", "firm-key", ports)
    hidden = result.discovery.files[2]

    # Then refreshing it is refused
    with pytest.raises(FileNotVisible):
        request_refresh("tenant-a", hidden.file_id, ports)

    # And once disconnected, no file can be refreshed
    disconnect("tenant-a", result.connection.connection_id, ports)
    with pytest.raises(ConnectionNotActive):
        request_refresh("tenant-a", result.discovery.files[0].file_id, ports)
