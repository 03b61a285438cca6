"""In-memory fakes of the webhook ports (``tra_core.webhooks.ports``) for unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tra_core.domain.events import Event
from tra_core.store.notifications import DeliveryRequest
from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.ports import NoAnswer
from tra_core.webhooks.signing import SigningSecrets
from tra_core.webhooks.urls import VettedUrl


class InMemoryRegistry:
    def __init__(self) -> None:
        self.items: dict[str, WebhookRegistration] = {}
        self.reads = 0

    def get(self, tenant: str) -> WebhookRegistration | None:
        self.reads += 1
        return self.items.get(tenant)

    def save(self, registration: WebhookRegistration) -> None:
        self.items[registration.tenant] = registration

    def delete(self, tenant: str) -> None:
        self.items.pop(tenant, None)


class InMemorySecrets:
    """Versions of each secret, as Secrets Manager keeps them."""

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, SigningSecrets]] = {}

    def create(self, tenant: str, signing: SigningSecrets) -> tuple[str, str]:
        name = f"webhooks/{tenant}-{uuid.uuid4().hex[:6]}"
        self.versions[name] = {}
        return name, self.replace(name, signing)

    def replace(self, secret_ref: str, signing: SigningSecrets) -> str:
        version = uuid.uuid4().hex
        self.versions[secret_ref][version] = signing
        return version

    def load(self, secret_ref: str, version: str) -> SigningSecrets:
        return self.versions[secret_ref][version]

    def destroy(self, secret_ref: str) -> None:
        self.versions.pop(secret_ref, None)


@dataclass
class Resolver:
    """Names → addresses, never the network."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"unknown host {host}")
        return self.answers[host]


@dataclass
class Poster:
    """Answers each POST with the next status of ``statuses`` (an int) or ``None`` (no answer)."""

    statuses: list[int | None] = field(default_factory=lambda: [200])
    posts: list[tuple[VettedUrl, str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, target: VettedUrl, body: str, headers: Mapping[str, str], *, timeout_s: float) -> int:
        self.posts.append((target, body, dict(headers)))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if status is None:
            raise NoAnswer(f"no answer from {target.host}: ConnectTimeout")
        return status


@dataclass
class RetryQueue:
    retries: list[tuple[str, int]] = field(default_factory=list)
    dead: list[tuple[str, str]] = field(default_factory=list)

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        self.retries.append((receipt_handle, delay_s))

    def dead_letter(self, body: str, reason: str) -> None:
        self.dead.append((body, reason))


@dataclass
class Bus:
    events: list[Event] = field(default_factory=list)
    fail: bool = False

    def put(self, events: Sequence[Event]) -> None:
        if self.fail:
            raise RuntimeError("EventBridge unavailable")
        self.events.extend(events)


@dataclass
class DeliveryQueue:
    requests: list[DeliveryRequest] = field(default_factory=list)

    def send(self, requests: Sequence[DeliveryRequest]) -> None:
        self.requests.extend(requests)


class Clock:
    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
