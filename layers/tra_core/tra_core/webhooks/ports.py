"""What the webhook use cases need from the outside world, as protocols (fakes in unit tests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.signing import SigningSecrets
from tra_core.webhooks.urls import VettedUrl


class WebhookRegistry(Protocol):
    """The tenants' webhook registrations (``tra_core.store.webhooks.DynamoDBWebhooks``)."""

    def get(self, tenant: str) -> WebhookRegistration | None: ...

    def save(self, registration: WebhookRegistration) -> None: ...

    def delete(self, tenant: str) -> None: ...


class WebhookSecretStore(Protocol):
    """The registrations' signing secrets, encrypted (``SecretsManagerWebhookSecrets``)."""

    def create(self, tenant: str, signing: SigningSecrets) -> tuple[str, str]: ...

    def replace(self, secret_ref: str, signing: SigningSecrets) -> str: ...

    def load(self, secret_ref: str, version: str) -> SigningSecrets: ...

    def destroy(self, secret_ref: str) -> None: ...


class Resolver(Protocol):
    """``(host, port)`` → the addresses the name resolves to; ``OSError`` when it does not."""

    def __call__(self, host: str, port: int, /) -> Sequence[str]: ...


class NoAnswer(OSError):
    """The receiver gave no HTTP answer (refused, timed out, TLS failed); the message says which."""


class Poster(Protocol):
    """POSTs one signed delivery to a vetted URL; the answer's status code, or ``NoAnswer``."""

    def __call__(
        self, target: VettedUrl, body: str, headers: Mapping[str, str], *, timeout_s: float
    ) -> int: ...
