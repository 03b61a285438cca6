"""Builds the verification worker's ports from its settings, once per Lambda container."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import boto3

from common.myunisoft_access import budgeted_clients
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.dynamodb import DynamoDBConnections
from tra_core.store.dynamodb_claims import DynamoDBClaims
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.queues import SqsQueue
from tra_core.store.secrets import SecretsManagerKeyVault
from verify.ports import VerifyPolicy, VerifyPorts
from verify.settings import VerifySettings, get_settings

#: A read-back is retried by the queue (a later check), never by waiting inside the invocation.
READ_RETRY = RetryPolicy(max_attempts=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


def get_ports() -> VerifyPorts:
    """The ports for the current settings (built once per distinct configuration)."""
    return _ports(get_settings())


@lru_cache(maxsize=4)
def _ports(settings: VerifySettings) -> VerifyPorts:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets = session.client("secretsmanager")
    return VerifyPorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        vault=SecretsManagerKeyVault(secrets, settings.KEY_SECRET_PREFIX),
        entries=DynamoDBEntries(dynamodb, settings.TABLE_NAME),
        ids=DynamoDBClaims(dynamodb, settings.TABLE_NAME),
        queue=SqsQueue(session.client("sqs"), settings.VERIFY_QUEUE_URL, kind="verification"),
        readers=budgeted_clients(
            settings,
            dynamodb=dynamodb,
            secrets=secrets,
            retry=READ_RETRY,
            share=settings.VERIFY_BUDGET_SHARE,
            max_wait_s=settings.VERIFY_BUDGET_MAX_WAIT_SECONDS,
        ),
        clock=utc_now,
        policy=VerifyPolicy(
            max_checks=settings.VERIFY_MAX_CHECKS, interval_s=settings.VERIFY_INTERVAL_SECONDS
        ),
    )


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    _ports.cache_clear()
    get_settings.cache_clear()
