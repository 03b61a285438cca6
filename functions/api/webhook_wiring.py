"""The webhook routes' settings and ports, built from the environment (never at import)."""

from __future__ import annotations

from functools import lru_cache

import boto3

from api.webhooks import WebhookPorts
from common.clock import utc_now
from common.settings import FunctionSettings, NonEmpty
from tra_core.store.webhooks import DynamoDBWebhooks, SecretsManagerWebhookSecrets
from tra_core.webhooks.resolver import system_resolver


class WebhookSettings(FunctionSettings):
    """Where registrations and their secrets are kept; whether ``http://127.0.0.1`` is allowed."""

    WEBHOOK_SECRET_PREFIX: NonEmpty
    KEY_KMS_KEY_ID: str | None = None
    #: Only the local stack sets it: lets a receiver on ``http://127.0.0.1:PORT`` be registered.
    WEBHOOK_ALLOW_LOOPBACK_HTTP: bool = False


def get_webhook_ports() -> WebhookPorts:
    """The ports for the current environment (built once per distinct configuration)."""
    return _ports(WebhookSettings.from_environment())


@lru_cache(maxsize=4)
def _ports(settings: WebhookSettings) -> WebhookPorts:
    session = boto3.session.Session()
    return WebhookPorts(
        registry=DynamoDBWebhooks(session.client("dynamodb"), settings.TABLE_NAME),
        secrets=SecretsManagerWebhookSecrets(
            session.client("secretsmanager"), settings.WEBHOOK_SECRET_PREFIX, settings.KEY_KMS_KEY_ID
        ),
        resolve=system_resolver,
        clock=utc_now,
        allow_loopback_http=settings.WEBHOOK_ALLOW_LOOPBACK_HTTP,
    )
