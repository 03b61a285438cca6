"""MyUnisoft clients whose requests draw on the key's shared DynamoDB budget.

Every Lambda that calls MyUnisoft (the API during onboarding, refresh and upload workers) opens its
clients here, so that together they stay under the key's limit (``ratebudget``). The budget is
named after the key's fingerprint: MyUnisoft counts per key, and a replaced key starts afresh.

The clients of one process share one HTTP transport (its TLS context and its connection pool):
building a TLS context costs tens of milliseconds, too much to pay for every queue message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from tra_core.myunisoft.client import MyUnisoftClient, RetryPolicy
from tra_core.store.ratebudget import DynamoDBRateBudget
from tra_core.store.records import key_fingerprint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class _SharedTransport(httpx.BaseTransport):
    """The process's transport, lent to each client: closing a client leaves it open."""

    def __init__(self, inner: httpx.BaseTransport):
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        return None


class BudgetedClients:
    """Opens :class:`MyUnisoftClient` instances paced by :class:`DynamoDBRateBudget`.

    ``third_party_secret`` is called for each client (the caller caches it, e.g. with a TTL), so
    a rotated secret is picked up without a redeploy. Budgets are kept per key for the life of
    the process: a warm Lambda reuses what it knows of the window.
    """

    def __init__(
        self,
        *,
        base_url: str,
        third_party_secret: Callable[[], str],
        dynamodb: DynamoDBClient,
        table_name: str,
        limit: int,
        window_s: float,
        margin_s: float,
        max_wait_s: float,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        share: float = 1.0,
    ):
        self._base_url = base_url
        self._secret = third_party_secret
        self._dynamodb = dynamodb
        self._table = table_name
        self._limit = limit
        self._window_s = window_s
        self._margin_s = margin_s
        self._max_wait_s = max_wait_s
        self._retry = retry
        self._timeout = timeout
        self._share = share
        self._budgets: dict[str, DynamoDBRateBudget] = {}
        self._lock = threading.Lock()
        self._transport = _SharedTransport(httpx.HTTPTransport())

    def __repr__(self) -> str:
        return f"BudgetedClients(base_url={self._base_url!r}, limit={self._limit}, window_s={self._window_s})"

    def budget(self, api_key: str) -> DynamoDBRateBudget:
        return self.budget_of(key_fingerprint(api_key))

    def budget_of(self, fingerprint: str) -> DynamoDBRateBudget:
        """The budget of the key with this fingerprint (MyUnisoft counts per key)."""
        with self._lock:
            budget = self._budgets.get(fingerprint)
            if budget is None:
                budget = DynamoDBRateBudget(
                    self._dynamodb,
                    self._table,
                    fingerprint,
                    limit=self._limit,
                    window_s=self._window_s,
                    margin_s=self._margin_s,
                    max_wait_s=self._max_wait_s,
                    share=self._share,
                )
                self._budgets[fingerprint] = budget
            return budget

    def wait_s(self, key_fingerprint: str) -> float:
        """Seconds before the budget of the key with this fingerprint has room for one more request
        (0: now); books nothing. The fingerprint is enough: no key needs to be read to ask."""
        return self.budget_of(key_fingerprint).wait_s()

    def reserve(self, key_fingerprint: str, max_wait_s: float) -> float:
        """Book the calling thread's next request on the key if its budget has room within
        ``max_wait_s`` (0.0), else the wait, booking nothing (``DynamoDBRateBudget.reserve``)."""
        return self.budget_of(key_fingerprint).reserve(max_wait_s)

    def open(self, api_key: str) -> MyUnisoftClient:
        return MyUnisoftClient(
            self._base_url,
            self._secret(),
            api_key,
            transport=self._transport,
            rate_limiter=self.budget(api_key),
            retry=self._retry,
            timeout=self._timeout,
        )
