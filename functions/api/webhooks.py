"""A tenant's webhook: register it, read it, rotate its secret, remove it (docs/architecture.md §9).

The URL is checked before anything is stored (``tra_core.webhooks.urls``). The signing secret is
shown once, in the answer of the call that creates it; it is stored encrypted, never in the table,
never logged. Registering again replaces the URL and issues a new secret, keeping the previous one
in force for the rotation overlap (24 hours), exactly like a rotation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from api.errors import NotFound
from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.ports import Resolver, WebhookRegistry, WebhookSecretStore
from tra_core.webhooks.signing import SigningSecrets, new_secret
from tra_core.webhooks.urls import vet_url


@dataclass(frozen=True)
class WebhookPorts:
    registry: WebhookRegistry
    secrets: WebhookSecretStore
    resolve: Resolver
    clock: Callable[[], datetime]
    allow_loopback_http: bool = False


@dataclass(frozen=True)
class Issued:
    """A registration and the secret just issued for it (to be shown once)."""

    registration: WebhookRegistration
    secret: str

    def __repr__(self) -> str:
        return f"Issued(registration={self.registration!r})"


def _no_webhook() -> NotFound:
    return NotFound("No webhook is registered for this tenant.", code="WEBHOOK_NOT_FOUND")


def register(tenant: str, url: str, ports: WebhookPorts) -> Issued:
    """Check ``url``, then store it with a new secret (``WebhookUrlRefused`` when it may not be used)."""
    vet_url(url, ports.resolve, allow_loopback_http=ports.allow_loopback_http)
    now, secret = ports.clock(), new_secret()
    existing = ports.registry.get(tenant)
    if existing is None:
        secret_ref, version = ports.secrets.create(tenant, SigningSecrets(current=secret))
        created_at = now
    else:
        secret_ref, created_at = existing.secret_ref, existing.created_at
        signing = ports.secrets.load(existing.secret_ref, existing.secret_version).rotated(secret, now)
        version = ports.secrets.replace(secret_ref, signing)
    registration = WebhookRegistration(
        tenant=tenant,
        url=url,
        created_at=created_at,
        updated_at=now,
        secret_ref=secret_ref,
        secret_version=version,
    )
    ports.registry.save(registration)
    return Issued(registration, secret)


def read(tenant: str, ports: WebhookPorts) -> WebhookRegistration:
    registration = ports.registry.get(tenant)
    if registration is None:
        raise _no_webhook()
    return registration


def rotate(tenant: str, ports: WebhookPorts) -> Issued:
    """A new secret; the previous one stays in force for the overlap (both sign every delivery)."""
    registration = read(tenant, ports)
    now, secret = ports.clock(), new_secret()
    signing = ports.secrets.load(registration.secret_ref, registration.secret_version).rotated(secret, now)
    version = ports.secrets.replace(registration.secret_ref, signing)
    rotated = registration.model_copy(update={"secret_version": version, "updated_at": now})
    ports.registry.save(rotated)
    return Issued(rotated, secret)


def remove(tenant: str, ports: WebhookPorts) -> None:
    """Forget the registration first (nothing more is delivered), then destroy its secret."""
    registration = ports.registry.get(tenant)
    if registration is None:
        return
    ports.registry.delete(tenant)
    ports.secrets.destroy(registration.secret_ref)
