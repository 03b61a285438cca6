"""The delivery worker's use case: POST one signed event to its tenant's webhook, or plan the retry.

A delivery is done when the receiver answers 2xx within the timeout. Otherwise it comes back after
a backoff (``base`` seconds, doubling at each attempt, capped) for as long as the retry window
(counted from the first possible attempt) lasts, then goes to the dead-letter queue. The event's
JSON and its ``webhook-id`` are the same on every attempt; the timestamp and signatures are those
of the attempt. The URL is checked again before each attempt and the request goes to the address
the check approved. The registration is read at each attempt: a deleted webhook gets nothing
more, a replaced URL gets the events still queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError

from tra_core.store.notifications import DeliveryRequest
from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.ports import NoAnswer, Poster, Resolver, WebhookRegistry, WebhookSecretStore
from tra_core.webhooks.signing import signature_headers
from tra_core.webhooks.urls import WebhookUrlRefused, vet_url


class RetryQueue(Protocol):
    def retry_later(self, receipt_handle: str, delay_s: int) -> None: ...

    def dead_letter(self, body: str, reason: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    base_s: int = 30
    max_s: int = 3_600
    retry_for_s: int = 93_600

    def delay(self, attempt: int) -> int:
        """Seconds before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        return int(min(self.base_s * 2 ** min(max(attempt - 1, 0), 30), self.max_s))


@dataclass(frozen=True)
class DeliveryPorts:
    registry: WebhookRegistry
    secrets: WebhookSecretStore
    queue: RetryQueue
    resolve: Resolver
    post: Poster
    clock: Callable[[], datetime]
    policy: RetryPolicy = RetryPolicy()
    timeout_s: float = 10.0
    allow_loopback_http: bool = False


@dataclass(frozen=True)
class Message:
    """One received message: its body, its receipt and how many times it was received."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


class Outcome(StrEnum):
    DELIVERED = "delivered"
    NO_WEBHOOK = "no_webhook"
    RETRYING = "retrying"
    DEAD_LETTERED = "dead_lettered"


def attempt(request: DeliveryRequest, registration: WebhookRegistration, ports: DeliveryPorts) -> str | None:
    """One attempt; ``None`` when delivered, else why not (a sentence without secrets)."""
    try:
        target = vet_url(registration.url, ports.resolve, allow_loopback_http=ports.allow_loopback_http)
    except WebhookUrlRefused as exc:
        return exc.message
    signing = ports.secrets.load(registration.secret_ref, registration.secret_version)
    now = ports.clock()
    headers = signature_headers(request.event_id, request.payload, signing.in_force(now), now)
    try:
        status = ports.post(target, request.payload, headers, timeout_s=ports.timeout_s)
    except NoAnswer as exc:
        return str(exc)
    return None if 200 <= status < 300 else f"the receiver answered HTTP {status}"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    failure: str | None = None


def deliver(message: Message, ports: DeliveryPorts) -> Result:
    """Deliver ``message`` or plan its next attempt (see the module docstring)."""
    try:
        request = DeliveryRequest.model_validate_json(message.body)
    except ValidationError:
        ports.queue.dead_letter(message.body, "unreadable delivery message")
        return Result(Outcome.DEAD_LETTERED, "unreadable delivery message")
    registration = ports.registry.get(request.tenant)
    if registration is None:
        return Result(Outcome.NO_WEBHOOK)
    failure = attempt(request, registration, ports)
    if failure is None:
        return Result(Outcome.DELIVERED)
    waited = (ports.clock() - request.enqueued_at).total_seconds()
    if waited >= ports.policy.retry_for_s:
        ports.queue.dead_letter(message.body, failure)
        return Result(Outcome.DEAD_LETTERED, failure)
    ports.queue.retry_later(message.receipt_handle, ports.policy.delay(message.receive_count))
    return Result(Outcome.RETRYING, failure)
