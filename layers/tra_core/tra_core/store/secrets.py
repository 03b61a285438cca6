"""The firms' API keys in Secrets Manager: one secret per connection, encrypted with the stack's KMS key.

The secret's name is ``<prefix><connection id>``; the connection keeps that name (``secret_ref``)
and the key's fingerprint, never the key. Disconnecting deletes the secret without a recovery
window: nothing can be sent with that key afterwards.

Workers load the key of every message they handle; a warm Lambda keeps the keys it read for
``cache_s`` seconds, but serves one from memory only to a caller that names the fingerprint it
expects (the connection's): a replaced key is read again at once, never used stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from tra_core.store.errors import KeyNotFound
from tra_core.store.records import key_fingerprint

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class SecretsManagerKeyVault:
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
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretsManagerKeyVault(prefix={self._prefix!r})"

    def store(self, connection_id: str, api_key: str) -> str:
        name = f"{self._prefix}{connection_id}"
        with self._lock:
            self._cache.pop(name, None)
        try:
            self._client.put_secret_value(SecretId=name, SecretString=api_key)
            return name
        except ClientError as exc:
            code = _code(exc)
            if code == "InvalidRequestException":
                # Scheduled for deletion (a disconnection in progress): bring it back, then replace.
                self._client.restore_secret(SecretId=name)
                self._client.put_secret_value(SecretId=name, SecretString=api_key)
                return name
            if code != "ResourceNotFoundException":
                raise
        arguments: dict[str, str] = {
            "Name": name,
            "SecretString": api_key,
            "Description": "MyUnisoft firm key of one bridge connection",
        }
        if self._kms_key_id:
            arguments["KmsKeyId"] = self._kms_key_id
        self._client.create_secret(**arguments)  # type: ignore[arg-type]
        return name

    def load(self, secret_ref: str, fingerprint: str | None = None) -> str:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(secret_ref)
        # Only a caller that names the fingerprint it expects is served from the cache.
        if cached is not None and now < cached[1] and fingerprint == key_fingerprint(cached[0]):
            return cached[0]
        try:
            answer = self._client.get_secret_value(SecretId=secret_ref)
        except ClientError as exc:
            if _code(exc) in {"ResourceNotFoundException", "InvalidRequestException"}:
                raise KeyNotFound(f"No stored key under {secret_ref}") from None
            raise
        api_key = answer["SecretString"]
        with self._lock:
            self._cache[secret_ref] = (api_key, now + self._cache_s)
        return api_key

    def destroy(self, secret_ref: str) -> None:
        with self._lock:
            self._cache.pop(secret_ref, None)
        try:
            self._client.delete_secret(SecretId=secret_ref, ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
