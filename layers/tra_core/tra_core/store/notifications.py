"""The message of the webhook delivery queue, as queued (no AWS client: adapters are in
``notification_adapters``; docs/architecture.md §9)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PublishFailed(RuntimeError):
    """Some events or messages were not accepted (the caller retries them all)."""


class DeliveryRequest(BaseModel):
    """One message of the delivery queue: one event for one tenant's webhook.

    ``payload`` is the event's JSON exactly as every attempt POSTs it; ``enqueued_at`` is when the
    first attempt became possible (the retry window counts from it).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant: str
    event_id: str
    event_type: str
    payload: str
    enqueued_at: datetime
