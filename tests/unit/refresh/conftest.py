"""The refresh use cases over in-memory fakes: one connected firm of three client files."""

from __future__ import annotations

import pytest

from refresh.use_cases import RefreshPorts
from tests.support.fakes import (
    Clock,
    FakeKey,
    FakeMyUnisoft,
    InMemoryConnections,
    InMemoryFiles,
    InMemoryQueue,
    InMemorySnapshots,
    InMemoryVault,
    standard_dossier,
)
from tests.support.uploads import InMemoryEntries, InMemoryUploadQueue
from tra_core.store.records import (
    Connection,
    ConnectionStatus,
    DiscoveredFile,
    connection_id_for,
    key_fingerprint,
)

TENANT = "tenant-a"


@pytest.fixture
def myunisoft() -> FakeMyUnisoft:
    return FakeMyUnisoft(
        dossiers=[standard_dossier(101, "BOULANGERIE MARTIN"), standard_dossier(102, "GARAGE DUPONT")],
        keys={"firm-key": FakeKey("firm", 1), "firm-key-2": FakeKey("firm", 1)},
    )


@pytest.fixture
def ports(myunisoft: FakeMyUnisoft) -> RefreshPorts:
    return RefreshPorts(
        connections=InMemoryConnections(),
        files=InMemoryFiles(),
        snapshots=InMemorySnapshots(),
        vault=InMemoryVault(),
        queue=InMemoryQueue(),
        clients=myunisoft,
        entries=InMemoryEntries(),
        uploads=InMemoryUploadQueue(),
        clock=Clock(),
    )


@pytest.fixture
def connection(ports: RefreshPorts) -> Connection:
    """An active connection on ``firm-key`` whose two files were discovered."""
    now = ports.clock()
    connection_id = connection_id_for(TENANT, 1)
    item = Connection(
        connection_id=connection_id,
        tenant=TENANT,
        schema_id=1,
        status=ConnectionStatus.ACTIVE,
        key_fingerprint=key_fingerprint("firm-key"),
        secret_ref=ports.vault.store(connection_id, "firm-key"),
        created_at=now,
        updated_at=now,
    )
    ports.connections.save(item)
    ports.files.apply_discovery(
        item,
        [
            DiscoveredFile(society_id=101, name="BOULANGERIE MARTIN"),
            DiscoveredFile(society_id=102, name="GARAGE"),
        ],
        now,
    )
    return item
