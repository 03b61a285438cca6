"""Builds the upload worker's ports from its settings, once per Lambda container (never at import)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

import boto3

from common.clock import utc_now
from common.myunisoft_access import budgeted_clients
from tra_core.myunisoft.client import RetryPolicy
from tra_core.store.dynamodb import DynamoDBConnections, DynamoDBFiles
from tra_core.store.dynamodb_batches import DynamoDBBatches
from tra_core.store.dynamodb_claims import DynamoDBClaims
from tra_core.store.dynamodb_entries import DynamoDBEntries
from tra_core.store.ports import SnapshotStore
from tra_core.store.queues import SqsQueue
from tra_core.store.records import ReferenceSnapshot
from tra_core.store.s3_objects import S3Archives, S3Documents
from tra_core.store.secrets import SecretsManagerKeyVault
from tra_core.store.snapshots import S3Snapshots
from upload.ports import UploadPolicy, UploadPorts
from upload.settings import UploadSettings, get_settings

#: One HTTP attempt per upload: the worker retries through the queue, counting every attempt.
UPLOAD_RETRY = RetryPolicy(max_attempts=1)
#: Account creation is find-or-create (assumption A12): a few quick tries, each drawn on the budget.
ACCOUNT_RETRY = RetryPolicy(max_attempts=3, max_total_s=20.0)
#: The MyUnisoft client's timeout for an upload (``MyUnisoftClient(upload_timeout=...)`` default).
UPLOAD_TIMEOUT_S = 120.0


class CachedSnapshots:
    """Reference snapshots never change once written: a warm worker keeps the last few it read."""

    def __init__(self, store: SnapshotStore, size: int = 32):
        self._store = store
        self._size = size
        self._items: OrderedDict[tuple[str, int, int], ReferenceSnapshot] = OrderedDict()
        self._lock = threading.Lock()

    def save(self, snapshot: ReferenceSnapshot) -> str:
        return self._store.save(snapshot)

    def load(self, connection_id: str, society_id: int, version: int) -> ReferenceSnapshot | None:
        key = (connection_id, society_id, version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        snapshot = self._store.load(connection_id, society_id, version)
        if snapshot is not None:
            with self._lock:
                self._items[key] = snapshot
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return snapshot


def get_ports() -> UploadPorts:
    """The ports for the current settings (built once per distinct configuration)."""
    return _ports(get_settings())


@lru_cache(maxsize=4)
def _ports(settings: UploadSettings) -> UploadPorts:
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets = session.client("secretsmanager")
    s3 = session.client("s3")
    wait = settings.UPLOAD_BUDGET_WAIT_SECONDS
    clients = budgeted_clients(
        settings, dynamodb=dynamodb, secrets=secrets, retry=UPLOAD_RETRY, max_wait_s=wait
    )
    verifying = bool(settings.VERIFY_QUEUE_URL)
    return UploadPorts(
        connections=DynamoDBConnections(dynamodb, settings.TABLE_NAME),
        files=DynamoDBFiles(dynamodb, settings.TABLE_NAME),
        snapshots=CachedSnapshots(S3Snapshots(s3, settings.BUCKET_NAME)),
        vault=SecretsManagerKeyVault(secrets, settings.KEY_SECRET_PREFIX),
        entries=DynamoDBEntries(dynamodb, settings.TABLE_NAME),
        batches=DynamoDBBatches(dynamodb, settings.TABLE_NAME),
        archives=S3Archives(s3, settings.ATTACHMENTS_BUCKET_NAME),
        documents=S3Documents(s3, settings.ATTACHMENTS_BUCKET_NAME),
        queue=SqsQueue(
            session.client("sqs"),
            settings.UPLOAD_QUEUE_URL,
            settings.UPLOAD_DEAD_LETTER_QUEUE_URL,
            kind="upload",
        ),
        uploaders=clients,
        accounts=budgeted_clients(
            settings, dynamodb=dynamodb, secrets=secrets, retry=ACCOUNT_RETRY, max_wait_s=wait
        ),
        clock=utc_now,
        policy=UploadPolicy(
            max_attempts=settings.UPLOAD_MAX_ATTEMPTS,
            retry_base_s=settings.UPLOAD_RETRY_BASE_SECONDS,
            retry_max_s=settings.UPLOAD_RETRY_MAX_SECONDS,
            lease_s=settings.UPLOAD_LEASE_SECONDS,
            batch_max_entries=settings.UPLOAD_BATCH_MAX_ENTRIES,
            batch_max_bytes=settings.UPLOAD_BATCH_MAX_BYTES,
            # The longest wait for the key's budget, the client's upload timeout, and some slack.
            send_reserve_s=wait + UPLOAD_TIMEOUT_S + 10.0,
            budget_wait_s=wait,
            verify_delay_s=settings.VERIFY_DELAY_SECONDS,
        ),
        verifications=(
            SqsQueue(session.client("sqs"), settings.VERIFY_QUEUE_URL, kind="verification")
            if verifying
            else None
        ),
        exports=clients if verifying else None,
        ids=DynamoDBClaims(dynamodb, settings.TABLE_NAME) if verifying else None,
    )


def reset() -> None:
    """Forget the cached settings and clients (tests change the environment between cases)."""
    _ports.cache_clear()
    get_settings.cache_clear()
