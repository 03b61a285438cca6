"""Revocation and key replacement through the real handlers: the nightly refresh meets a revoked key,
the connection stops its work, and a new key of the same firm resumes it."""

from __future__ import annotations

import pytest

from tests.support.bridge import Bridge
from tests.support.fixtures import EmulatorControl, Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Bridge:
    return Bridge(stack, monkeypatch)


def test_a_revoked_key_stops_the_connection_until_a_key_of_the_same_firm_is_put(
    bridge: Bridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm whose references were fetched
    created = bridge.connect("demo-firm-key")
    connection_id = created.body["connection_id"]
    bridge.drain_refresh_queue()

    # When the firm revokes the key and the nightly refresh runs
    emulator.revoke("demo-firm-key")
    before = len(emulator.requests())
    fanned = bridge.run_schedule()
    stats = bridge.drain_refresh_queue()

    # Then the first refused call marks the connection revoked and the rest of its work stops
    assert fanned == {"connections": 1, "files": 3, "messages": 4}
    assert (stats.received, stats.failed) == (4, 0)
    refused = emulator.requests()[before:]
    assert len(refused) == 1
    assert refused[0]["code"] == "ERR-API-TOKEN-NOT-FOUND"
    connection = bridge.call("GET", f"/connections/{connection_id}").body
    assert connection["status"] == "revoked"
    assert connection["status_reason"]["code"] == "KEY_REVOKED"
    file_id = created.body["files"][0]["file_id"]
    assert bridge.call("POST", f"/files/{file_id}/refresh").error_code == "CONNECTION_NOT_ACTIVE"
    assert bridge.run_schedule() == {"connections": 0, "files": 0, "messages": 0}

    # And a key of another firm is refused
    other = bridge.call("PUT", f"/connections/{connection_id}/key", {"api_key": "demo-other-firm-key"})
    assert (other.status, other.error_code) == (422, "KEY_OTHER_FIRM")
    assert bridge.call("GET", f"/connections/{connection_id}").body["status"] == "revoked"

    # When a new key of the same firm is put
    replaced = bridge.call("PUT", f"/connections/{connection_id}/key", {"api_key": "demo-firm-key-2"})

    # Then the connection is active again and every file is refreshed with the new key
    assert (replaced.status, replaced.body["status"]) == (200, "active")
    assert replaced.body["connection_id"] == connection_id
    resumed = bridge.drain_refresh_queue()
    assert (resumed.received, resumed.failed) == (3, 0)
    files = bridge.call("GET", f"/connections/{connection_id}/files").body["files"]
    assert [f["references"]["status"] for f in files] == ["ready", "ready", "ready"]
    assert {f["references"]["last_refresh"]["outcome"] for f in files} == {"unchanged"}
    connection = bridge.call("GET", f"/connections/{connection_id}").body
    assert (connection["status"], connection["status_reason"]) == ("active", None)


def test_a_disconnected_connection_gets_no_nightly_work(bridge: Bridge, emulator: EmulatorControl) -> None:
    # Given a connection that was disconnected
    created = bridge.connect("demo-firm-key")
    bridge.drain_refresh_queue()
    bridge.call("DELETE", f"/connections/{created.body['connection_id']}")
    before = len(emulator.requests())

    # When the schedule fires
    fanned = bridge.run_schedule()

    # Then nothing is queued and MyUnisoft is not called
    assert fanned["messages"] == 0
    assert bridge.drain_refresh_queue().received == 0
    assert len(emulator.requests()) == before


def test_a_refresh_on_demand_makes_a_new_version_only_when_the_chart_changed(
    bridge: Bridge, emulator: EmulatorControl
) -> None:
    # Given a connected firm whose references were fetched
    created = bridge.connect("demo-firm-key")
    bridge.drain_refresh_queue()
    file_id = created.body["files"][0]["file_id"]

    # When the accountant asks for a refresh and nothing changed in MyUnisoft
    queued = bridge.call("POST", f"/files/{file_id}/refresh")
    bridge.drain_refresh_queue()

    # Then the refresh is accepted and the version stays 1
    assert (queued.status, queued.body) == (202, {"file_id": file_id, "status": "queued"})
    assert bridge.call("GET", f"/files/{file_id}/references").body["version"] == 1
