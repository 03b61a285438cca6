"""The stream consumer's use case: one committed item change → its events → the bus and the webhooks.

Every event goes to the stack's EventBridge bus; an event of a tenant with a webhook also becomes
one delivery message (one per event: a tenant has one endpoint, and only its own events are
queued for it). Anything not stored raises, so the stream hands the change again; the events'
ids come from the change, so a second pass sends the same ids (receivers de-duplicate on them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tra_core.domain.events import Event, ItemChange, events_of
from tra_core.store.notifications import DeliveryRequest
from tra_core.webhooks.ports import WebhookRegistry


class EventBus(Protocol):
    def put(self, events: Sequence[Event]) -> None: ...


class DeliveryQueue(Protocol):
    def send(self, requests: Sequence[DeliveryRequest]) -> None: ...


@dataclass
class RelayPorts:
    bus: EventBus
    queue: DeliveryQueue
    registry: WebhookRegistry
    clock: Callable[[], datetime]
    #: Which tenants have a webhook, read once per invocation (a stream batch).
    known: dict[str, bool] = field(default_factory=dict)

    def has_webhook(self, tenant: str) -> bool:
        if tenant not in self.known:
            self.known[tenant] = self.registry.get(tenant) is not None
        return self.known[tenant]


def relay(change: ItemChange, ports: RelayPorts) -> list[Event]:
    """Publish the events of ``change``; the events published."""
    events = events_of(change)
    if not events:
        return []
    ports.bus.put(events)
    now = ports.clock()
    deliveries = [
        DeliveryRequest(
            tenant=event.tenant,
            event_id=event.id,
            event_type=event.type.value,
            payload=event.to_json(),
            enqueued_at=now,
        )
        for event in events
        if ports.has_webhook(event.tenant)
    ]
    if deliveries:
        ports.queue.send(deliveries)
    return events
