"""Events from the real flows, through DynamoDB Local's stream, the relay, moto's EventBridge and SQS,
the delivery worker and a receiver on 127.0.0.1; signatures checked with ``standardwebhooks``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from local.receiver import WebhookReceiver
from tests.support.dossiers import hide_dossier
from tests.support.fixtures import DEMO_SECRET, EmulatorControl, Stack
from tests.support.notify_bridge import NotifyBridge, of_type
from tests.support.upload_bridge import entry
from tests.support.verify_bridge import VerifyBridge

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> NotifyBridge:
    return NotifyBridge(stack, monkeypatch)


@pytest.fixture
def receiver() -> Any:
    with WebhookReceiver() as running:
        yield running


def test_onboarding_sends_the_connection_and_every_file_discovered_with_its_first_references(
    bridge: NotifyBridge, receiver: WebhookReceiver
) -> None:
    # Given a tenant with a webhook
    secret = bridge.register(receiver.url)

    # When it connects the demo firm and the references are fetched
    connection = bridge.onboard()
    bridge.flush()

    # Then every delivery verifies with the secret, and the events tell the story
    events = receiver.verified(secret)
    assert len(events) == len(receiver.accepted()) > 0
    connection_id = connection["connection_id"]
    assert [e["data"] for e in of_type(events, "connection.status_changed")] == [
        {"connection_id": connection_id, "status": "active", "previous_status": None}
    ]
    discovered = of_type(events, "file.discovered")
    assert sorted(e["data"]["file_id"] for e in discovered) == sorted(
        f["file_id"] for f in connection["files"]
    )
    references = of_type(events, "file.references_changed")
    assert {e["data"]["file_id"] for e in references} == {f["file_id"] for f in connection["files"]}
    assert all(e["data"]["version"] == 1 and e["data"]["added"] > 0 for e in references)
    assert {e["tenant"] for e in events} == {"tenant-demo"}
    # And each delivery's webhook-id is its event's id
    assert all(d.event_id == d.verify(secret)["id"] for d in receiver.accepted())
    # And the same events are on the stack's EventBridge bus
    bus = bridge.bus_events()
    assert sorted(e["detail"]["id"] for e in bus) == sorted(e["id"] for e in events)
    assert {(e["source"], e["detail-type"] == e["detail"]["type"]) for e in bus} == {
        ("myunisoft-bridge", True)
    }


def test_uploads_and_rejections_send_every_status_change_with_the_reason(
    bridge: NotifyBridge, receiver: WebhookReceiver
) -> None:
    # Given a connected firm with a webhook, the onboarding's events already delivered
    secret = bridge.register(receiver.url)
    file_id = bridge.onboard()["files"][0]["file_id"]
    bridge.flush()
    before = len(receiver.accepted())

    # When a good entry and one with an unknown account are posted and uploaded
    bad_lines = [
        {"account": "401000", "subsidiary": "EDF", "credit": "10.00"},
        {"account": "699999", "debit": "10.00"},
    ]
    bridge.post_entries(file_id, [entry("n-good"), entry("n-bad", lines=bad_lines)])
    bridge.drain_uploads()
    bridge.flush()

    # Then the hub saw each entry's lifecycle, in order of the changes, with the rejection's reason
    events = [d.verify(secret) for d in receiver.accepted()[before:]]
    changes = of_type(events, "entry.status_changed")
    by_entry: dict[str, list[tuple[str | None, str]]] = {}
    for event in sorted(changes, key=lambda e: (e["occurred_at"], e["data"]["previous_status"] or "")):
        data = event["data"]
        assert (data["file_id"], data["version"]) == (file_id, 1)
        by_entry.setdefault(data["entry_id"], []).append((data["previous_status"], data["status"]))
    assert by_entry["n-good"][0] == (None, "queued")
    assert by_entry["n-good"][-1][1] == "uploaded"
    assert by_entry["n-bad"][0] == (None, "queued")
    assert by_entry["n-bad"][-1][1] == "rejected"
    rejected = [e for e in changes if e["data"]["entry_id"] == "n-bad" and e["data"]["status"] == "rejected"]
    assert rejected[0]["data"]["last_error"]["code"] == "ACCOUNT_UNKNOWN"
    assert len({e["id"] for e in events}) == len(events)


class VerifiedNotifyBridge(NotifyBridge, VerifyBridge):
    """The notification bridge with the verification worker too."""


def test_a_verified_entry_sends_entry_verified_with_myunisofts_id(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, receiver: WebhookReceiver
) -> None:
    # Given a connected firm with a webhook, the onboarding's events already delivered
    bridge = VerifiedNotifyBridge(stack, monkeypatch)
    secret = bridge.register(receiver.url)
    created = bridge.onboard()
    file_id = created["files"][0]["file_id"]
    bridge.flush()
    before = len(receiver.accepted())

    # When an entry is uploaded and read back from MyUnisoft's export
    bridge.post_entries(file_id, entry("v-1"))
    bridge.drain()
    bridge.flush()

    # Then the hub is told once that it was verified, with MyUnisoft's id of the entry
    events = [d.verify(secret) for d in receiver.accepted()[before:]]
    copy = bridge.myunisoft(file_id, "v-1")
    assert copy["verification"] == "verified"
    assert [e["data"] for e in of_type(events, "entry.verified")] == [
        {
            "connection_id": created["connection_id"],
            "file_id": file_id,
            "entry_id": "v-1",
            "version": 1,
            "verification": "verified",
            "myunisoft_entry_id": copy["entry_id"],
        }
    ]


def test_a_revoked_key_and_a_new_one_send_the_connection_status_changes(
    bridge: NotifyBridge, receiver: WebhookReceiver, emulator: EmulatorControl
) -> None:
    # Given a connected firm with a webhook whose key the firm revokes
    secret = bridge.register(receiver.url)
    created = bridge.onboard()
    connection_id, file_id = created["connection_id"], created["files"][0]["file_id"]
    emulator.revoke("demo-firm-key")

    # When an entry meets the revoked key, then a new key is put
    bridge.post_entries(file_id, entry("k-1"))
    bridge.drain_uploads()
    replaced = bridge.call("PUT", f"/connections/{connection_id}/key", {"api_key": "demo-firm-key-2"})
    assert replaced.status == 200, replaced.body
    bridge.drain_refresh_queue()
    bridge.drain_uploads()
    bridge.flush()

    # Then the hub saw the connection go active → revoked → active, and the parked entry resume
    events = receiver.verified(secret)
    statuses = [
        (e["data"]["previous_status"], e["data"]["status"])
        for e in sorted(of_type(events, "connection.status_changed"), key=lambda e: e["occurred_at"])
    ]
    assert statuses == [(None, "active"), ("active", "revoked"), ("revoked", "active")]
    entry_statuses = [e["data"]["status"] for e in of_type(events, "entry.status_changed")]
    assert "waiting_for_key" in entry_statuses and "uploaded" in entry_statuses


def test_a_changed_chart_and_a_vanished_dossier_send_file_events(
    bridge: NotifyBridge, receiver: WebhookReceiver, emulator: EmulatorControl
) -> None:
    # Given a connected firm with a webhook, the onboarding's events already delivered
    secret = bridge.register(receiver.url)
    created = bridge.onboard()
    bridge.flush()
    before = len(receiver.accepted())
    target, hidden = created["files"][0], created["files"][1]

    # When the accountant adds an account in MyUnisoft and the file is refreshed
    answer = httpx.post(
        f"{emulator.url}/api/v1/account",
        json={"account_number": "606499", "label": "Petit equipement bureau"},
        headers={
            "Authorization": "Bearer demo-firm-key",
            "X-Third-Party-Secret": DEMO_SECRET,
            "society-id": str(target["society_id"]),
        },
        timeout=10.0,
    )
    assert answer.status_code < 300, answer.text
    assert bridge.call("POST", f"/files/{target['file_id']}/refresh").status == 202
    bridge.drain_refresh_queue()
    refreshed = bridge.call("GET", f"/files/{target['file_id']}/references").body
    assert refreshed["version"] == 2, {k: v for k, v in refreshed.items() if k != "accounts"}
    # And the firm's key no longer sees another dossier, and the nightly discovery runs
    hide_dossier(emulator, hidden["society_id"])
    bridge.run_schedule()
    bridge.drain_refresh_queue()
    bridge.flush()

    # Then the hub saw version 2 of the file's references with one account added, and the vanished file
    events = [d.verify(secret) for d in receiver.accepted()[before:]]
    changed = of_type(events, "file.references_changed")
    assert [e["data"] for e in changed] == [
        {
            "connection_id": created["connection_id"],
            "file_id": target["file_id"],
            "version": 2,
            "added": 1,
            "removed": 0,
            "changed": 0,
        }
    ]
    vanished = of_type(events, "file.vanished")
    assert [e["data"]["file_id"] for e in vanished] == [hidden["file_id"]]
    assert not of_type(events, "file.discovered")
