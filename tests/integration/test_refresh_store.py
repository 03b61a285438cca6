"""The state adapters on the local services: DynamoDB Local for the table, moto for S3 and secrets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.fixtures import Stack
from tra_core.domain.references import Account, FiscalYear, References
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles, entry_status_partition
from tra_core.store.errors import KeyNotFound, SnapshotExists
from tra_core.store.records import (
    Connection,
    ConnectionStatus,
    DiscoveredFile,
    ReferenceCounts,
    ReferenceSnapshot,
    RefreshResult,
    connection_id_for,
    key_fingerprint,
    references_hash,
)
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _connection(tenant: str = "tenant-a", status: ConnectionStatus = ConnectionStatus.ACTIVE) -> Connection:
    return Connection(
        connection_id=connection_id_for(tenant, 80),
        tenant=tenant,
        schema_id=80,
        status=status,
        key_fingerprint=key_fingerprint("demo-firm-key"),
        secret_ref="ref",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def connections(stack: Stack) -> DynamoDBConnections:
    return DynamoDBConnections(stack.session.client("dynamodb"), stack.ref("StateTable"))


@pytest.fixture
def files(stack: Stack) -> DynamoDBFiles:
    return DynamoDBFiles(stack.session.client("dynamodb"), stack.ref("StateTable"))


def test_connections_are_read_per_tenant_and_listed_when_active(connections: DynamoDBConnections) -> None:
    # Given an active connection of tenant A and a revoked one of tenant B
    active = _connection("tenant-a")
    connections.save(active)
    connections.save(_connection("tenant-b", ConnectionStatus.REVOKED))

    # Then each tenant reads only its own, and only the active one is listed for the night
    assert connections.get("tenant-a", active.connection_id) == active
    assert connections.get("tenant-b", active.connection_id) is None
    assert [c.connection_id for c in connections.list_active()] == [active.connection_id]


def test_a_revocation_applies_only_to_the_key_it_was_about(connections: DynamoDBConnections) -> None:
    # Given a connection whose key was replaced after a worker loaded the old one
    old = _connection()
    connections.save(old.model_copy(update={"key_fingerprint": key_fingerprint("demo-firm-key-2")}))

    # When the worker reports the old key refused, nothing changes
    assert connections.mark_revoked(old, code="KEY_REVOKED", message="m", now=NOW) is None
    assert connections.list_active() != []

    # And a refusal of the current key revokes the connection and takes it off the nightly list
    current = connections.get(old.tenant, old.connection_id)
    assert current is not None
    revoked = connections.mark_revoked(current, code="KEY_REVOKED", message="revoked", now=NOW)
    assert revoked is not None and revoked.status is ConnectionStatus.REVOKED
    assert connections.list_active() == []


def test_entries_are_counted_by_status_from_the_index(stack: Stack, connections: DynamoDBConnections) -> None:
    # Given entry items of a connection in two statuses (as the upload worker writes them)
    client = stack.session.client("dynamodb")
    for i, status in enumerate(["queued", "queued", "uploading", "rejected"]):
        client.put_item(
            TableName=stack.ref("StateTable"),
            Item={
                "PK": {"S": "FILE#c1#2101"},
                "SK": {"S": f"ENTRY#e{i}"},
                "status": {"S": status},
                "GSI1PK": {"S": entry_status_partition("c1", status)},
                "GSI1SK": {"S": f"e{i}"},
            },
        )

    # Then the connection's counts say so
    counts = connections.count_entries_by_status("c1")
    assert (counts["queued"], counts["uploading"], counts["rejected"], counts["uploaded"]) == (2, 1, 1, 0)


def test_discovery_flags_vanished_files_and_keeps_their_references(files: DynamoDBFiles) -> None:
    # Given two files, one with references
    connection = _connection()
    listed = [
        DiscoveredFile(society_id=2101, name="A", siret="1" * 14),
        DiscoveredFile(society_id=2102, name="B"),
    ]
    discovery = files.apply_discovery(connection, listed, NOW)
    assert discovery.new == (2101, 2102)
    first = files.get(connection.connection_id, 2101)
    assert first is not None
    result = RefreshResult(at=NOW, outcome="updated", version=1)
    assert files.record_snapshot(first, version=1, content_hash="h1", counts=ReferenceCounts(), result=result)

    # When the key stops listing the first one
    later = NOW + timedelta(days=1)
    hidden = files.apply_discovery(connection, listed[1:], later)

    # Then it is flagged, not deleted, and keeps its references; listing it again restores it
    assert hidden.vanished == (2101,)
    kept = files.get(connection.connection_id, 2101)
    assert kept is not None and not kept.visible and kept.reference_version == 1
    assert kept.not_visible_since == later
    back = files.apply_discovery(connection, [listed[0].model_copy(update={"name": "A2"})], later)
    restored = files.get(connection.connection_id, 2101)
    assert back.returned == (2101,)
    assert (
        restored is not None
        and restored.visible
        and restored.name == "A2"
        and restored.reference_version == 1
    )
    assert restored.not_visible_since is None and restored.first_seen_at == NOW


def test_only_one_of_two_racing_refreshes_moves_the_pointer(files: DynamoDBFiles) -> None:
    # Given a file read by two workers at version None
    connection = _connection()
    files.apply_discovery(connection, [DiscoveredFile(society_id=2101, name="A")], NOW)
    seen = files.get(connection.connection_id, 2101)
    assert seen is not None
    result = RefreshResult(at=NOW, outcome="updated", version=1)

    # When both record version 1, the second is refused
    assert files.record_snapshot(seen, version=1, content_hash="h1", counts=ReferenceCounts(), result=result)
    assert not files.record_snapshot(
        seen, version=1, content_hash="h2", counts=ReferenceCounts(), result=result
    )
    stored = files.get(connection.connection_id, 2101)
    assert stored is not None and stored.reference_hash == "h1"


def test_a_snapshot_version_is_written_once(stack: Stack) -> None:
    # Given a stored snapshot
    snapshots = S3Snapshots(stack.session.client("s3"), stack.ref("DataBucket"))
    references = References(
        accounts=(Account(number="512000"),),
        fiscal_years=(FiscalYear(start=date(2026, 1, 1), end=date(2026, 12, 31)),),
    )
    snapshot = ReferenceSnapshot(
        connection_id="c1",
        society_id=2101,
        version=1,
        refreshed_at=NOW,
        content_hash=references_hash(references),
        references=references,
    )
    assert snapshots.save(snapshot) == "references/c1/2101/1.json.gz"

    # Then it reads back whole, and the same version cannot be written again
    assert snapshots.load("c1", 2101, 1) == snapshot
    assert snapshots.load("c1", 2101, 2) is None
    with pytest.raises(SnapshotExists):
        snapshots.save(snapshot.model_copy(update={"content_hash": "other"}))


def test_keys_are_stored_replaced_and_destroyed(stack: Stack) -> None:
    # Given the stack's key vault
    vault = SecretsManagerKeyVault(
        stack.session.client("secretsmanager"),
        stack.environment("ApiFunction")["KEY_SECRET_PREFIX"],
        stack.ref("KeyEncryptionKey"),
    )

    # When a key is stored and replaced
    ref = vault.store("c1", "demo-firm-key")
    assert vault.load(ref, key_fingerprint("demo-firm-key")) == "demo-firm-key"
    assert vault.store("c1", "demo-firm-key-2") == ref

    # Then the new key is read (a cached old key is never served for the new fingerprint)
    assert vault.load(ref, key_fingerprint("demo-firm-key-2")) == "demo-firm-key-2"
    assert "demo" not in repr(vault)

    # And once destroyed it is gone
    vault.destroy(ref)
    with pytest.raises(KeyNotFound):
        vault.load(ref)
