"""Builds the API's ports from its settings, once per Lambda container (never at import)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import boto3

from api.connections import ApiPorts
from api.settings import get_settings
from common.myunisoft_access import budgeted_clients
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.queues import SqsQueue
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots

#: An API call must answer within API Gateway's 30 s, so MyUnisoft retries stop well before.
API_RETRY = RetryPolicy(max_attempts=3, max_total_s=10.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def get_ports() -> ApiPorts:
    settings = get_settings()
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
    )


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    get_ports.cache_clear()
    get_settings.cache_clear()
