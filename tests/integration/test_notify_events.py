"""Events from the real flows, through DynamoDB Local's stream, the relay, moto's EventBridge and SQS,
the delivery worker and a receiver on 127.0.0.1; signatures checked with ``standardwebhooks``."""

from __future__ import annotations

from typing import Any

import pytest

from local.receiver import WebhookReceiver
from tests.support.fixtures import EmulatorControl, Stack
from tests.support.notify_bridge import NotifyBridge, of_type

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
