"""The API's one composition root for ports: builds them from its settings (never at import).

Ports are built once per distinct configuration (tests change the environment between cases) and
reused by warm invocations. Routes reach them through this module's attributes, so tests can put fakes in.
"""

from __future__ import annotations

from functools import lru_cache

import boto3

from api.connections import ApiPorts
from api.entries import IntakePorts
from api.settings import ApiSettings, IntakeSettings, WebhookSettings, get_settings
from api.webhooks import WebhookPorts
from common.clock import utc_now
from common.myunisoft_access import budgeted_clients
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.backlog import DynamoDBBacklog
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.dynamodb_claims import DynamoDBClaims
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.queues import SqsQueue
from tra_core.store.s3_objects import S3Documents
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots
from tra_core.store.webhook_adapters import DynamoDBWebhooks, SecretsManagerWebhookSecrets
from tra_core.webhooks.resolver import system_resolver

#: An API call must answer within API Gateway's 30 s, so MyUnisoft retries stop well before.
API_RETRY = RetryPolicy(max_attempts=3, max_total_s=10.0)


def get_ports() -> ApiPorts:
    """The connection and file routes' ports."""
    return _api_ports(get_settings())


@lru_cache(maxsize=1)
def _api_ports(settings: ApiSettings) -> ApiPorts:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets = session.client("secretsmanager")
    return ApiPorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=S3Snapshots(session.client("s3"), settings.BUCKET_NAME),
        vault=SecretsManagerKeyVault(secrets, settings.KEY_SECRET_PREFIX, settings.KEY_KMS_KEY_ID),
        queue=SqsQueue(session.client("sqs"), settings.REFRESH_QUEUE_URL, kind="refresh"),
        clients=budgeted_clients(settings, dynamodb=dynamodb, secrets=secrets, retry=API_RETRY, timeout=10.0),
        clock=utc_now,
        ids=DynamoDBClaims(dynamodb, settings.TABLE_NAME),
    )


def get_intake_ports() -> IntakePorts:
    """The entry and attachment routes' ports, for the current environment."""
    return _intake_ports(IntakeSettings.from_environment())


@lru_cache(maxsize=4)
def _intake_ports(settings: IntakeSettings) -> IntakePorts:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    s3 = session.client("s3")
    return IntakePorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=S3Snapshots(s3, settings.BUCKET_NAME),
        entries=DynamoDBEntries(dynamodb, settings.TABLE_NAME),
        documents=S3Documents(s3, settings.ATTACHMENTS_BUCKET_NAME),
        queue=SqsQueue(session.client("sqs"), settings.UPLOAD_QUEUE_URL, kind="upload"),
        clock=utc_now,
        upload_url_expires_s=settings.UPLOAD_URL_EXPIRES_SECONDS,
        pacing=DynamoDBBacklog(
            dynamodb,
            settings.TABLE_NAME,
            entries_per_s=settings.RATE_LIMIT_REQUESTS
            / settings.RATE_LIMIT_WINDOW_SECONDS
            * settings.UPLOAD_BATCH_MAX_ENTRIES,
            window_s=settings.RATE_LIMIT_WINDOW_SECONDS,
        ),
    )


def get_webhook_ports() -> WebhookPorts:
    """The webhook routes' ports, for the current environment."""
    return _webhook_ports(WebhookSettings.from_environment())


@lru_cache(maxsize=4)
def _webhook_ports(settings: WebhookSettings) -> WebhookPorts:
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


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    _api_ports.cache_clear()
    _intake_ports.cache_clear()
    _webhook_ports.cache_clear()
    get_settings.cache_clear()
