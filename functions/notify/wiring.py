"""Builds the notification functions' ports from their settings (never at import)."""

from __future__ import annotations

from functools import lru_cache

import boto3

from common.clock import utc_now
from notify.deliver import DeliveryPorts, RetryPolicy
from notify.relay import RelayPorts
from notify.settings import DeliverySettings, RelaySettings
from tra_core.store.notification_adapters import EventBridgeBus, SqsDeliveryQueue
from tra_core.store.webhook_adapters import DynamoDBWebhooks, SecretsManagerWebhookSecrets
from tra_core.webhooks.http import post_event
from tra_core.webhooks.resolver import system_resolver


def relay_ports() -> RelayPorts:
    """Fresh per invocation (which tenants have a webhook is read once per stream batch)."""
    clients = _relay_clients(RelaySettings.from_environment())
    return RelayPorts(bus=clients[0], queue=clients[1], registry=clients[2], clock=utc_now)


@lru_cache(maxsize=4)
def _relay_clients(settings: RelaySettings) -> tuple[EventBridgeBus, SqsDeliveryQueue, DynamoDBWebhooks]:
    session = boto3.session.Session()
    return (
        EventBridgeBus(session.client("events"), settings.EVENT_BUS_NAME),
        SqsDeliveryQueue(session.client("sqs"), settings.WEBHOOK_QUEUE_URL),
        DynamoDBWebhooks(session.client("dynamodb"), settings.TABLE_NAME),
    )


def delivery_ports() -> DeliveryPorts:
    return _delivery_ports(DeliverySettings.from_environment())


@lru_cache(maxsize=4)
def _delivery_ports(settings: DeliverySettings) -> DeliveryPorts:
    session = boto3.session.Session()
    sqs = session.client("sqs")
    return DeliveryPorts(
        registry=DynamoDBWebhooks(session.client("dynamodb"), settings.TABLE_NAME),
        secrets=SecretsManagerWebhookSecrets(
            session.client("secretsmanager"), settings.WEBHOOK_SECRET_PREFIX
        ),
        queue=SqsDeliveryQueue(sqs, settings.WEBHOOK_QUEUE_URL, settings.WEBHOOK_DEAD_LETTER_QUEUE_URL),
        resolve=system_resolver,
        post=post_event,
        clock=utc_now,
        policy=RetryPolicy(
            base_s=settings.WEBHOOK_RETRY_BASE_SECONDS,
            max_s=settings.WEBHOOK_RETRY_MAX_SECONDS,
            retry_for_s=settings.WEBHOOK_RETRY_FOR_SECONDS,
        ),
        timeout_s=settings.WEBHOOK_TIMEOUT_SECONDS,
        allow_loopback_http=settings.WEBHOOK_ALLOW_LOOPBACK_HTTP,
    )


def reset() -> None:
    """Forget cached clients (tests change the environment between cases)."""
    _relay_clients.cache_clear()
    _delivery_ports.cache_clear()
