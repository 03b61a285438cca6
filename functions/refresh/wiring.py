"""Builds the refresh functions' ports from their settings, once per Lambda container (never at import)."""

from __future__ import annotations

from functools import lru_cache

import boto3

from common.clock import utc_now
from common.myunisoft_access import budgeted_clients
from refresh.settings import get_settings
from refresh.use_cases import RefreshPorts
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.queues import SqsQueue
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots

#: A worker gives a failing call a few tries; after that the message itself is retried by SQS.
WORKER_RETRY = RetryPolicy(max_attempts=4, max_total_s=60.0)


@lru_cache(maxsize=1)
def get_ports() -> RefreshPorts:
    settings = get_settings()
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets = session.client("secretsmanager")
    sqs = session.client("sqs")
    return RefreshPorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=S3Snapshots(session.client("s3"), settings.BUCKET_NAME),
        vault=SecretsManagerKeyVault(secrets, settings.KEY_SECRET_PREFIX),
        queue=SqsQueue(sqs, settings.REFRESH_QUEUE_URL, kind="refresh"),
        clients=budgeted_clients(settings, dynamodb=dynamodb, secrets=secrets, retry=WORKER_RETRY),
        entries=DynamoDBEntries(dynamodb, settings.TABLE_NAME),
        uploads=SqsQueue(sqs, settings.UPLOAD_QUEUE_URL, kind="upload"),
        clock=utc_now,
        budget_wait_s=settings.REFRESH_BUDGET_WAIT_SECONDS,
    )


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    get_ports.cache_clear()
    get_settings.cache_clear()
