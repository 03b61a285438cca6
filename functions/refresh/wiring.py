"""Builds the refresh functions' ports from their settings, once per Lambda container (never at import)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from refresh.settings import get_settings
from refresh.use_cases import RefreshPorts
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.clients import BudgetedClients
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.queues import SqsRefreshQueue
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots

#: A worker gives a failing call a few tries; after that the message itself is retried by SQS.
WORKER_RETRY = RetryPolicy(max_attempts=4, max_total_s=60.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1)
def get_ports() -> RefreshPorts:
    settings = get_settings()
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets = session.client("secretsmanager")
    third_party = SecretsProvider(boto3_client=secrets)

    def third_party_secret() -> str:
        value = third_party.get(
            settings.THIRD_PARTY_SECRET_ID, max_age=settings.THIRD_PARTY_SECRET_MAX_AGE_SECONDS
        )
        return value if isinstance(value, str) else str(value)

    return RefreshPorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=S3Snapshots(session.client("s3"), settings.BUCKET_NAME),
        vault=SecretsManagerKeyVault(secrets, settings.KEY_SECRET_PREFIX),
        queue=SqsRefreshQueue(session.client("sqs"), settings.REFRESH_QUEUE_URL),
        clients=BudgetedClients(
            base_url=settings.MYUNISOFT_BASE_URL,
            third_party_secret=third_party_secret,
            dynamodb=dynamodb,
            table_name=settings.TABLE_NAME,
            limit=settings.RATE_LIMIT_REQUESTS,
            window_s=settings.RATE_LIMIT_WINDOW_SECONDS,
            margin_s=settings.RATE_LIMIT_MARGIN_SECONDS,
            max_wait_s=settings.RATE_LIMIT_MAX_WAIT_SECONDS,
            retry=WORKER_RETRY,
        ),
        clock=utc_now,
    )


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    get_ports.cache_clear()
    get_settings.cache_clear()
