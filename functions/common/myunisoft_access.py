"""How every function reaches MyUnisoft: the third-party secret and the key's shared rate budget.

The API, the refresh worker and the upload worker build their MyUnisoft clients the same way; only
the retry policy and the timeout differ with what each can afford to wait.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from common.myunisoft_clients import BudgetedClients
from common.settings import MyUnisoftSettings
from tra_core.myunisoft.client import RetryPolicy


def budgeted_clients(
    settings: MyUnisoftSettings,
    *,
    dynamodb: Any,
    secrets: Any,
    retry: RetryPolicy,
    timeout: float | None = None,
    share: float = 1.0,
    max_wait_s: float | None = None,
) -> BudgetedClients:
    """MyUnisoft clients paced by the key's shared budget, with the third-party secret read from
    Secrets Manager and cached for ``THIRD_PARTY_SECRET_MAX_AGE_SECONDS`` (a rotation needs no deploy).

    ``share`` and ``max_wait_s`` (default ``RATE_LIMIT_MAX_WAIT_SECONDS``) let work of lower priority
    fill only part of the budget and give up sooner (``tra_core.store.ratebudget``)."""
    third_party = SecretsProvider(boto3_client=secrets)

    def third_party_secret() -> str:
        value = third_party.get(
            settings.THIRD_PARTY_SECRET_ID, max_age=settings.THIRD_PARTY_SECRET_MAX_AGE_SECONDS
        )
        return value if isinstance(value, str) else str(value)

    extra = {} if timeout is None else {"timeout": timeout}
    return BudgetedClients(
        base_url=settings.MYUNISOFT_BASE_URL,
        third_party_secret=third_party_secret,
        dynamodb=dynamodb,
        table_name=settings.TABLE_NAME,
        limit=settings.RATE_LIMIT_REQUESTS,
        window_s=settings.RATE_LIMIT_WINDOW_SECONDS,
        margin_s=settings.RATE_LIMIT_MARGIN_SECONDS,
        max_wait_s=settings.RATE_LIMIT_MAX_WAIT_SECONDS if max_wait_s is None else max_wait_s,
        retry=retry,
        share=share,
        **extra,
    )
