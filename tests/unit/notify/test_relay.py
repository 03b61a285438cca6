"""The relay's use case over fakes: every event to the bus, webhook deliveries only for tenants with one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notify.relay import RelayPorts, relay
from tests.support.webhook_fakes import Bus, Clock, DeliveryQueue, InMemoryRegistry
from tra_core.domain.events import ItemChange
from tra_core.store.webhooks import WebhookRegistration


def connection_change(tenant: str, sequence: str = "1") -> ItemChange:
    item = {
        "PK": f"TENANT#{tenant}",
        "SK": "CONN#c1",
        "tenant": tenant,
        "connection_id": "c1",
        "status": "active",
    }
    return ItemChange(
        {"PK": item["PK"], "SK": item["SK"]}, None, item, sequence, datetime(2026, 12, 1, tzinfo=UTC)
    )


@pytest.fixture
def ports() -> RelayPorts:
    registry = InMemoryRegistry()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    registry.save(
        WebhookRegistration(
            tenant="with-hook",
            url="https://hub.example/h",
            created_at=now,
            updated_at=now,
            secret_ref="s",
            secret_version="v",
        )
    )
    return RelayPorts(bus=Bus(), queue=DeliveryQueue(), registry=registry, clock=Clock())


def test_every_event_goes_to_the_bus_and_only_tenants_with_a_webhook_get_deliveries(
    ports: RelayPorts,
) -> None:
    relay(connection_change("with-hook"), ports)
    relay(connection_change("without", "2"), ports)
    relay(connection_change("with-hook", "3"), ports)
    assert [e.tenant for e in ports.bus.events] == ["with-hook", "without", "with-hook"]  # type: ignore[attr-defined]
    requests = ports.queue.requests  # type: ignore[attr-defined]
    assert [r.tenant for r in requests] == ["with-hook", "with-hook"]
    assert [r.event_id for r in requests] == [ports.bus.events[0].id, ports.bus.events[2].id]  # type: ignore[attr-defined]
    assert requests[0].payload == ports.bus.events[0].to_json()  # type: ignore[attr-defined]
    assert ports.registry.reads == 2  # type: ignore[attr-defined]  # once per tenant per batch


def test_a_bus_failure_raises_before_any_delivery_is_queued(ports: RelayPorts) -> None:
    ports.bus.fail = True  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        relay(connection_change("with-hook"), ports)
    assert ports.queue.requests == []  # type: ignore[attr-defined]
