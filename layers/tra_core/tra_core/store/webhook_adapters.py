"""A tenant's webhook: its registration in the state table, its signing secrets in Secrets Manager.

| item    | PK                  | SK        | holds                                              |
|---------|---------------------|-----------|----------------------------------------------------|
| webhook | ``TENANT#<tenant>`` | ``WEBHOOK`` | url, created_at, secret_ref, secret_version      |

The secrets are never in the table: one Secrets Manager secret per registration, encrypted with the
stack's KMS key like the firm keys (``tra_core.store.secrets``), named ``<prefix><tenant hash>-<random>``
so a name is never reused after a deletion. ``secret_version`` is the Secrets Manager version the
registration uses: workers read exactly that version (and may keep it in memory, since a version
never changes), so a rotation is seen at once and never read half-propagated.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets as random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tra_core.store.dynamodb import from_item, item_without_keys, to_item
from tra_core.store.webhooks import WebhookRegistration
from tra_core.webhooks.signing import SigningSecrets

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


def webhook_key(tenant: str) -> dict[str, object]:
    return to_item({"PK": f"TENANT#{tenant}", "SK": "WEBHOOK"})


class DynamoDBWebhooks:
    """Registrations, keyed by tenant: a tenant only ever reads its own."""

    def __init__(self, client: DynamoDBClient, table_name: str):
        self._client = client
        self._table = table_name

    def get(self, tenant: str) -> WebhookRegistration | None:
        answer = self._client.get_item(TableName=self._table, Key=webhook_key(tenant), ConsistentRead=True)  # type: ignore[arg-type]
        item = answer.get("Item")
        return (
            None if item is None else WebhookRegistration.model_validate(item_without_keys(from_item(item)))
        )

    def save(self, registration: WebhookRegistration) -> None:
        values = registration.model_dump(mode="json")
        values.update(PK=f"TENANT#{registration.tenant}", SK="WEBHOOK", item_type="webhook")
        self._client.put_item(TableName=self._table, Item=to_item(values))

    def delete(self, tenant: str) -> None:
        self._client.delete_item(TableName=self._table, Key=webhook_key(tenant))  # type: ignore[arg-type]


class SecretsManagerWebhookSecrets:
    """The signing secrets of each registration, one Secrets Manager secret each."""

    def __init__(
        self,
        client: SecretsManagerClient,
        prefix: str,
        kms_key_id: str | None = None,
        *,
        cache_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._prefix = prefix
        self._kms_key_id = kms_key_id
        self._cache_s = cache_s
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[SigningSecrets, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretsManagerWebhookSecrets(prefix={self._prefix!r})"

    def create(self, tenant: str, signing: SigningSecrets) -> tuple[str, str]:
        """A new secret holding ``signing``: its name (``secret_ref``) and version."""
        digest = hashlib.sha256(tenant.encode("utf-8")).hexdigest()[:24]
        name = f"{self._prefix}{digest}-{random.token_hex(6)}"
        arguments: dict[str, str] = {
            "Name": name,
            "SecretString": signing.to_json(),
            "Description": "Webhook signing secrets of one bridge tenant",
        }
        if self._kms_key_id:
            arguments["KmsKeyId"] = self._kms_key_id
        answer = self._client.create_secret(**arguments)  # type: ignore[arg-type]
        return name, answer["VersionId"]

    def replace(self, secret_ref: str, signing: SigningSecrets) -> str:
        """Store ``signing`` as the secret's new version; that version's id."""
        answer = self._client.put_secret_value(SecretId=secret_ref, SecretString=signing.to_json())
        return answer["VersionId"]

    def load(self, secret_ref: str, version: str) -> SigningSecrets:
        """The secrets of ``secret_ref`` at ``version`` (the registration's)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get((secret_ref, version))
        if cached is not None and now < cached[1]:
            return cached[0]
        answer = self._client.get_secret_value(SecretId=secret_ref, VersionId=version)
        signing = SigningSecrets.from_json(answer["SecretString"])
        with self._lock:
            self._cache[(secret_ref, version)] = (signing, now + self._cache_s)
        return signing

    def destroy(self, secret_ref: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == secret_ref]:
                del self._cache[key]
        with contextlib.suppress(self._client.exceptions.ResourceNotFoundException):
            self._client.delete_secret(SecretId=secret_ref, ForceDeleteWithoutRecovery=True)
