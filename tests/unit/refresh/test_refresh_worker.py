"""The refresh worker's use cases over fakes: versions, diffs, revocation, failures, fan-out."""

from __future__ import annotations

import pytest

from refresh.use_cases import RefreshPorts, fan_out, handle
from tests.support.fakes import FakeMyUnisoft, InMemoryQueue, InMemorySnapshots, standard_dossier
from tra_core.myunisoft.errors import Maintenance, RateLimited
from tra_core.store.errors import RateBudgetBusy
from tra_core.store.records import Connection, ConnectionStatus, ReferenceStatus, RefreshRequest

TENANT = "tenant-a"  # the connection fixture's tenant (conftest.py)


def _refresh(ports: RefreshPorts, connection: Connection, society_id: int = 101) -> str:
    request = RefreshRequest(
        tenant=TENANT,
        connection_id=connection.connection_id,
        society_id=society_id,
        reason="nightly",
        requested_at=ports.clock(),
    )
    return handle(request, ports).outcome


def test_a_first_refresh_stores_version_1_with_subsidiaries_set_apart(
    ports: RefreshPorts, connection: Connection
) -> None:
    # When a file is refreshed for the first time
    outcome = _refresh(ports, connection)

    # Then version 1 is stored: 401*/411* accounts (401000 too) are subsidiaries, not general accounts
    assert outcome == "updated"
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.reference_version == 1
    assert file.reference_status is ReferenceStatus.READY
    snapshot = ports.snapshots.load(connection.connection_id, 101, 1)
    assert snapshot is not None and snapshot.changes.initial
    numbers = [a.number for a in snapshot.references.accounts]
    subsidiaries = [a.number for a in snapshot.references.subsidiaries]
    assert subsidiaries == ["401000", "401EDF", "411000", "411DURAND"]
    assert numbers == ["445660", "512000", "606100", "627000"]
    assert [j.code for j in snapshot.references.journals] == ["ACH", "OD", "VTE"]
    assert [(y.start.year, y.closed) for y in snapshot.references.fiscal_years] == [
        (2025, True),
        (2026, False),
    ]
    assert file.reference_counts is not None and file.reference_counts.subsidiaries == 4


def test_an_unchanged_chart_makes_no_new_version(ports: RefreshPorts, connection: Connection) -> None:
    # Given a refreshed file
    _refresh(ports, connection)

    # When it is refreshed again with nothing changed in MyUnisoft
    outcome = _refresh(ports, connection)

    # Then there is still one version, and the refresh is recorded as unchanged
    assert outcome == "unchanged"
    snapshots: InMemorySnapshots = ports.snapshots  # type: ignore[assignment]
    assert list(snapshots.items) == [(connection.connection_id, 101, 1)]
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.last_refresh is not None
    assert (file.reference_version, file.last_refresh.outcome) == (1, "unchanged")


def test_a_changed_chart_makes_a_version_with_its_diff(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given a refreshed file
    _refresh(ports, connection)

    # When accounts and journals change in MyUnisoft
    dossier = myunisoft.dossiers[101]
    dossier.accounts = [a for a in dossier.accounts if a[0] != "512000"]
    dossier.accounts.append(("411NEW", "Nouveau client", False))
    dossier.accounts = [
        (n, label, True) if n == "606100" else (n, label, c) for n, label, c in dossier.accounts
    ]
    dossier.journals.append(("BQ", "Banque", "BQ", False))
    dossier.journals = [(c, n, t, True) if c == "OD" else (c, n, t, b) for c, n, t, b in dossier.journals]
    outcome = _refresh(ports, connection)

    # Then version 2 holds the diff against version 1
    assert outcome == "updated"
    snapshot = ports.snapshots.load(connection.connection_id, 101, 2)
    assert snapshot is not None
    changes = snapshot.changes
    assert not changes.initial
    assert (changes.accounts.removed, changes.accounts.closed) == (("512000",), ("606100",))
    assert changes.subsidiaries.added == ("411NEW",)
    assert (changes.journals.added, changes.journals.closed) == (("BQ",), ("OD",))
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.last_refresh is not None
    assert file.last_refresh.changes == {
        "accounts_removed": 1,
        "accounts_closed": 1,
        "subsidiaries_added": 1,
        "journals_added": 1,
        "journals_closed": 1,
    }


def test_a_revoked_key_parks_the_connection_and_stops_its_work(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given the firm revoked the key
    myunisoft.revoke("firm-key")

    # When a file refresh runs
    outcome = _refresh(ports, connection, 101)

    # Then the connection is revoked, the file waits for a key, and the message is not retried
    assert outcome == "waiting_for_key"
    current = ports.connections.get(TENANT, connection.connection_id)
    assert current is not None and current.status is ConnectionStatus.REVOKED
    assert current.status_code == "KEY_REVOKED"
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.reference_status is ReferenceStatus.WAITING_FOR_KEY

    # And the connection's other messages make no call to MyUnisoft
    calls = len(myunisoft.calls)
    assert _refresh(ports, connection, 102) == "skipped"
    assert len(myunisoft.calls) == calls


def test_a_refusal_of_a_replaced_key_does_not_revoke_the_new_one(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given a worker that loaded the old key while the tenant put a new one
    myunisoft.revoke("firm-key")
    replaced = connection.model_copy(update={"key_fingerprint": "sha256:0000000000000000"})
    ports.connections.save(replaced)

    # When the old key is refused
    ports.connections.mark_revoked(connection, code="KEY_REVOKED", message="revoked", now=ports.clock())

    # Then the connection stays active on its new key
    current = ports.connections.get(TENANT, connection.connection_id)
    assert current is not None and current.status is ConnectionStatus.ACTIVE


def test_a_transient_failure_is_retried_by_the_queue(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given MyUnisoft under maintenance
    myunisoft.failure = Maintenance("down", myunisoft_code="ERR-API-UNDER-MAINTENANCE")

    # When a refresh runs, it raises (the message comes back), and the file says it will retry
    with pytest.raises(Maintenance):
        _refresh(ports, connection)
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.last_refresh is not None
    assert (file.last_refresh.outcome, file.last_refresh.code) == ("retrying", "MYUNISOFT_MAINTENANCE")


def test_a_dossier_out_of_reach_is_recorded_as_failed(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given a dossier the key can no longer open
    myunisoft.dossiers[101].schema_id = 99

    # When it is refreshed
    outcome = _refresh(ports, connection)

    # Then the failure is recorded on the file with MyUnisoft's code, and not retried
    assert outcome == "failed"
    file = ports.files.get(connection.connection_id, 101)
    assert file is not None and file.last_refresh is not None
    assert (file.last_refresh.code, file.last_refresh.myunisoft_code) == ("FOLDER_NOT_FOUND", "DROIT1")
    assert file.reference_status is ReferenceStatus.FAILED


def test_the_nightly_fan_out_queues_every_visible_file_of_active_connections(
    ports: RefreshPorts, connection: Connection
) -> None:
    # Given an active connection of two files, and a revoked one
    other = connection.model_copy(
        update={"connection_id": "c-other", "status": ConnectionStatus.REVOKED, "tenant": "tenant-b"}
    )
    ports.connections.save(other)
    ports.files.apply_discovery(other, [], ports.clock())

    # When the schedule fires
    result = fan_out(ports)

    # Then one rediscovery and one refresh per file are queued, for the active connection only
    queue: InMemoryQueue = ports.queue  # type: ignore[assignment]
    assert [(r.kind, r.connection_id, r.society_id) for r in queue.sent] == [
        ("discover", connection.connection_id, None),
        ("refresh", connection.connection_id, 101),
        ("refresh", connection.connection_id, 102),
    ]
    assert (result.connections, result.files, result.messages) == (1, 2, 3)


def test_a_nightly_rediscovery_adds_new_dossiers_and_flags_vanished_ones(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given the firm gained a dossier and lost access to another
    myunisoft.dossiers[103] = standard_dossier(103, "SCI LES TILLEULS")
    del myunisoft.dossiers[102]

    # When the rediscovery message runs
    request = RefreshRequest(
        kind="discover", tenant=TENANT, connection_id=connection.connection_id, requested_at=ports.clock()
    )
    outcome = handle(request, ports).outcome

    # Then the new file exists and is queued, the vanished one is flagged, and the connection warns
    assert outcome == "discovered"
    files = {f.society_id: f.visible for f in ports.files.list(connection.connection_id)}
    assert files == {101: True, 102: False, 103: True}
    queue: InMemoryQueue = ports.queue  # type: ignore[assignment]
    assert [(r.society_id, r.reason) for r in queue.sent] == [(103, "discovered")]
    current = ports.connections.get(TENANT, connection.connection_id)
    assert current is not None and len(current.discovery_warnings) == 1


def test_a_disconnected_connection_does_nothing(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given a disconnected connection (its key destroyed)
    ports.connections.save(
        connection.model_copy(update={"status": ConnectionStatus.DISCONNECTED, "secret_ref": None})
    )

    # Then its messages are skipped without calling MyUnisoft
    assert _refresh(ports, connection) == "skipped"
    assert myunisoft.calls == []


def test_a_key_booked_by_other_work_postpones_the_refresh_without_a_request(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    # Given the firm's key booked for 7.5 s by its other files' refreshes
    myunisoft.budget_waits["firm-key"] = 7.5

    # When a worker receives one of its files
    outcome = _refresh(ports, connection)

    # Then the message is queued again to come back shortly before the key has room, and the
    # worker made no request (it is free for other firms' files)
    assert outcome == "postponed"
    assert isinstance(ports.queue, InMemoryQueue)
    assert [(r.society_id, delay) for r, delay in ports.queue.postponed] == [(101, 6.0)]
    assert myunisoft.calls == []


def test_a_key_with_room_within_the_short_wait_is_refreshed(
    ports: RefreshPorts, connection: Connection, myunisoft: FakeMyUnisoft
) -> None:
    myunisoft.budget_waits["firm-key"] = 1.5
    assert _refresh(ports, connection) == "updated"


@pytest.mark.parametrize(
    ("error", "delay"),
    [
        (RateBudgetBusy("busy", details={"wait_s": 9.2}), 8.0),
        (RateLimited("limit", reset_at=0.0, status=429), 1.0),
    ],
)
def test_a_budget_spent_during_the_refresh_postpones_the_message(
    ports: RefreshPorts,
    connection: Connection,
    myunisoft: FakeMyUnisoft,
    error: RateBudgetBusy | RateLimited,
    delay: float,
) -> None:
    # Given the key's budget taken by other work while the file is being read
    myunisoft.failure = error

    # When the refresh runs, then its message waits for the budget instead of failing
    assert _refresh(ports, connection) == "postponed"
    assert isinstance(ports.queue, InMemoryQueue)
    assert [d for _, d in ports.queue.postponed] == [delay]
