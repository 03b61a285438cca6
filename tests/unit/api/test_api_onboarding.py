"""Onboarding use cases over fakes: a firm key creates the connection and its files; bad keys are refused."""

from __future__ import annotations

import pytest

from api.connections import ApiPorts, connect, disconnect, get_connection, list_files, replace_key
from api.errors import KeyRejected, NotFound, ServiceUnavailable
from tests.support.fakes import (
    FakeKey,
    FakeMyUnisoft,
    InMemoryConnections,
    InMemoryQueue,
    InMemoryVault,
    standard_dossier,
)
from tra_core.myunisoft.errors import Maintenance, ThirdPartyDisconnected, ThirdPartySecretRejected
from tra_core.store.records import ConnectionStatus


def test_a_firm_key_creates_the_connection_and_one_file_per_dossier(ports: ApiPorts) -> None:
    # Given a firm with three dossiers (and a fourth in another firm)
    # When the accountant pastes the firm key
    result = connect("tenant-a", "firm-key", ports)

    # Then the connection is active, with one file per dossier of that firm, each queued for a refresh
    assert result.created
    assert result.connection.status is ConnectionStatus.ACTIVE
    assert [f.society_id for f in result.discovery.files] == [101, 102, 103]
    assert next(f.name for f in result.discovery.files) == "BOULANGERIE MARTIN"
    queued = ports.queue.sent  # type: ignore[attr-defined]
    assert [(r.kind, r.society_id, r.reason) for r in queued] == [
        ("refresh", 101, "onboarding"),
        ("refresh", 102, "onboarding"),
        ("refresh", 103, "onboarding"),
    ]
    assert result.discovery.warnings == ()


def test_the_key_is_kept_in_the_vault_only(ports: ApiPorts) -> None:
    # Given a connected firm key
    result = connect("tenant-a", "firm-key", ports)

    # Then the connection holds a fingerprint and a vault reference, never the key itself
    connection = result.connection
    assert "firm-key" not in connection.model_dump_json()
    assert connection.key_fingerprint.startswith("sha256:")
    assert ports.vault.load(connection.secret_ref or "") == "firm-key"
    assert "firm-key" not in repr(ports.vault)


def test_the_same_firm_twice_gives_back_the_existing_connection(ports: ApiPorts) -> None:
    # Given a tenant already connected to the firm
    first = connect("tenant-a", "firm-key", ports)

    # When the same tenant pastes another key of the same firm
    second = connect("tenant-a", "firm-key-2", ports)

    # Then it is the same connection (now on the new key), with the same files
    assert not second.created
    assert second.connection.connection_id == first.connection.connection_id
    assert second.connection.key_fingerprint != first.connection.key_fingerprint
    assert len(ports.connections.items) == 1  # type: ignore[attr-defined]
    assert [f.society_id for f in list_files("tenant-a", first.connection.connection_id, ports)] == [
        101,
        102,
        103,
    ]


def test_two_tenants_connecting_one_firm_get_two_connections(ports: ApiPorts) -> None:
    # When two tenants connect the same firm
    a = connect("tenant-a", "firm-key", ports)
    b = connect("tenant-b", "firm-key", ports)

    # Then each has its own connection
    assert a.connection.connection_id != b.connection.connection_id


@pytest.mark.parametrize(
    ("key", "code", "says"),
    [
        pytest.param("society-key", "KEY_NOT_FIRM", "client-file key", id="dossier-key"),
        pytest.param("narrow-key", "KEY_MISSING_ROUTES", "POST /api/v1/TRA/partial", id="missing-route"),
        pytest.param("revoked-key", "KEY_REVOKED", "revoked", id="revoked"),
        pytest.param("garbage", "KEY_INVALID", "mistyped", id="unreadable"),
    ],
)
def test_an_unusable_key_is_refused_with_what_to_do(
    ports: ApiPorts, myunisoft: FakeMyUnisoft, key: str, code: str, says: str
) -> None:
    # Given a key MyUnisoft refuses, or one that cannot serve the bridge
    myunisoft.keys["revoked-key"] = FakeKey("firm", 1, revoked=True)

    # When the accountant pastes it
    with pytest.raises(KeyRejected) as caught:
        connect("tenant-a", key, ports)

    # Then the refusal says why and how to get a usable key, and nothing is stored
    assert caught.value.code == code
    assert says in caught.value.message
    assert "Settings > Connectors" in caught.value.message
    assert "Firm" in caught.value.message
    assert key not in caught.value.message
    assert ports.connections.items == {}  # type: ignore[attr-defined]
    assert ports.vault.keys == {}  # type: ignore[attr-defined]
    assert ports.queue.sent == []  # type: ignore[attr-defined]


def test_a_firm_the_bridge_was_disconnected_from_is_told_so(
    ports: ApiPorts, myunisoft: FakeMyUnisoft
) -> None:
    # Given MyUnisoft disabled the integration for the firm
    myunisoft.failure = ThirdPartyDisconnected(
        "disconnected", myunisoft_code="ERR-THIRD-PARTY-DISCONNECTED", myunisoft_message="Contrat résilié"
    )

    # When the key is pasted
    with pytest.raises(KeyRejected) as caught:
        connect("tenant-a", "firm-key", ports)

    # Then the message carries MyUnisoft's reason
    assert caught.value.code == "THIRD_PARTY_DISCONNECTED"
    assert "Contrat résilié" in caught.value.message


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        pytest.param(
            Maintenance("down", myunisoft_code="ERR-API-UNDER-MAINTENANCE"), "MYUNISOFT_MAINTENANCE"
        ),
        pytest.param(
            ThirdPartySecretRejected("bad", myunisoft_code="ERR-INVALID-SECRET"), "BRIDGE_NOT_AUTHORISED"
        ),
    ],
)
def test_trouble_on_myunisofts_side_or_ours_is_a_try_again_later(
    ports: ApiPorts, myunisoft: FakeMyUnisoft, failure: Exception, code: str
) -> None:
    # Given MyUnisoft is in maintenance, or refuses the bridge's own partner secret
    myunisoft.failure = failure  # type: ignore[assignment]

    # When a key is pasted
    with pytest.raises(ServiceUnavailable) as caught:
        connect("tenant-a", "firm-key", ports)

    # Then the accountant is told the key was not checked and to try again later
    assert caught.value.code == code
    assert "try again" in caught.value.message.lower()


def test_a_dossier_that_disappears_is_flagged_not_deleted(ports: ApiPorts, myunisoft: FakeMyUnisoft) -> None:
    # Given a connected firm
    connection = connect("tenant-a", "firm-key", ports).connection

    # When a dossier is no longer listed by the key, and the firm is connected again
    hidden = myunisoft.dossiers.pop(102)
    again = connect("tenant-a", "firm-key", ports)

    # Then its file is kept, flagged not visible, and reported as a warning
    files = {f.society_id: f for f in list_files("tenant-a", connection.connection_id, ports)}
    assert sorted(files) == [101, 102, 103]
    assert not files[102].visible
    assert files[102].not_visible_since is not None
    assert [f.society_id for f in again.discovery.visible_files] == [101, 103]
    assert len(again.discovery.warnings) == 1
    assert "GARAGE DUPONT" in again.discovery.warnings[0]
    assert "not visible with this key" in again.discovery.warnings[0]

    # And when it is listed again, it is visible again
    myunisoft.dossiers[102] = hidden
    back = connect("tenant-a", "firm-key", ports)
    assert back.discovery.returned == (102,)
    assert back.discovery.warnings == ()


def test_a_key_that_lists_no_dossier_is_warned_about(ports: ApiPorts, myunisoft: FakeMyUnisoft) -> None:
    # Given a firm key whose user sees no dossier
    myunisoft.dossiers.clear()

    # When it is connected
    result = connect("tenant-a", "firm-key", ports)

    # Then the connection exists, with a warning
    assert result.discovery.files == ()
    assert "does not list any client file" in result.discovery.warnings[0]


def test_a_tenant_never_sees_or_changes_another_tenants_connection(ports: ApiPorts) -> None:
    # Given tenant A's connection
    connection = connect("tenant-a", "firm-key", ports).connection

    # Then for tenant B it does not exist, whatever the route
    for attempt in (
        lambda: get_connection("tenant-b", connection.connection_id, ports),
        lambda: list_files("tenant-b", connection.connection_id, ports),
        lambda: disconnect("tenant-b", connection.connection_id, ports),
        lambda: replace_key("tenant-b", connection.connection_id, "firm-key-2", ports),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert get_connection("tenant-a", connection.connection_id, ports).status is ConnectionStatus.ACTIVE


def test_a_revoked_connection_resumes_with_a_new_key_of_the_same_firm(ports: ApiPorts) -> None:
    # Given a connection whose key was revoked (as the refresh worker records it)
    connection = connect("tenant-a", "firm-key", ports).connection
    connections: InMemoryConnections = ports.connections  # type: ignore[assignment]
    connections.mark_revoked(connection, code="KEY_REVOKED", message="revoked", now=ports.clock())
    queue: InMemoryQueue = ports.queue  # type: ignore[assignment]
    queue.take()

    # When a new key of the same firm is put
    result = replace_key("tenant-a", connection.connection_id, "firm-key-2", ports)

    # Then the connection is active again on the new key, and every file is refreshed
    assert result.connection.status is ConnectionStatus.ACTIVE
    assert result.connection.status_code is None
    assert result.connection.key_fingerprint != connection.key_fingerprint
    assert ports.vault.load(result.connection.secret_ref or "") == "firm-key-2"
    assert [(r.society_id, r.reason) for r in queue.sent] == [
        (101, "key_replaced"),
        (102, "key_replaced"),
        (103, "key_replaced"),
    ]


def test_a_key_of_another_firm_is_refused_on_key_replacement(ports: ApiPorts) -> None:
    # Given a connection to firm 1
    connection = connect("tenant-a", "firm-key", ports).connection

    # When a key of firm 2 is put on it
    with pytest.raises(KeyRejected) as caught:
        replace_key("tenant-a", connection.connection_id, "other-firm-key", ports)

    # Then it is refused and the connection keeps its key
    assert caught.value.code == "KEY_OTHER_FIRM"
    kept = get_connection("tenant-a", connection.connection_id, ports)
    assert kept.key_fingerprint == connection.key_fingerprint
    assert ports.vault.load(kept.secret_ref or "") == "firm-key"


def test_disconnecting_destroys_the_key(ports: ApiPorts) -> None:
    # Given a connection
    connection = connect("tenant-a", "firm-key", ports).connection
    vault: InMemoryVault = ports.vault  # type: ignore[assignment]

    # When the tenant disconnects
    result = disconnect("tenant-a", connection.connection_id, ports)

    # Then the key is destroyed and the connection says so; its files stay
    assert result.status is ConnectionStatus.DISCONNECTED
    assert result.secret_ref is None
    assert vault.keys == {}
    assert vault.destroyed == [connection.secret_ref]
    assert len(list_files("tenant-a", connection.connection_id, ports)) == 3


def test_a_firm_of_many_dossiers_is_onboarded_whole(ports: ApiPorts, myunisoft: FakeMyUnisoft) -> None:
    # Given a firm with 300 dossiers
    for society_id in range(1000, 1300):
        myunisoft.dossiers[society_id] = standard_dossier(society_id, f"DOSSIER {society_id}")

    # When its key is connected
    result = connect("tenant-a", "firm-key", ports)

    # Then every dossier has a file and a queued refresh
    assert len(result.discovery.files) == 303
    assert len(ports.queue.sent) == 303  # type: ignore[attr-defined]
